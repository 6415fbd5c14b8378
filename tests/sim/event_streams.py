"""Reading `GET /v1/event/stream` the way any client would (this module holds no tests).

A stream is read line by line with a timeout per read; the text Nomad writes after the last
line when it ends a stream (no newline) is kept apart, so a test can pin it.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import urlencode

import aiohttp

LINE_TIMEOUT_S = 5.0
QUIET_PERIOD_S = 0.3
"""How long a test listens to conclude that nothing more arrives."""

Event = dict[str, Any]
Params = Sequence[tuple[str, object]]


def stream_url(base_url: str, params: Params = ()) -> str:
    query = urlencode([(k, str(v)) for k, v in params])
    return f"{base_url}/v1/event/stream" + (f"?{query}" if query else "")


class EventStream:
    """An open stream: NDJSON lines, heartbeats included, and the text after the last one."""

    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self.response = response
        self.data: list[dict[str, Any]] = []

    async def raw_line(self, timeout_s: float = LINE_TIMEOUT_S) -> bytes:
        """The next line with its newline; at the end, whatever came after the last one."""
        return await asyncio.wait_for(self.response.content.readline(), timeout_s)

    async def line(self, timeout_s: float = LINE_TIMEOUT_S) -> dict[str, Any]:
        raw = await self.raw_line(timeout_s)
        assert raw.endswith(b"\n"), f"the stream ended: {raw!r}"
        decoded: dict[str, Any] = json.loads(raw)
        if decoded:
            self.data.append(decoded)
        return decoded

    async def data_line(self, timeout_s: float = LINE_TIMEOUT_S) -> dict[str, Any]:
        """The next line that is not a `{}` heartbeat."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while not (line := await self.line(max(deadline - loop.time(), 0.01))):
            pass
        return line

    async def until(
        self, predicate: Callable[[Event], bool], timeout_s: float = LINE_TIMEOUT_S
    ) -> tuple[dict[str, Any], Event]:
        """Read until an event matches; return (its line, the event)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while True:
            line = await self.data_line(max(deadline - loop.time(), 0.01))
            for event in line["Events"]:
                if predicate(event):
                    return line, event

    async def lines_for(self, period_s: float = QUIET_PERIOD_S) -> list[dict[str, Any]]:
        """Every data line that arrives within `period_s`."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + period_s
        start = len(self.data)
        while (left := deadline - loop.time()) > 0:
            try:
                await self.line(left)
            except TimeoutError:
                break
        return self.data[start:]

    async def ending(self, timeout_s: float = LINE_TIMEOUT_S) -> bytes:
        """Read to the end of the response; return the text after the last line."""
        while (raw := await self.raw_line(timeout_s)).endswith(b"\n"):
            decoded = json.loads(raw)
            if decoded:
                self.data.append(decoded)
        return raw

    def events(self) -> list[Event]:
        return [event for line in self.data for event in line["Events"]]


@asynccontextmanager
async def open_stream(
    base_url: str, params: Params = (), *, token: str | None = None
) -> AsyncIterator[EventStream]:
    """A 200 stream, closed when the block exits."""
    headers = {"X-Nomad-Token": token} if token is not None else {}
    timeout = aiohttp.ClientTimeout(total=None, sock_connect=LINE_TIMEOUT_S)
    async with (
        aiohttp.ClientSession(timeout=timeout) as session,
        session.get(stream_url(base_url, params), headers=headers) as response,
    ):
        assert response.status == 200, await response.text()
        yield EventStream(response)


async def refused(
    base_url: str, params: Params = (), *, token: str | None = None, method: str = "GET"
) -> tuple[int, str, str]:
    """A stream request answered at once: (status, Content-Type, body)."""
    headers = {"X-Nomad-Token": token} if token is not None else {}
    timeout = aiohttp.ClientTimeout(total=LINE_TIMEOUT_S)
    async with (
        aiohttp.ClientSession(timeout=timeout) as session,
        session.request(method, stream_url(base_url, params), headers=headers) as response,
    ):
        return response.status, response.headers["Content-Type"], await response.text()


def of(topic: str, kind: str, key: str | None = None) -> Callable[[Event], bool]:
    """Matches events of that topic and type (and key, if given)."""
    return lambda e: e["Topic"] == topic and e["Type"] == kind and key in (None, e["Key"])


async def started(stream: EventStream) -> EventStream:
    """Past the `{}` sent on connect: what follows was published after the stream opened."""
    assert await stream.line() == {}
    return stream


def running_on(event: Event, job: str) -> bool:
    """Whether the event is an allocation of `job` that is running."""
    alloc = event["Payload"].get("Allocation") or {}
    return bool(alloc.get("JobID") == job and alloc.get("ClientStatus") == "running")
