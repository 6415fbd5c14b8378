"""Helpers shared by the test packages. Fixtures live in the conftest files, which import
from here; test modules import helpers from here, or from their own package's helper module
(`harness.py`; `tests/reliability/bounded.py`), never from a conftest.

Waiting (a test never sleeps to let something happen: it waits for the condition)
- `wait_until(condition, *, timeout_s=WAIT_TIMEOUT_S, what=None)`: re-checks a plain or async
  condition until it returns something truthy, returns that, and fails the test (saying
  `what` never happened, and the last value seen) if it does not within `timeout_s`.
  `wait_until_sync(...)`: the same for synchronous tests (python-nomad, Playwright), blocking
  the thread between checks.
  A predicate on an in-process `Simulator`'s own state uses
  `nomad_bridge.sim.testing.wait_until` instead: it re-checks on every state change, so a
  state that lasts 10 ms cannot slip between two polls.
- `simulator_idle(simulator)`: whether the simulator has nothing left to do on its own (no
  evaluation, allocation start or stop, health report or reschedule pending), so that
  nothing moves until a test changes something.
- `settled(bridge, simulator, probe)`: waits until the simulator is idle and the bridge's view
  reflects everything Nomad has; returns the view's `waitIndex`. Take a "before" snapshot
  only after it: a snapshot of a moving cluster is compared with a different one later.
- `in_sync(bridge, probe)`: waits until the bridge's view reflects Nomad's job list as it is
  now (allocations may still be moving).
- `saved_definition(probe, job_id, after=0)`: waits until the bridge has saved the job's
  definition (a Nomad Variable under the default prefix) past index `after`; its index.
- `long_polls_open(bridge)`: how many long polls the bridge is holding (its
  `bridge_long_polls_open` gauge): wait for it to know that waiters are parked, rather than
  sleeping and hoping they are.

Jobs
- `job_spec(job_id, groups={"web": 1}, **fields)`: a small valid Nomad job (the inside of
  `{"Job": ...}`), one task per group; a count of None leaves `Count` to Nomad's default.

The bridge in front of the simulator
- `BridgeClient`, `MakeBridge`: the bridge as a test client, and the `make_bridge` fixture's
  type (tests/bridge/conftest.py).
- `NomadProbe`: reads (and sets up) what Nomad ended up with, over its HTTP API, independently
  of the bridge; the `nomad_probe` fixture.
- `EXAMPLE_JOBS_DIR` (deploy/jobs, as `make run` seeds), `PERIODIC` (a periodic stanza),
  `DEFINITIONS_PREFIX` (`BRIDGE_DEFINITIONS_PREFIX`'s default).

Environment and resources
- `clear_environment(monkeypatch, *prefixes)`: removes every variable starting with a prefix
  (default `NOMAD_`), so that the machine running the tests cannot redirect a client.
- `room_for_connections(n)`: raises this process's open-file limit so that `n` loopback
  connections fit (both ends live in the test process), or skips the test.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import os
import resource
import socket
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, NoReturn, TypeVar, overload

import aiohttp
import pytest
from aiohttp.test_utils import TestClient

from nomad_bridge.jobs.definitions import definition_path
from nomad_bridge.sim import Simulator

T = TypeVar("T")

WAIT_TIMEOUT_S = 10.0
"""How long a condition may take: generous, so that a loaded machine never fails a test that
waits for something (a condition that holds returns at once; only a broken one waits this)."""
POLL_INTERVAL_S = 0.01

DEFINITIONS_PREFIX = "nomad-bridge/jobs"
"""`BRIDGE_DEFINITIONS_PREFIX`'s default."""
EXAMPLE_JOBS_DIR = Path(__file__).resolve().parents[1] / "deploy" / "jobs"
PERIODIC = {"Enabled": True, "SpecType": "cron", "Spec": "*/15 * * * *"}

BridgeClient = TestClient[aiohttp.web.Request, aiohttp.web.Application]
MakeBridge = Callable[..., Awaitable[BridgeClient]]


# --- waiting ---------------------------------------------------------------------------------


@overload
async def wait_until(
    condition: Callable[[], Awaitable[T | None]],
    *,
    timeout_s: float = ...,
    what: str | Callable[[], str] | None = ...,
    interval_s: float = ...,
) -> T: ...


@overload
async def wait_until(
    condition: Callable[[], T | None],
    *,
    timeout_s: float = ...,
    what: str | Callable[[], str] | None = ...,
    interval_s: float = ...,
) -> T: ...


