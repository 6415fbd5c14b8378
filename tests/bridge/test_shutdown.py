"""SPEC section 5: on SIGTERM the bridge answers every waiting long poll and exits 0."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from tests.support import wait_until

REPO = Path(__file__).resolve().parents[2]
WAITERS = 1000
SHUTDOWN_BOUND_S = 5.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
async def served_bridge() -> AsyncIterator[tuple[asyncio.subprocess.Process, str]]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NOMAD_", "BRIDGE_"))}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "nomad_bridge", "serve", "--sim", "--port", str(port),
        "--seed", str(REPO / "deploy" / "jobs"),
        cwd=REPO, env=env,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    try:
        yield process, f"http://127.0.0.1:{port}"
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def test_sigterm_answers_every_waiting_long_poll_and_exits_0(
    served_bridge: tuple[asyncio.subprocess.Process, str],
) -> None:
    process, url = served_bridge
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def ready() -> bool:
            try:
                async with session.get(url + "/ready") as response:
                    return response.status == 200
            except aiohttp.ClientConnectionError:
                return False

        await wait_until(ready, timeout_s=20)

        async def quiet_index() -> int:
            async with session.get(url + "/jobs") as response:
                index = response.headers["waitIndex"]
            async with session.get(
                url + "/jobs?wait=0.5s", headers={"waitIndex": index}
            ) as response:
                return int(index) if response.headers["waitIndex"] == index else -1

        index = -1
        while index < 0:
            index = await quiet_index()

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

        await wait_until(all_waiting, timeout_s=30)
        loop = asyncio.get_running_loop()
        started = loop.time()
        process.send_signal(signal.SIGTERM)
        results = await asyncio.wait_for(asyncio.gather(*waiters), SHUTDOWN_BOUND_S)
        assert await asyncio.wait_for(process.wait(), SHUTDOWN_BOUND_S) == 0
        assert loop.time() - started < SHUTDOWN_BOUND_S
    assert {(status, waited) for status, waited, _ in results} == {(200, index)}
    assert all(jobs == 5 for _, _, jobs in results)
