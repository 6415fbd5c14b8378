"""`python -m bench.relay LISTEN_PORT UPSTREAM_PORT STATS_PORT`: a TCP relay on loopback
that counts the bytes passing each way, so that a benchmark can tell what Nomad sent the
bridge (the simulator counts requests, not bytes).

Connecting to STATS_PORT answers one JSON line, `{"down": bytes from upstream, "up": bytes
to upstream}`, and closes; sending `reset\\n` first zeroes the counters.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys

LOOPBACK = "127.0.0.1"
CHUNK_BYTES = 256 * 1024


class Counts:
    def __init__(self) -> None:
        self.down = 0
        self.up = 0


async def _pipe(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, add: str, counts: Counts
) -> None:
    try:
        while chunk := await reader.read(CHUNK_BYTES):
            setattr(counts, add, getattr(counts, add) + len(chunk))
            writer.write(chunk)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        writer.close()


async def main(listen_port: int, upstream_port: int, stats_port: int) -> None:
    counts = Counts()

    async def relay(
        client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter
    ) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(LOOPBACK, upstream_port)
        except OSError:
            client_writer.close()
            return
        await asyncio.gather(
            _pipe(client_reader, up_writer, "up", counts),
            _pipe(up_reader, client_writer, "down", counts),
        )

    async def stats(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            line = await asyncio.wait_for(reader.readline(), 1.0)
        except TimeoutError:
            line = b""
        if line.strip() == b"reset":
            counts.down = counts.up = 0
        writer.write(json.dumps({"down": counts.down, "up": counts.up}).encode() + b"\n")
        await writer.drain()
        writer.close()

    relay_server = await asyncio.start_server(relay, LOOPBACK, listen_port)
    stats_server = await asyncio.start_server(stats, LOOPBACK, stats_port)
    async with relay_server, stats_server:
        await asyncio.gather(relay_server.serve_forever(), stats_server.serve_forever())


async def read_counts(stats_port: int, *, reset: bool = False) -> dict[str, int]:
    """The relay's counters (zeroed after reading when `reset`)."""
    reader, writer = await asyncio.open_connection(LOOPBACK, stats_port)
    writer.write(b"reset\n" if reset else b"\n")
    await writer.drain()
    counts: dict[str, int] = json.loads(await reader.readline())
    writer.close()
    return counts


if __name__ == "__main__":
    listen, upstream, stats_port = (int(arg) for arg in sys.argv[1:4])
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main(listen, upstream, stats_port))
