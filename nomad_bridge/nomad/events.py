"""Nomad's event stream (`GET /v1/event/stream`): NDJSON, one Raft entry's events a line.

Nomad sends `{}` at once (once the subscription exists) and then every 30 s as a heartbeat;
iterating skips those lines, `next_line` shows them. The stream ends when Nomad closes it
(shutdown, expired token, a reader fallen out of its buffer); resume with the last batch's
`index + 1` to get no duplicates.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager, AsyncExitStack
from typing import Self

import aiohttp

from nomad_bridge.nomad.errors import UnexpectedAnswer, error_for_failure
from nomad_bridge.nomad.models import EventBatch

HEARTBEAT_INTERVAL_S = 30.0
LINE_LIMIT_BYTES = 64 * 1024 * 1024  # one Raft entry's events, full job specs included

StreamOpener = Callable[[], AbstractAsyncContextManager[aiohttp.ClientResponse]]


class EventStream:
    """Batches of events as they happen.

    Use as `async with client.event_stream(["Job"]) as events: async for batch in events: ...`
    so that the connection is closed when you stop reading. Iterating without `async with`
    also works; the connection then closes at the end of the stream or on an error.
    """

    def __init__(self, open_stream: StreamOpener, path: str) -> None:
        self._open_stream = open_stream
        self._path = path
        self._exits = AsyncExitStack()
        self._response: aiohttp.ClientResponse | None = None
        self._buffer = bytearray()
        self._closed = False

    async def __aenter__(self) -> Self:
        await self._open()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection; the iteration ends."""
        self._closed = True
        self._response = None
        await self._exits.aclose()

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> EventBatch:
        while True:
            batch = await self.next_line()
            if batch is not None:
                return batch

    async def next_line(self) -> EventBatch | None:
        """The next line: a batch, or None for a heartbeat (Nomad's first line is one, sent
        once the subscription exists); `StopAsyncIteration` at the end of the stream."""
        try:
            line = await self._next_line()
            if line is None:
                raise StopAsyncIteration
            return self._parse(line)
        except BaseException:
            await self.aclose()
            raise

    async def _open(self) -> aiohttp.ClientResponse:
        if self._closed:
            raise RuntimeError("the event stream is closed")
        if self._response is None:
            self._response = await self._exits.enter_async_context(self._open_stream())
        return self._response

    async def _next_line(self) -> bytes | None:
        response = await self._open()
        while (end := self._buffer.find(b"\n")) < 0:
            try:
                chunk = await response.content.readany()
            except (aiohttp.ClientError, OSError) as failure:
                raise error_for_failure(failure, self._path) from failure
            if not chunk:
                rest, self._buffer = bytes(self._buffer), bytearray()
                return rest or None
            self._buffer += chunk
            if len(self._buffer) > LINE_LIMIT_BYTES:
                raise UnexpectedAnswer("event stream line too long", path=self._path)
        line = bytes(self._buffer[:end])
        del self._buffer[: end + 1]
        return line

    def _parse(self, line: bytes) -> EventBatch | None:
        if not line.strip():
            return None
        try:
            data = json.loads(line)
            if data == {}:
                return None  # heartbeat
            return EventBatch.model_validate(data)
        except ValueError as error:  # JSON and validation errors alike
            raise UnexpectedAnswer(
                f"unusable event stream line: {type(error).__name__}", path=self._path
            ) from error
