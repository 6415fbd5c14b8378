"""Response compression as Nomad's HTTP server does it: gorilla/handlers' CompressHandler
wraps the whole API mux (command/agent/http.go), so every answer is compressed for a
client that accepts it, the event stream included.

The rule, from gorilla/handlers compress.go: the first `Accept-Encoding` token that is
exactly `gzip` or `deflate` wins (no q-values are read); `Vary: Accept-Encoding` is added
to every answer; the body is written through a compressor at Go's default level (6), and a
flush (the event stream flushes after every write, `ioutils.NewWriteFlusher`) flushes the
compressor too, so each line reaches the client whole. `deflate` is Go's raw DEFLATE
(`compress/flate`), not zlib-wrapped.
"""

from __future__ import annotations

import zlib
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import hdrs, web

GO_DEFAULT_LEVEL = 6
_WBITS = {"gzip": 31, "deflate": -15}  # gzip container; raw DEFLATE
_NO_BODY = frozenset({204, 304})

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def negotiate(request: web.Request) -> str | None:
    """The coding gorilla picks for this request, or None (the answer goes as it is)."""
    for token in request.headers.get(hdrs.ACCEPT_ENCODING, "").split(","):
        if token.strip() in _WBITS:
            return token.strip()
    return None


def _compressor(coding: str) -> Any:
    return zlib.compressobj(GO_DEFAULT_LEVEL, zlib.DEFLATED, _WBITS[coding])


def compress_body(response: web.Response, coding: str) -> None:
    """Compress a whole answer in place (what Go writes for a handler that returns)."""
    compressor = _compressor(coding)
    body = response.body if isinstance(response.body, bytes) else b""
    response.body = compressor.compress(body) + compressor.flush()
    response.headers[hdrs.CONTENT_ENCODING] = coding


class StreamingResponse(web.StreamResponse):
    """A streamed answer (the event stream) compressed with a flush after every write."""

    def __init__(self, coding: str | None, *, status: int, headers: dict[str, str]) -> None:
        super().__init__(status=status, headers=headers)
        self.headers.add(hdrs.VARY, hdrs.ACCEPT_ENCODING)
        self._compressor = _compressor(coding) if coding else None
        if coding:
            self.headers[hdrs.CONTENT_ENCODING] = coding

    async def write(self, data: bytes | bytearray | memoryview) -> None:
        if self._compressor is not None:
            data = self._compressor.compress(data) + self._compressor.flush(zlib.Z_SYNC_FLUSH)
        await super().write(data)

    async def write_eof(self, data: bytes = b"") -> None:
        compressor, self._compressor = self._compressor, None
        if compressor is not None:
            data = compressor.compress(data) + compressor.flush()
        await super().write_eof(data)


def compressed(handler: Handler) -> Handler:
    """CompressHandler around the Nomad API: whole answers compressed, `Vary` on every one.

    Streamed answers are prepared by their handler (`StreamingResponse` does the same there).
    """

    async def compressing(request: web.Request) -> web.StreamResponse:
        response = await handler(request)
        if response.prepared or not isinstance(response, web.Response):
            return response
        response.headers.add(hdrs.VARY, hdrs.ACCEPT_ENCODING)
        coding = negotiate(request)
        if coding and request.method != hdrs.METH_HEAD and response.status not in _NO_BODY:
            compress_body(response, coding)
        return response

    return compressing