async def wait_until(
    condition: Callable[[], Any],
    *,
    timeout_s: float = WAIT_TIMEOUT_S,
    what: str | Callable[[], str] | None = None,
    interval_s: float = POLL_INTERVAL_S,
) -> Any:
    """Re-check `condition` until it returns something truthy, and return that value."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while True:
        value = condition()
        if inspect.isawaitable(value):
            value = await value
        if value:
            return value
        if loop.time() > deadline:
            _never(what, timeout_s, value)
        await asyncio.sleep(interval_s)


def wait_until_sync(
    condition: Callable[[], T | None],
    *,
    timeout_s: float = WAIT_TIMEOUT_S,
    what: str | Callable[[], str] | None = None,
    interval_s: float = POLL_INTERVAL_S,
) -> T:
    """`wait_until` for synchronous code: the thread sleeps between checks."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            _never(what, timeout_s, value)
        time.sleep(interval_s)


def _never(what: str | Callable[[], str] | None, timeout_s: float, value: object) -> NoReturn:
    described = what() if callable(what) else what or "the condition"
    pytest.fail(f"{described}: not within {timeout_s} s (last value: {value!r})")


def simulator_idle(simulator: Simulator) -> bool:
    """Whether the simulator has no timer pending: nothing changes until someone acts.

    Its scheduler keeps every future step (evaluations, allocations starting and stopping,
    health reports, reschedules) on one timer heap; an empty heap is a cluster at rest.
    """
    return not simulator.scheduler._heap


async def in_sync(bridge: BridgeClient, probe: NomadProbe) -> None:
    """Wait until the bridge's live view reflects everything Nomad's job list has now."""
    target = await probe.index()

    async def caught_up() -> bool:
        response = await bridge.get("/ready")
        return response.status == 200 and (await response.json())["nomadIndex"] >= target

    await wait_until(caught_up, what=f"the bridge's view reaching Nomad's index {target}")


async def settled(bridge: BridgeClient, simulator: Simulator, probe: NomadProbe) -> int:
    """Wait until the cluster is at rest and the bridge's view shows it: its `waitIndex`."""
    await wait_until(lambda: simulator_idle(simulator), what="the simulator coming to rest")
    await in_sync(bridge, probe)
    return int((await bridge.get("/jobs")).headers["waitIndex"])


async def saved_definition(probe: NomadProbe, job_id: str, *, after: int = 0) -> int:
    """Wait until the bridge has saved the job's definition past index `after`; its index."""
    path = f"/v1/var/{definition_path(DEFINITIONS_PREFIX, job_id)}"

    async def written() -> int:
        status, variable = await probe.get(path)
        index = int(variable["ModifyIndex"]) if status == 200 else 0
        return index if index > after else 0

    return await wait_until(written, what=f"the saved definition of {job_id} past {after}")


async def long_polls_open(bridge: BridgeClient) -> int:
    """The bridge's `bridge_long_polls_open` gauge: clients waiting on the view right now."""
    text = await (await bridge.get("/metrics")).text()
    gauge = next(line for line in text.splitlines() if line.startswith("bridge_long_polls_open "))
    return int(float(gauge.split()[1]))


# --- jobs ------------------------------------------------------------------------------------


def job_spec(
    job_id: str, groups: Mapping[str, int | None] | None = None, **fields: Any
) -> dict[str, Any]:
    """A small valid Nomad job spec: `groups` maps group names to counts (default one `web`);
    `fields` set or replace top-level job fields (`Meta`, `Stop`, `Type`, ...)."""
    task_groups: list[dict[str, Any]] = []
    for name, count in (groups or {"web": 1}).items():
        group: dict[str, Any] = {
            "Name": name,
            "Tasks": [{"Name": "main", "Driver": "docker", "Config": {"image": "busybox"}}],
        }
        if count is not None:
            group["Count"] = count
        task_groups.append(group)
    spec: dict[str, Any] = {
        "ID": job_id,
        "Name": job_id,
        "Type": "service",
        "Datacenters": ["dc1"],
        "TaskGroups": task_groups,
    }
    return spec | fields


# --- the bridge in front of the simulator ----------------------------------------------------


