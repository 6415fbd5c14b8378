"""What the simulator's contract tests share besides tests/support.py: raw HTTP to Nomad.

The contract tests talk to the simulator the way any Nomad client would: raw HTTP over
loopback, paths sent byte for byte as written (already percent-encoded), answers kept whole
(status, headers, body) so a test can pin any of them. Nothing here knows the simulator's code.
The `http` fixture (tests/sim/conftest.py) is a `NomadHttp` on the test's simulator.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import urlencode, urlsplit

import aiohttp
import nomad
from multidict import CIMultiDictProxy
from yarl import URL

from tests.support import wait_until

CLIENT_TIMEOUT_S = 10.0
ENFORCE_PREFIX = "Enforcing job modify index"


@dataclasses.dataclass(frozen=True)
class Answer:
    """One HTTP answer, read to the end."""

    status: int
    headers: CIMultiDictProxy[str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode()

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def index(self) -> int:
        return int(self.headers["X-Nomad-Index"])


class NomadHttp:
    """Raw HTTP against a Nomad API base URL; `path` is sent exactly as given."""

    def __init__(self, session: aiohttp.ClientSession, base_url: str) -> None:
        self.session = session
        self.base_url = base_url.rstrip("/")

    def url(self, path: str, params: dict[str, str] | None = None) -> URL:
        target = self.base_url + path
        if params:
            target += "?" + urlencode(params)
        return URL(target, encoded=True)

    async def call(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        data: bytes | None = None,
        params: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Answer:
        payload = data if body is None else json.dumps(body).encode()
        async with self.session.request(
            method, self.url(path, params), data=payload, headers=headers
        ) as resp:
            return Answer(resp.status, resp.headers, await resp.read())

    async def get(self, path: str, **kwargs: Any) -> Answer:
        return await self.call("GET", path, **kwargs)

    async def put(self, path: str, **kwargs: Any) -> Answer:
        return await self.call("PUT", path, **kwargs)

    async def post(self, path: str, **kwargs: Any) -> Answer:
        return await self.call("POST", path, **kwargs)

    async def delete(self, path: str, **kwargs: Any) -> Answer:
        return await self.call("DELETE", path, **kwargs)


@asynccontextmanager
async def nomad_http(base_url: str) -> AsyncIterator[NomadHttp]:
    """A client session for one test, closed afterwards."""
    timeout = aiohttp.ClientTimeout(total=CLIENT_TIMEOUT_S)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        yield NomadHttp(session, base_url)


def python_nomad(url: str, **options: Any) -> nomad.Nomad:
    """python-nomad on the simulator at `url` (as `host` and `port`, as its users write it)."""
    parts = urlsplit(url)
    return nomad.Nomad(host=parts.hostname, port=parts.port, timeout=CLIENT_TIMEOUT_S, **options)


def config_with(config: Any, **changes: Any) -> Any:
    """The conftest's (fast) simulator config with some fields changed."""
    if hasattr(config, "model_copy"):
        return config.model_copy(update=changes)
    return dataclasses.replace(config, **changes)


async def register(
    http: NomadHttp, job: dict[str, Any], *, params: dict[str, str] | None = None, **extra: Any
) -> dict[str, Any]:
    """PUT /v1/jobs and return the (200) answer's body."""
    answer = await http.put("/v1/jobs", body={"Job": job, **extra}, params=params)
    assert answer.status == 200, answer.text
    result: dict[str, Any] = answer.json()
    return result


async def read_job(http: NomadHttp, job_id: str) -> dict[str, Any]:
    """GET /v1/job/:id (id already encoded) and return the (200) job."""
    answer = await http.get(f"/v1/job/{job_id}")
    assert answer.status == 200, answer.text
    result: dict[str, Any] = answer.json()
    return result


async def wait_for_summary(
    http: NomadHttp, job_id: str, group: str, **expected: int
) -> dict[str, Any]:
    """Wait until the group's summary counters have the expected values; return them."""

    async def probe() -> dict[str, Any] | None:
        answer = await http.get(f"/v1/job/{job_id}/summary")
        counters: dict[str, Any] = answer.json()["Summary"][group]
        matches = all(counters.get(k, 0) == v for k, v in expected.items())
        return counters if matches else None

    return await wait_until(probe, what=f"{job_id}/{group} summary {expected}")
