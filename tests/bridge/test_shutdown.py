"""SPEC section 5: on SIGTERM the bridge answers every waiting long poll and exits 0."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from tests.support import (
    Served,
    at_rest,
    room_for_connections,
    served_bridge_process,
    wait_until,
)

REPO = Path(__file__).resolve().parents[2]
WAITERS = 1000
SHUTDOWN_BOUND_S = 20.0
"""Waiters are answered at shutdown, well before the 60 s they asked to wait."""


@pytest.fixture
async def served_bridge() -> AsyncIterator[Served]:
    async with served_bridge_process() as served:
        yield served


async def test_sigterm_answers_every_waiting_long_poll_and_exits_0(
    served_bridge: tuple[asyncio.subprocess.Process, str],
) -> None:
    process, url = served_bridge
    room_for_connections(WAITERS)
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def ready() -> bool:
            try:
                async with session.get(url + "/ready") as response:
                    return response.status == 200
            except aiohttp.ClientConnectionError:
                return False

        await wait_until(ready, timeout_s=20)

        async def index_at_rest() -> int:
            async with session.get(url + "/jobs") as response:
                return int(response.headers["waitIndex"]) if at_rest(await response.json()) else 0

        index = await wait_until(index_at_rest, timeout_s=30, what="the seeded jobs at rest")

        async def poll() -> tuple[int, int, int]:
            async with session.get(
                url + "/jobs?wait=60s", headers={"waitIndex": str(index)}
            ) as response:
                body = await response.json()
                return response.status, int(response.headers["waitIndex"]), len(body)

        waiters = [asyncio.create_task(poll()) for _ in range(WAITERS)]

        async def all_waiting() -> bool:
            async with session.get(url + "/metrics") as response:
                return f"bridge_long_polls_open {WAITERS}.0" in await response.text()

        await wait_until(all_waiting, timeout_s=30, what=f"{WAITERS} long polls parked")
        process.send_signal(signal.SIGTERM)
        results = await asyncio.wait_for(asyncio.gather(*waiters), SHUTDOWN_BOUND_S)
        assert await asyncio.wait_for(process.wait(), SHUTDOWN_BOUND_S) == 0
    assert {(status, waited) for status, waited, _ in results} == {(200, index)}
    assert all(jobs == 5 for _, _, jobs in results)
