"""A process holding many `waitIndex` long polls on the bridge at once.

    python -m bench.waitclient URL --count 2500 --wait-index N

It opens `count` connections (a bounded number at a time), sends one long poll on each,
prints `sent COUNT` once every request is on the wire, then records the moment
(`time.monotonic()`, shared by every process on this machine) each full answer arrived and
prints one JSON object: {"answers": [stamps...], "errors": N}.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from urllib.parse import urlsplit

from bench.loadgen import Exchange, request_bytes
from bench.processes import raise_fd_limit

CONNECT_CONCURRENCY = 64
CONNECT_TIMEOUT_S = 30.0


class Stamps:
    def __init__(self) -> None:
        self.answers: list[float] = []
        self.errors = 0

    def record(self, ok: bool, _size: int, _latency_s: float) -> bool:
        if ok:
            self.answers.append(time.monotonic())
        else:
            self.errors += 1
        return False  # one long poll per connection


async def hold(url: str, count: int, wait_index: int, timeout_s: float) -> Stamps:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    request = request_bytes(host, port, target, {"waitIndex": str(wait_index)})
    loop = asyncio.get_running_loop()
    stamps = Stamps()
    gate = asyncio.Semaphore(CONNECT_CONCURRENCY)

    async def open_one() -> Exchange:
        async with gate:
            _, exchange = await asyncio.wait_for(
                loop.create_connection(lambda: Exchange(request, stamps.record), host, port),
                CONNECT_TIMEOUT_S,
            )
            return exchange

    exchanges = await asyncio.gather(*(open_one() for _ in range(count)))
    print(f"sent {count}", flush=True)
    _, pending = await asyncio.wait([e.closed for e in exchanges], timeout=timeout_s)
    for exchange in exchanges:
        exchange.abort()
    stamps.errors += len(pending)
    return stamps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("url")
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--wait-index", type=int, required=True)
    parser.add_argument("--timeout-s", type=float, default=120.0)
    args = parser.parse_args()
    raise_fd_limit()
    stamps = asyncio.run(hold(args.url, args.count, args.wait_index, args.timeout_s))
    print(json.dumps({"answers": stamps.answers, "errors": stamps.errors}), flush=True)


if __name__ == "__main__":
    main()
