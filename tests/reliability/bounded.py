"""Bounded exchanges with a bridge: every request has a deadline, every wait a limit.

The reliability tests never sleep to assert: a request either answers within its bound
(`asyncio.wait_for`) or the test fails, and "the view converged" is a condition polled
until a deadline.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any

from yarl import URL

from tests.support import BridgeClient, wait_until

PROBLEM_CONTENT_TYPE = "application/problem+json"
CONVERGENCE_BOUND_S = 2.0
"""After Nomad recovers, the bridge's view reflects every change made meanwhile within this."""

COUNT_CHANGE_ROUTES = ("/jobs/updatecounts", "/jobs/settaskgroupcount")


@dataclass(frozen=True, slots=True)
class Exchange:
    """One request and the bridge's complete answer."""

    method: str
    path: str
    status: int
    content_type: str
    text: str
    elapsed_s: float
    headers: dict[str, str]

    def json(self) -> Any:
        return json.loads(self.text)

    @property
    def is_problem(self) -> bool:
        return self.content_type == PROBLEM_CONTENT_TYPE

    def __str__(self) -> str:
        answer = f"{self.status} in {self.elapsed_s:.2f}s {self.text[:160]}"
        return f"{self.method} {self.path[:120]} -> {answer}"


async def ask(
    bridge: BridgeClient,
    method: str,
    path: str,
    *,
    bound_s: float,
    body: Any = None,
    data: Any = None,
    headers: dict[str, str] | None = None,
) -> Exchange:
    """Send one request and read the whole answer, failing the test past `bound_s`.

    `body` is sent as JSON, `data` as it is (bytes or an async iterator of them).
    `path` (with its query) goes out exactly as written: percent-escapes and dot segments
    are not normalised on the way, as a hostile client would send them.
    """
    loop = asyncio.get_running_loop()
    started = loop.time()
    url = URL(str(bridge.make_url("/")).rstrip("/") + path, encoded=True)

    async def exchange() -> Exchange:
        request = bridge.session.request(method, url, json=body, data=data, headers=headers)
        async with request as response:
            text = await response.text()
            return Exchange(
                method,
                path,
                response.status,
                response.content_type,
                text,
                loop.time() - started,
                dict(response.headers),
            )

    try:
        return await asyncio.wait_for(exchange(), bound_s)
    except TimeoutError:
        raise AssertionError(f"{method} {path} not answered within {bound_s} s") from None


def assert_problem(exchange: Exchange, status: int) -> None:
    """An RFC 9457 problem with this status, a title and a detail."""
    assert exchange.status == status, str(exchange)
    assert exchange.is_problem, str(exchange)
    problem = exchange.json()
    assert problem["status"] == status, str(exchange)
    assert problem["title"], str(exchange)
    assert problem["detail"], str(exchange)


async def view(bridge: BridgeClient) -> tuple[int, list[dict[str, Any]]]:
    """The bridge's `GET /jobs` answer: (waitIndex, views)."""
    answer = await ask(bridge, "GET", "/jobs", bound_s=2.0)
    assert answer.status == 200, str(answer)
    return int(answer.headers["waitIndex"]), answer.json()


async def converges(
    bridge: BridgeClient, condition: Any, *, within_s: float = CONVERGENCE_BOUND_S
) -> None:
    """Wait until `condition(views)` holds for the bridge's `GET /jobs`, at most `within_s`."""

    async def holds() -> bool:
        _, views = await view(bridge)
        return bool(condition(views))

    await wait_until(holds, timeout_s=within_s)


async def becomes_ready(bridge: BridgeClient, *, within_s: float = CONVERGENCE_BOUND_S) -> None:
    async def ready() -> bool:
        return (await ask(bridge, "GET", "/ready", bound_s=within_s)).status == 200

    await wait_until(ready, timeout_s=within_s)


def by_name(views: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {job["name"]: job for job in views}


def group(views: list[dict[str, Any]], job: str, name: str) -> dict[str, Any]:
    """One task group of one job's view (KeyError/StopIteration when absent)."""
    return next(g for g in by_name(views)[job]["taskGroups"] if g["name"] == name)


def long_poll(
    bridge: BridgeClient, path: str, index: int, *, wait: str = "30s"
) -> asyncio.Task[Exchange]:
    """A waiting client, as a task: `GET path?wait=...` with `waitIndex: index`."""
    return asyncio.create_task(
        ask(bridge, "GET", f"{path}?wait={wait}", bound_s=60.0, headers={"waitIndex": str(index)})
    )
