"""Shared helpers for the simulator's contract tests (this module holds no tests).

The contract tests talk to the simulator the way any Nomad client would: raw HTTP over
loopback, paths sent byte for byte as written (already percent-encoded), answers kept whole
(status, headers, body) so a test can pin any of them. Nothing here knows the simulator's code.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar
from urllib.parse import urlencode

import aiohttp
from multidict import CIMultiDictProxy
from yarl import URL

T = TypeVar("T")

WAIT_TIMEOUT_S = 5.0
POLL_INTERVAL_S = 0.02
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


def config_with(config: Any, **changes: Any) -> Any:
    """The conftest's (fast) simulator config with some fields changed."""
    if hasattr(config, "model_copy"):
        return config.model_copy(update=changes)
    return dataclasses.replace(config, **changes)


def job_spec(
    job_id: str,
    *,
    count: int | None = 1,
    group: str = "web",
    job_type: str | None = "service",
    meta: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A small valid Nomad job in the API's JSON form (one group, one docker task)."""
    group_spec: dict[str, Any] = {
        "Name": group,
        "Tasks": [{"Name": "main", "Driver": "docker", "Config": {"image": "nginx:1.27"}}],
    }
    if count is not None:
        group_spec["Count"] = count
    job: dict[str, Any] = {"ID": job_id, "Name": job_id, "TaskGroups": [group_spec]}
    if job_type is not None:
        job["Type"] = job_type
    if meta is not None:
        job["Meta"] = meta
    return job


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


async def wait_for(
    what: str, probe: Callable[[], Awaitable[T | None]], timeout_s: float = WAIT_TIMEOUT_S
) -> T:
    """Poll `probe` until it returns something truthy; fail after `timeout_s`."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    last: T | None = None
    while loop.time() < deadline:
        last = await probe()
        if last:
            return last
        await asyncio.sleep(POLL_INTERVAL_S)
    raise AssertionError(f"timed out waiting for {what}; last value: {last!r}")


async def wait_for_summary(
    http: NomadHttp, job_id: str, group: str, **expected: int
) -> dict[str, Any]:
    """Wait until the group's summary counters have the expected values; return them."""

    async def probe() -> dict[str, Any] | None:
        answer = await http.get(f"/v1/job/{job_id}/summary")
        counters: dict[str, Any] = answer.json()["Summary"][group]
        matches = all(counters.get(k, 0) == v for k, v in expected.items())
        return counters if matches else None

    return await wait_for(f"{job_id}/{group} summary {expected}", probe)
