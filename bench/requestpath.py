"""CPU per request of the server side alone: the bridge against bare aiohttp, no sockets.

    python -m bench.requestpath [--jobs 10] [--loop uvloop|asyncio]

Drives aiohttp's own server protocol (`RequestHandler`) with an in-memory transport: the
same `GET /jobs` bytes wrk sends go in, the answer is taken as written. Both apps run in
this one process on the chosen event loop, the bridge in front of an in-process simulator
with its logging set up as `nomad-bridge serve` does (lines to /dev/null), bare aiohttp
answering the bridge's own bytes. Prints one JSON object: process CPU per request (writer
thread included), best of several rounds, and the ratio. Steadier than wrk on a shared
machine, for profiling the per-request path (bench/findings.md); `make bench` measures
with sockets.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import tempfile
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from aiohttp import web
from aiohttp.web_server import Server

from bench.seed import write_seed_dir
from nomad_bridge.api.context import BRIDGE
from nomad_bridge.app import create_app
from nomad_bridge.logs import configure_logging
from nomad_bridge.nomad import NomadSettings
from nomad_bridge.serve import event_loop_factory
from nomad_bridge.settings import BridgeSettings
from nomad_bridge.sim import SimConfig, SimServer, Simulator

REQUEST = b"GET /jobs HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nUser-Agent: wrk\r\n\r\n"
REQUESTS_PER_ROUND = 3000
ROUNDS = 7
SYNC_TIMEOUT_S = 120.0


class MemoryTransport(asyncio.Transport):
    """Takes the answer and calls `written`: no socket, no system call."""

    def __init__(self, written: Callable[[], None]) -> None:
        super().__init__()
        self._written = written
        self._closing = False

    def write(self, data: Any) -> None:
        self._written()

    def writelines(self, chunks: Any) -> None:
        self._written()

    def is_closing(self) -> bool:
        return self._closing

    def close(self) -> None:
        self._closing = True

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"peername": ("127.0.0.1", 50000), "sockname": ("127.0.0.1", 8080)}.get(
            name, default
        )

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass

    def get_write_buffer_size(self) -> int:
        return 0


async def cpu_per_request_us(app: web.Application) -> float:
    """Best round's process CPU per keep-alive `GET /jobs`, in µs."""
    loop = asyncio.get_running_loop()
    answered: list[asyncio.Future[None]] = []

    def written() -> None:
        if answered and not answered[-1].done():
            answered[-1].set_result(None)

    server = Server(app._handle, request_factory=app._make_request, loop=loop)  # type: ignore[arg-type]
    protocol = server()
    protocol.connection_made(MemoryTransport(written))
    best_s = float("inf")
    for _ in range(ROUNDS):
        started = time.process_time()
        for _ in range(REQUESTS_PER_ROUND):
            future = loop.create_future()
            answered[:] = [future]
            protocol.data_received(REQUEST)
            await future
        best_s = min(best_s, (time.process_time() - started) / REQUESTS_PER_ROUND)
    protocol.connection_lost(None)
    return best_s * 1e6


async def measure(jobs: int) -> dict[str, float]:
    seed_dir = Path(tempfile.mkdtemp(prefix="nomad-bridge-requestpath-"))
    write_seed_dir(seed_dir, jobs, 3, stopped=False)
    simulator = Simulator(SimConfig())
    simulator.seed_from_dir(seed_dir)
    sim = SimServer(simulator)
    await sim.start(host="127.0.0.1", port=0)
    bridge = create_app(BridgeSettings(), NomadSettings(addr=sim.url))
    runner = web.AppRunner(bridge)
    await runner.setup()  # starts the watch
    live = bridge[BRIDGE].live
    assert await live.wait_synced(SYNC_TIMEOUT_S), live.status
    body, headers = live.body, {"waitIndex": str(live.index)}

    async def jobs_handler(request: web.Request) -> web.Response:
        return web.Response(body=body, content_type="application/json", headers=headers)

    bare = web.Application()
    bare.router.add_get("/jobs", jobs_handler)
    bare.freeze()
    bare_us, bridge_us = float("inf"), float("inf")
    for _ in range(3):  # alternate, keep each side's best
        bare_us = min(bare_us, await cpu_per_request_us(bare))
        bridge_us = min(bridge_us, await cpu_per_request_us(bridge))
    await runner.cleanup()
    await sim.stop()
    return {"jobs": jobs, "bare_us": bare_us, "bridge_us": bridge_us, "ratio": bare_us / bridge_us}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jobs", type=int, default=10)
    parser.add_argument("--loop", choices=["uvloop", "asyncio"], default="uvloop")
    args = parser.parse_args()
    with open(os.devnull, "w", encoding="utf-8") as sink:
        writer = configure_logging("INFO", stream=sink)
        main_coroutine: Coroutine[Any, Any, dict[str, float]] = measure(args.jobs)
        with asyncio.Runner(loop_factory=event_loop_factory(args.loop)) as runner:
            figures = runner.run(main_coroutine)
        writer.stop()
    print(json.dumps({"loop": args.loop, **figures}))


if __name__ == "__main__":
    main()
