"""A proxy between the bridge and the simulator that can break Nomad's event stream the
ways real proxies and ACLs do; every other request passes through unchanged."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from enum import Enum

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestServer

EVENT_STREAM = "/v1/event/stream"
HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "transfer-encoding", "content-length", "host", "upgrade"}
)


class Stream(Enum):
    """What the proxy does to `GET /v1/event/stream`."""

    PASS = "pass"
    REFUSE = "refuse"  # 403, as Nomad answers a token it refuses
    BUFFER = "buffer"  # headers, then nothing: a proxy buffering the whole response
    STALL = "stall"  # Nomad's greeting, then nothing: a connection gone silent
    CUT = "cut"  # Nomad's greeting, then the end: a proxy cutting streams short


class StreamProxy:
    """Forwards to `upstream`; `stream` says what happens to new event streams."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream.rstrip("/")
        self.stream = Stream.PASS
        self.streams_opened = 0
        self._open: set[asyncio.BaseTransport] = set()
        self._session: aiohttp.ClientSession | None = None
        self._released = asyncio.Event()
        self.url = ""

    def drop_streams(self) -> None:
        """Cut every open event stream, as a proxy restarting or a network blip does."""
        for transport in list(self._open):
            transport.close()
        self._open.clear()

    async def handle(self, request: web.Request) -> web.StreamResponse:
        assert self._session is not None
        if request.path == EVENT_STREAM:
            self.streams_opened += 1
            if self.stream is Stream.REFUSE:
                return web.Response(status=403, text="Permission denied")
        headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP}
        body = await request.read()
        timeout = aiohttp.ClientTimeout(total=None)
        async with self._session.request(
            request.method,
            self.upstream + request.rel_url.raw_path_qs,
            headers=headers,
            data=body or None,
            timeout=timeout,
            allow_redirects=False,
        ) as answer:
            response = web.StreamResponse(status=answer.status)
            for key, value in answer.headers.items():
                if key.lower() not in HOP_BY_HOP:
                    response.headers[key] = value
            await response.prepare(request)
            if request.path == EVENT_STREAM and answer.status == 200:
                await self._relay_stream(request, answer, response)
            else:
                await response.write(await answer.read())
            await response.write_eof()
            return response

    async def _relay_stream(
        self, request: web.Request, answer: aiohttp.ClientResponse, response: web.StreamResponse
    ) -> None:
        transport = request.transport
        assert transport is not None
        self._open.add(transport)
        mode = self.stream
        try:
            if mode is Stream.BUFFER:
                await self._released.wait()
                return
            greeting = await answer.content.readline()
            await response.write(greeting)
            if mode is Stream.STALL:
                await self._released.wait()
                return
            if mode is Stream.CUT:
                return
            async for chunk in answer.content.iter_any():
                await response.write(chunk)
        except (ConnectionError, aiohttp.ClientError):
            pass
        finally:
            self._open.discard(transport)

    @asynccontextmanager
    async def running(self) -> AsyncIterator[StreamProxy]:
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
                self._released.set()
                self.drop_streams()
                await server.close()