class NomadProbe:
    """Reads what Nomad (the simulator) ended up with, over its HTTP API, independently."""

    def __init__(self, session: aiohttp.ClientSession, url: str) -> None:
        self._session = session
        self._url = url

    async def get(self, path: str) -> tuple[int, Any]:
        async with self._session.get(self._url + path) as response:
            text = await response.text()
            try:
                return response.status, json.loads(text)
            except json.JSONDecodeError:
                return response.status, text

    async def index(self, path: str = "/v1/jobs") -> int:
        async with self._session.get(self._url + path) as response:
            assert response.status == 200, await response.text()
            return int(response.headers["X-Nomad-Index"])

    async def job(self, job_id: str) -> dict[str, Any]:
        status, body = await self.get(f"/v1/job/{job_id}")
        assert status == 200, body
        return dict(body)

    async def group_count(self, job_id: str, group: str) -> int:
        job = await self.job(job_id)
        return next(g["Count"] for g in job["TaskGroups"] if g["Name"] == group)

    async def deployed(self, job_id: str) -> None:
        """Wait until every group's allocations are placed and healthy."""
        await self._wait_for_groups(job_id, "Healthy")

    async def placed(self, job_id: str) -> None:
        """Wait until every group's allocations are placed (a deployment, if any, exists)."""
        await self._wait_for_groups(job_id, "Placed")

    async def _wait_for_groups(self, job_id: str, counter: str) -> None:
        async def reached() -> bool:
            status, scale = await self.get(f"/v1/job/{job_id}/scale")
            groups = scale["TaskGroups"].values() if status == 200 else []
            return bool(groups) and all(g[counter] == g["Desired"] for g in groups)

        await wait_until(reached, what=f"every group of {job_id} {counter.lower()}")

    async def register(self, spec: dict[str, Any]) -> dict[str, Any]:
        async with self._session.put(self._url + "/v1/jobs", json={"Job": spec}) as response:
            assert response.status == 200, await response.text()
            return dict(await response.json())

    async def put_variable(self, path: str, items: dict[str, str]) -> dict[str, Any]:
        async with self._session.put(self._url + f"/v1/var/{path}", json={"Items": items}) as put:
            assert put.status == 200, await put.text()
            return dict(await put.json())

    async def stop(self, job_id: str) -> None:
        async with self._session.delete(self._url + f"/v1/job/{job_id}") as response:
            assert response.status == 200, await response.text()


# --- environment and resources -------------------------------------------------------------------


def clear_environment(monkeypatch: pytest.MonkeyPatch, *prefixes: str) -> None:
    """Remove every environment variable starting with one of `prefixes` (`NOMAD_` if none):
    NomadSettings, python-nomad and the CLI read them, and a developer's shell has them."""
    for name in list(os.environ):
        if name.startswith(prefixes or ("NOMAD_",)):
            monkeypatch.delenv(name)


def room_for_connections(connections: int) -> None:
    """Make room for `connections` loopback connections whose both ends are in this process:
    two descriptors each, plus 512 for everything else; skip if the hard limit is lower."""
    needed = 2 * connections + 512
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft >= needed:
        return
    if hard != resource.RLIM_INFINITY and hard < needed:
        pytest.skip(f"RLIMIT_NOFILE hard limit {hard} < {needed}")
    resource.setrlimit(resource.RLIMIT_NOFILE, (needed, hard))


# --- bridge processes --------------------------------------------------------------------------

Served = tuple[asyncio.subprocess.Process, str]


@asynccontextmanager
async def served_bridge_process(
    *, stderr: int = asyncio.subprocess.DEVNULL, **settings: str
) -> AsyncIterator[Served]:
    """`nomad-bridge serve --sim` seeded with deploy/jobs, with BRIDGE_* `settings` and none
    of this machine's NOMAD_*/BRIDGE_*; yields the process and its URL, killed on the way
    out if still running. `stderr=PIPE` hands its log over, unread until the test reads."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NOMAD_", "BRIDGE_"))}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "nomad_bridge", "serve", "--sim", "--port", str(port),
        "--seed", str(EXAMPLE_JOBS_DIR),
        cwd=EXAMPLE_JOBS_DIR.parents[1], env=env | settings,
        stdout=asyncio.subprocess.DEVNULL, stderr=stderr,
    )  # fmt: skip
    try:
        yield process, f"http://127.0.0.1:{port}"
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


def free_port() -> int:
    """A loopback port the kernel says is free right now (for a process the test starts)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


BATCH_JOBS = {
    job["ID"]
    for job in (json.loads(path.read_text())["Job"] for path in EXAMPLE_JOBS_DIR.glob("*.json"))
    if job.get("Type") == "batch"
}
"""The seeded jobs that run once and complete (the others keep running)."""


def at_rest(views: list[dict[str, Any]]) -> bool:
    """Whether every seeded job's allocations have done what they will do: after this, the
    view (a separate process's simulator) changes only when someone acts."""
    for job in views:
        for group in job["taskGroups"]:
            summary, count = group["summary"], group["count"]
            if summary["queued"] or summary["starting"]:
                return False
            done = summary["complete"] if job["name"] in BATCH_JOBS else summary["running"]
            if done != count or (job["name"] in BATCH_JOBS and summary["running"]):
                return False
    return bool(views)
