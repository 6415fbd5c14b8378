"""Contract: where the simulator's event stream starts, as Nomad v1.9.x's does: `index` is
inclusive, the buffer holds `event_buffer_size` Raft entries (Nomad's default 100) and a
stream asked to start before them starts silently at the oldest.
Sources are named in each test's docstring; the overview is in test_contract_http_events.
"""

from __future__ import annotations

import asyncio
import socket

import pytest

from nomad_bridge.sim import SimConfig, SimServer, Simulator
from nomad_bridge.sim.testing import batch_job
from tests.sim.event_streams import (
    EventStream,
    of,
    open_stream,
    started,
    stream_url,
)
from tests.sim.harness import NomadHttp, config_with, nomad_http, register
from tests.support import job_spec

BIG_VALUE_BYTES = 256 * 1024


# --- index and buffer ----------------------------------------------------------------------


async def test_index_replays_from_and_including_that_entry(
    http: NomadHttp, sim_server: SimServer
) -> None:
    """`index=N` starts at the entry with index N, included; earlier entries are not sent.

    Source: nomad/stream/event_broker.go Subscribe (StartAtClosest(req.Index));
    nomad/stream/event_buffer.go StartAtClosest (index == item.Index → that item).
    """
    first = await register(http, job_spec("ev-first"))
    second = await register(http, job_spec("ev-second"))

    params = [("topic", "Job"), ("index", second["JobModifyIndex"])]
    async with open_stream(sim_server.url, params) as stream:
        line = await stream.data_line()

    assert first["JobModifyIndex"] < second["JobModifyIndex"]
    assert line["Index"] == second["JobModifyIndex"]
    assert [(e["Type"], e["Key"]) for e in line["Events"]] == [("JobRegistered", "ev-second")]


async def test_index_without_an_entry_starts_at_the_next_entry(
    http: NomadHttp, sim_server: SimServer
) -> None:
    """An index with no buffered entry (a variable write publishes nothing) starts at the
    first entry after it.

    Source: nomad/stream/event_buffer.go StartAtClosest (index < item.Index → that item);
    nomad/state/events.go MsgTypeEvents (no VarApplyStateRequestType).
    """
    quiet = await http.put("/v1/var/ev/quiet", body={"Items": {"k": "v"}})
    written = await register(http, job_spec("ev-after-var"))

    params = [("topic", "Job"), ("index", quiet.index)]
    async with open_stream(sim_server.url, params) as stream:
        line = await stream.data_line()

    assert quiet.index < written["JobModifyIndex"] == line["Index"]


async def test_index_zero_replays_the_buffer_from_the_oldest_entry(
    http: NomadHttp, sim_server: SimServer
) -> None:
    """`index=0` (the default) replays the buffered events from the oldest, then goes live.

    Source: nomad/stream/event_broker.go Subscribe (req.Index == 0 → eventBuf.Head());
    api-docs/events.mdx (`index`, default 0).
    """
    first = await register(http, job_spec("ev-old"))

    async with open_stream(sim_server.url, [("topic", "Job")]) as stream:
        line, _ = await stream.until(of("Job", "JobRegistered", "ev-old"))

    assert line["Index"] == first["JobModifyIndex"]


