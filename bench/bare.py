"""The anchor for reads and long polls: a bare aiohttp handler serving fixed bytes.

    python -m bench.bare --port P --body-file FILE --wait-index N [--loop uvloop|asyncio]

`GET /jobs` answers the file's bytes with the same content type and `waitIndex` header as
the bridge: the cost of aiohttp alone, which the bridge's reads are measured against.
With a `waitIndex` request header it first waits, like a bridge long poll, until
`POST /fire`; `GET /parked` says how many wait. Nothing else: no logs, no metrics. It
runs on the event loop it is told, so that each comparison has the bridge's own.
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from aiohttp import web

from bench.processes import LOOPBACK
from nomad_bridge.serve import event_loop_factory

WAIT_CAP_S = 600.0


class Waiters:
    def __init__(self) -> None:
        self.event = asyncio.Event()
        self.parked = 0

    async def wait(self) -> None:
        event = self.event
        self.parked += 1
        try:
            async with asyncio.timeout(WAIT_CAP_S):
                await event.wait()
        finally:
            self.parked -= 1

    def fire(self) -> None:
        event, self.event = self.event, asyncio.Event()
        event.set()


def make_app(body: bytes, wait_index: str) -> web.Application:
    headers = {"waitIndex": wait_index}
    waiters = Waiters()

    async def jobs(request: web.Request) -> web.Response:
        if "waitIndex" in request.headers:
            await waiters.wait()
        return web.Response(body=body, content_type="application/json", headers=headers)

    async def fire(_request: web.Request) -> web.Response:
        waiters.fire()
        return web.Response(text="fired")

    async def parked(_request: web.Request) -> web.Response:
        return web.Response(text=str(waiters.parked))

    async def health(_request: web.Request) -> web.Response:
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_get("/jobs", jobs)
    app.router.add_post("/fire", fire)
    app.router.add_get("/parked", parked)
    app.router.add_get("/health", health)
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--body-file", type=Path, required=True)
    parser.add_argument("--wait-index", default="1")
    parser.add_argument("--loop", choices=["uvloop", "asyncio"], default="asyncio")
    args = parser.parse_args()
    app = make_app(args.body_file.read_bytes(), args.wait_index)
    web.run_app(
        app,
        host=LOOPBACK,
        port=args.port,
        access_log=None,
        print=None,
        loop=event_loop_factory(args.loop)(),
    )


if __name__ == "__main__":
    main()
