"""`nomad-bridge serve` as a process: its event loop (BRIDGE_EVENT_LOOP) and its access lines
at shutdown, with stderr read as an operator's log collector would."""

from __future__ import annotations

import asyncio
import json
import signal
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from nomad_bridge.settings import default_event_loop
from tests.support import at_rest, room_for_connections, served_bridge_process, wait_until

REPO = Path(__file__).resolve().parents[2]
WAITERS = 1000
PROBES = 1500
EXIT_BOUND_S = 15.0
READY_BOUND_S = 30.0


async def ready(session: aiohttp.ClientSession, url: str) -> Callable[[], Awaitable[bool]]:
    async def answers() -> bool:
        try:
            async with session.get(url + "/ready") as response:
                return response.status == 200
        except aiohttp.ClientConnectionError:
            return False

    return answers


async def index_at_rest(session: aiohttp.ClientSession, url: str) -> str:
    """The view's index once the seeded jobs' allocations have done what they will do."""

    async def at_rest_index() -> str | None:
        async with session.get(url + "/jobs") as response:
            return response.headers["waitIndex"] if at_rest(await response.json()) else None

    return await wait_until(at_rest_index, timeout_s=READY_BOUND_S, what="the jobs at rest")


async def stop_and_read_log(process: asyncio.subprocess.Process) -> list[dict[str, Any]]:
    """SIGTERM, then everything it wrote to stderr until it exited (0)."""
    assert process.stderr is not None
    process.send_signal(signal.SIGTERM)
    output = asyncio.ensure_future(process.stderr.read())
    assert await asyncio.wait_for(process.wait(), EXIT_BOUND_S) == 0
    return [json.loads(line) for line in (await output).splitlines()]


async def test_sigterm_writes_every_access_line_still_queued() -> None:
    """Nobody reads the bridge's stderr until SIGTERM: the pipe fills, lines queue up, the
    bridge keeps serving; once it is told to stop, every line is written before it exits."""
    room_for_connections(WAITERS)
    async with (
        served_bridge_process(stderr=asyncio.subprocess.PIPE) as (process, url),
        aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session,
    ):
        await wait_until(await ready(session, url), timeout_s=READY_BOUND_S)
        index = await index_at_rest(session, url)
        ids = [f"waiter-{n:04d}-" + "x" * 100 for n in range(WAITERS)]

        async def poll(request_id: str) -> int:
            headers = {"waitIndex": index, "X-Request-ID": request_id}
            async with session.get(url + "/jobs?wait=60s", headers=headers) as response:
                await response.read()
                return response.status

        polls = [asyncio.create_task(poll(request_id)) for request_id in ids]

        async def all_waiting() -> bool:
            async with session.get(url + "/metrics") as response:
                return f"bridge_long_polls_open {WAITERS}.0" in await response.text()

        await wait_until(all_waiting, timeout_s=READY_BOUND_S)
        # More lines than the pipe and the reader's buffer hold: the writer blocks.
        probes = [f"probe-{n:04d}-" + "x" * 100 for n in range(PROBES)]
        for request_id in probes:
            async with session.get(url + "/health", headers={"X-Request-ID": request_id}):
                pass
        lines = await stop_and_read_log(process)
        assert set(await asyncio.gather(*polls)) == {200}
    access = [line for line in lines if line["logger"] == "nomad_bridge.access"]
    logged = [line["request_id"] for line in access]
    assert [request_id for request_id in logged if request_id.startswith("probe-")] == probes
    assert sorted(request_id for request_id in logged if request_id.startswith("waiter-")) == ids
    assert any(line["event"] == "shutting_down" for line in lines)


@pytest.mark.parametrize(
    ("setting", "loop"),
    [
        ({"BRIDGE_EVENT_LOOP": "asyncio"}, "asyncio"),
        ({}, default_event_loop()),
    ],
    ids=["asyncio-when-asked", "default"],
)
async def test_serve_runs_on_the_event_loop_it_is_told_and_says_so(
    setting: dict[str, str], loop: str
) -> None:
    async with (
        served_bridge_process(stderr=asyncio.subprocess.PIPE, **setting) as (process, url),
        aiohttp.ClientSession() as session,
    ):
        await wait_until(await ready(session, url), timeout_s=READY_BOUND_S)
        async with session.get(url + "/jobs") as response:
            assert response.status == 200
            assert len(await response.json()) == 5
        lines = await stop_and_read_log(process)
    (runtime,) = [line for line in lines if line["event"] == "runtime"]
    assert (runtime["event_loop"], runtime["http_parser"]) == (loop, "c")