class TestQuietCluster:
    """A buffer of three entries, and no scheduler activity to fill it."""

    @pytest.fixture
    def sim_config(self, sim_config: SimConfig) -> SimConfig:
        return config_with(sim_config, event_buffer_size=3, eval_delay_s=60.0)

    async def test_index_beyond_the_newest_entry_resends_the_newest(
        self, simulator: Simulator, sim_server: SimServer
    ) -> None:
        """An index past the newest entry starts at the newest entry, which is sent again: a
        reader resuming with `last + 1` gets `last` once more until something newer exists.

        Source: nomad/stream/event_buffer.go StartAtClosest (past the tail → the tail; see
        TestEventBuffer_StartAt_CurrentIdx_Past_Start "requested index greater than tail
        receives tail"); hashicorp/nomad issue #11296.
        """
        newest = simulator.register_job_spec(batch_job("newest"))["Index"]

        params = [("topic", "Job"), ("index", newest + 1)]
        async with open_stream(sim_server.url, params) as stream:
            line = await stream.data_line()

        assert line["Index"] == newest

    async def test_a_negative_index_is_400_invalid_index_and_streams_on(
        self, simulator: Simulator, sim_server: SimServer
    ) -> None:
        """Atoi takes `-1`, then the usual query parsing refuses it as an unsigned integer:
        the status becomes 400 with `Invalid index` written, yet the request goes on, so the
        stream follows that text; the index, cast to uint64, is past the newest entry.

        Source: command/agent/event_endpoint.go (strconv.Atoi, then s.parse, whose result
        is ignored); command/agent/http.go parseWait (ParseUint → 400 "Invalid index",
        return true); nomad/event_endpoint.go (Index: uint64(args.Index)).
        """
        newest = simulator.register_job_spec(batch_job("negative"))["Index"]
        async with (
            nomad_http(sim_server.url) as raw,
            raw.session.get(
                stream_url(sim_server.url, [("topic", "Job"), ("index", "-1")])
            ) as response,
        ):
            stream = EventStream(response)
            head = await stream.raw_line()
            line = await stream.data_line()

        assert (response.status, response.headers["Content-Type"]) == (400, "application/json")
        assert head == b"Invalid index{}\n"
        assert line["Index"] == newest

    async def test_the_buffer_keeps_event_buffer_size_entries_after_its_head(
        self, simulator: Simulator, sim_server: SimServer
    ) -> None:
        """The buffer keeps `event_buffer_size` items after its head, so once it has wrapped
        a reader from index 0 replays size + 1 entries, the oldest ones dropped.

        Source: nomad/stream/event_buffer.go (appendItem: advanceHead while size >
        maxSize; the head is not counted); TestEventBuffer_Slow_Reader (size 10, after 15
        appends the head is the fifth).
        """
        indexes = [simulator.register_job_spec(batch_job(f"b{n}"))["Index"] for n in range(6)]

        async with open_stream(sim_server.url, [("topic", "Job")]) as stream:
            await started(stream)
            replayed = await stream.lines_for()

        assert [line["Index"] for line in replayed] == indexes[-4:]

    async def test_an_index_older_than_the_buffer_silently_starts_at_its_oldest_entry(
        self, simulator: Simulator, sim_server: SimServer
    ) -> None:
        """A reader asking for an index the buffer no longer holds starts at the oldest
        entry it holds, with no error and nothing to tell it events were missed.

        Source: nomad/stream/event_buffer.go StartAtClosest (index < head → head);
        event_broker.go Subscribe (only logs "requested index no longer in buffer");
        api-docs/events.mdx ("the stream will start at the next available index").
        """
        indexes = [simulator.register_job_spec(batch_job(f"o{n}"))["Index"] for n in range(6)]

        params = [("topic", "Job"), ("index", indexes[0])]
        async with open_stream(sim_server.url, params) as stream:
            first = await stream.raw_line()
            line = await stream.data_line()

        assert first == b"{}\n"
        assert line["Index"] == indexes[2]

    async def test_a_reader_too_slow_for_the_buffer_is_cut_off(
        self, simulator: Simulator, sim_server: SimServer
    ) -> None:
        """A reader that falls so far behind that the last entry it was sent leaves the
        buffer gets what was already on its way, then the stream ends with the text
        `event dropped from buffer` (no newline) and a complete response.

        Source: nomad/stream/event_buffer.go bufferItem.Next ("event dropped from buffer"
        when the item's droppedCh is closed); nomad/event_endpoint.go (the error goes to
        handleJsonResultError); command/agent/http.go wrap (the error text is written after
        the body already sent).
        """
        reader = await _SlowReader.connect(sim_server.port, stream_url("", [("topic", "Job")]))
        try:
            for n in range(64):  # far more than socket buffers hold: the writer blocks
                big = batch_job(f"slow-{n}")
                big["Meta"] = {"blob": "x" * BIG_VALUE_BYTES}
                simulator.register_job_spec(big)
                await asyncio.sleep(0)  # let the writer run
            body = await reader.body()
        finally:
            reader.close()

        assert body.startswith(b"{}\n")
        assert body.endswith(b"}\nevent dropped from buffer")


class _SlowReader:
    """A raw HTTP/1.1 client with a tiny receive buffer that reads only when told to."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def connect(cls, port: int, target: str) -> _SlowReader:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.setblocking(False)
        await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", port))
        reader, writer = await asyncio.open_connection(sock=sock, limit=2**16)
        writer.write(f"GET {target} HTTP/1.1\r\nHost: sim\r\n\r\n".encode())
        await writer.drain()
        assert (await reader.readline()).startswith(b"HTTP/1.1 200")
        while await reader.readline() != b"\r\n":
            pass
        return cls(reader, writer)

    async def body(self) -> bytes:
        """The chunked body to its end."""
        chunks = []
        while size := int((await asyncio.wait_for(self.reader.readline(), 10)).strip(), 16):
            chunks.append(await self.reader.readexactly(size))
            await self.reader.readexactly(2)
        return b"".join(chunks)

    def close(self) -> None:
        self.writer.close()


def test_the_buffer_size_is_nomads_default_of_100() -> None:
    """`event_buffer_size` defaults to 100 (0 also means 100).

    Source: command/agent/config.go (EventBufferSize: pointer.Of(100));
    nomad/stream/event_broker.go NewEventBroker (0 → 100).
    """
    assert SimConfig().event_buffer_size == 100


async def test_with_the_default_buffer_101_entries_are_replayed(sim_config: SimConfig) -> None:
    """With the default size, after 102 entries a reader from index 0 starts at the second.

    Source: nomad/stream/event_buffer.go (size items after the head).
    """
    simulator = Simulator(config_with(sim_config, eval_delay_s=60.0, event_buffer_size=0))
    indexes = [simulator.register_job_spec(batch_job(f"d{n}"))["Index"] for n in range(102)]
    server = SimServer(simulator)
    await server.start()
    try:
        async with open_stream(server.url, [("topic", "Job")]) as stream:
            line = await stream.data_line()
    finally:
        await server.stop()

    assert line["Index"] == indexes[1]
