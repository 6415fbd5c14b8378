"""A proxy between the bridge and the simulator that cuts Nomad's event stream short right
after its greeting, as a proxy with a short response timeout does (the simulator's own
controls cover the other faults: stalls, refusals, dropped connections). Every other
request passes through unchanged."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestServer

EVENT_STREAM = "/v1/event/stream"
HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "transfer-encoding", "content-length", "host", "upgrade"}
)


class StreamCuttingProxy:
    """Forwards to `upstream`; while `cutting`, event streams end after their first line."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream.rstrip("/")
        self.cutting = True
        self.streams_opened = 0
        self.url = ""
        self._session: aiohttp.ClientSession | None = None

    async def handle(self, request: web.Request) -> web.StreamResponse:
        assert self._session is not None
        streaming = request.path == EVENT_STREAM
        self.streams_opened += streaming
        headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP}
        if streaming:  # cut by lines, so the stream is relayed as plain text
            headers["Accept-Encoding"] = "identity"
        async with self._session.request(
            request.method,
            self.upstream + request.rel_url.raw_path_qs,
            headers=headers,
            data=await request.read() or None,
            timeout=aiohttp.ClientTimeout(total=None),
            allow_redirects=False,
        ) as answer:
            response = web.StreamResponse(status=answer.status)
            for key, value in answer.headers.items():
                if key.lower() not in HOP_BY_HOP:
                    response.headers[key] = value
            await response.prepare(request)
            if streaming and answer.status == 200:
                await self._relay(answer, response)
            else:
                await response.write(await answer.read())
            await response.write_eof()
            return response

    async def _relay(self, answer: aiohttp.ClientResponse, response: web.StreamResponse) -> None:
        try:
            await response.write(await answer.content.readline())  # Nomad's greeting
            if self.cutting:
                return
            async for chunk in answer.content.iter_any():
                await response.write(chunk)
        except (ConnectionError, aiohttp.ClientError):
            pass

    @asynccontextmanager
    async def running(self) -> AsyncIterator[StreamCuttingProxy]:
        """Serve on loopback (at `url`) until the block ends."""
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self.handle)
        async with aiohttp.ClientSession(auto_decompress=False) as session:
            self._session = session
            server = TestServer(app, host="127.0.0.1")
            await server.start_server()
            self.url = str(server.make_url("")).rstrip("/")
            try:
                yield self
            finally:
                await server.close()
