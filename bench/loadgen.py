"""The load generator process when `wrk` is not installed.

    python -m bench.loadgen URL --connections 32 --duration-s 10 [--max-requests N]

Each connection sends one `GET` at a time over keep-alive and reads every body in full
(by `Content-Length`); the run stops at the duration or the request budget, whichever
comes first, and prints one JSON object: requests, errors, elapsed_s, bytes, rps and
latency percentiles.

It speaks HTTP/1.1 through a bare `asyncio.Protocol` rather than aiohttp's client: on this
2-core machine aiohttp's client used a whole core to read what a bare aiohttp server wrote
with a third of one, so it, not the server, set the pace. Counting bytes costs a few
microseconds per response, so the server under test is the bottleneck.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from bench.stats import percentile

CONNECT_TIMEOUT_S = 10.0
OVERRUN_S = 60.0
"""How long past the duration a request already sent may take before it is abandoned."""
HEAD_END = b"\r\n\r\n"

Completion = Callable[[bool, int, float], bool]
"""`(ok, body_bytes, latency_s) -> send another?`"""


@dataclass
class Tally:
    deadline: float
    budget: int
    requests: int = 0
    errors: int = 0
    bytes: int = 0
    latencies_s: list[float] = field(default_factory=list)

    def record(self, ok: bool, size: int, latency_s: float) -> bool:
        if ok:
            self.requests += 1
            self.bytes += size
            self.latencies_s.append(latency_s)
        else:
            self.errors += 1
        return self.requests + self.errors < self.budget and time.monotonic() < self.deadline


class Exchange(asyncio.Protocol):
    """One keep-alive connection: send, read the answer by Content-Length, repeat."""

    def __init__(self, request: bytes, on_answer: Completion) -> None:
        self._request = request
        self._on_answer = on_answer
        self._transport: asyncio.Transport | None = None
        self._head = bytearray()
        self._status_ok = False
        self._need = -1  # body bytes expected; -1 while reading the head
        self._got = 0
        self._started = 0.0
        self.closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        self._send()

    def _send(self) -> None:
        assert self._transport is not None
        self._head.clear()
        self._need, self._got = -1, 0
        self._started = time.perf_counter()
        self._transport.write(self._request)

    def data_received(self, data: bytes) -> None:
        if self._need < 0:
            self._head += data
            end = self._head.find(HEAD_END)
            if end < 0:
                return
            if not self._parse_head(bytes(self._head[:end])):
                self._finish(ok=False)
                return
            self._got = len(self._head) - end - len(HEAD_END)
        else:
            self._got += len(data)
        if self._got >= self._need:
            self._finish(ok=self._status_ok)

    def _parse_head(self, head: bytes) -> bool:
        lines = head.split(b"\r\n")
        self._status_ok = lines[0].split(b" ", 2)[1:2] == [b"200"]
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                self._need = int(value)
                return True
        return False  # the servers under test always send Content-Length

    def _finish(self, *, ok: bool) -> None:
        again = self._on_answer(ok, self._got, time.perf_counter() - self._started)
        if again and ok:
            self._send()
        elif self._transport is not None:
            self._transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.closed.done():
            self.closed.set_result(None)

    def abort(self) -> None:
        if self._transport is not None:
            self._transport.abort()


def request_bytes(host: str, port: int, target: str, headers: dict[str, str]) -> bytes:
    lines = [f"GET {target} HTTP/1.1", f"Host: {host}:{port}", "Accept: */*"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


async def generate(
    url: str, connections: int, duration_s: float, budget: int, headers: dict[str, str]
) -> dict[str, float | int]:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    request = request_bytes(host, port, target, headers)
    loop = asyncio.get_running_loop()
    started = time.monotonic()
    tally = Tally(started + duration_s, budget)
    exchanges: list[Exchange] = []
    for _ in range(connections):
        _, exchange = await asyncio.wait_for(
            loop.create_connection(lambda: Exchange(request, tally.record), host, port),
            CONNECT_TIMEOUT_S,
        )
        exchanges.append(exchange)
    closed = [exchange.closed for exchange in exchanges]
    _, pending = await asyncio.wait(closed, timeout=duration_s + OVERRUN_S)
    for exchange in exchanges:
        exchange.abort()
    tally.errors += len(pending)
    elapsed = time.monotonic() - started
    samples = tally.latencies_s
    return {
        "requests": tally.requests,
        "errors": tally.errors,
        "elapsed_s": elapsed,
        "bytes": tally.bytes,
        "rps": tally.requests / elapsed if elapsed else 0.0,
        "latency_p50_s": percentile(samples, 0.50),
        "latency_p90_s": percentile(samples, 0.90),
        "latency_p99_s": percentile(samples, 0.99),
        "latency_mean_s": sum(samples) / len(samples) if samples else float("nan"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("url")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--duration-s", type=float, default=10.0)
    parser.add_argument("--max-requests", type=int, default=10_000_000)
    parser.add_argument("--header", action="append", default=[], metavar="NAME:VALUE")
    args = parser.parse_args()
    headers = dict(h.split(":", 1) for h in args.header)
    result = asyncio.run(
        generate(args.url, args.connections, args.duration_s, args.max_requests, headers)
    )
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
