"""Contract: the simulator's event stream behaves like Nomad v1.9.x.

`GET /v1/event/stream` is NDJSON: `{}` heartbeats and `{"Index":N,"Events":[...]}` lines, one
line per Raft entry. Sources: website/content/api-docs/events.mdx; command/agent/
event_endpoint.go (EventStream, parseEventTopics, parseTopic); command/agent/http.go (wrap,
parse); nomad/event_endpoint.go (Event.stream, validateACL); nomad/stream/ndjson.go
(JsonStream); nomad/stream/event_broker.go (Subscribe); nomad/stream/event_buffer.go
(eventBuffer, StartAtClosest, bufferItem.Next); nomad/stream/subscription.go (filter);
nomad/state/events.go (eventFromChange, MsgTypeEvents); nomad/structs/event.go;
command/agent/config.go (event_buffer_size). ACL facts are in test_contract_http_events_acl.
"""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import pytest

from nomad_bridge.sim import SimConfig, SimServer, Simulator
from nomad_bridge.sim.testing import batch_job
from tests.sim.event_streams import (
    EventStream,
    of,
    open_stream,
    refused,
    stream_url,
)
from tests.sim.harness import NomadHttp, config_with, nomad_http, register, wait_for_summary
from tests.support import job_spec

HEARTBEAT_S = 0.05
BIG_VALUE_BYTES = 256 * 1024


@pytest.fixture
def sim_config(sim_config: SimConfig) -> SimConfig:
    """Two namespaces, so namespace filters have something to tell apart."""
    return config_with(sim_config, namespaces=["default", "team"])


def _alloc(event: dict[str, Any]) -> dict[str, Any]:
    alloc: dict[str, Any] = event["Payload"]["Allocation"]
    return alloc


async def _started(stream: EventStream) -> EventStream:
    """Past the `{}` sent on connect: what follows was published after the stream opened."""
    assert await stream.line() == {}
    return stream


# --- framing -----------------------------------------------------------------------------


async def test_stream_sends_an_empty_object_at_once(sim_server: SimServer) -> None:
    """On connect the stream answers 200 and sends a `{}` heartbeat line right away.

    Source: nomad/stream/ndjson.go NewJsonStream ("sends an initial heartbeat to notify the
    client about the successful connection initialization"); api-docs/events.mdx.
    """
    async with open_stream(sim_server.url, [("topic", "Job")]) as stream:
        first = await stream.raw_line()

    assert first == b"{}\n"


async def test_stream_is_a_chunked_json_answer_that_is_not_cached(sim_server: SimServer) -> None:
    """200 with `Content-Type: application/json` and `Cache-Control: no-cache`, no length
    (chunked) and no X-Nomad-Index: the stream is not a blocking query.

    Source: command/agent/event_endpoint.go EventStream (resp.Header().Set("Content-Type",
    "application/json"); Set("Cache-Control", "no-cache")); ioutils.NewWriteFlusher.
    """
    async with open_stream(sim_server.url, [("topic", "Job")]) as stream:
        await stream.line()
        headers = stream.response.headers

    assert headers["Content-Type"] == "application/json"
    assert headers["Cache-Control"] == "no-cache"
    assert headers["Transfer-Encoding"] == "chunked"
    assert "Content-Length" not in headers
    assert "X-Nomad-Index" not in headers


async def test_heartbeats_keep_coming_while_events_flow(
    simulator: Simulator, sim_server: SimServer
) -> None:
    """`{}` goes out on a ticker, every heartbeat interval whether or not events are sent
    in between: a busy stream has heartbeats too.

    Source: nomad/stream/ndjson.go (heartbeat(): time.NewTicker, not an idle timer);
    nomad/event_endpoint.go (NewJsonStream(ctx, 30*time.Second)).
    """
    simulator.config.heartbeat_interval_s = HEARTBEAT_S
    heartbeats_after_data = 0

    async def churn() -> None:
        for n in range(10_000):
            simulator.register_job_spec(batch_job(f"busy-{n % 5}", main=1 + n % 2))
            await asyncio.sleep(HEARTBEAT_S / 10)

    async with open_stream(sim_server.url, [("topic", "Job")]) as stream:
        busy = asyncio.create_task(churn())
        try:
            await stream.data_line()
            while heartbeats_after_data < 3:
                if await stream.line() == {}:
                    heartbeats_after_data += 1
        finally:
            busy.cancel()

    assert heartbeats_after_data == 3


def test_the_heartbeat_interval_is_thirty_seconds_by_default() -> None:
    """Nomad's heartbeat period is fixed at 30 s; the simulator's setting defaults to it.

    Source: nomad/event_endpoint.go (stream.NewJsonStream(ctx, 30*time.Second)).
    """
    assert SimConfig().heartbeat_interval_s == 30.0


# --- payloads and types ------------------------------------------------------------------


async def test_register_emits_job_registered_with_the_whole_job(
    http: NomadHttp, sim_server: SimServer
) -> None:
    """A register produces a line {"Index": N, "Events": [{"Topic": "Job", "Type":
    "JobRegistered", "Key": <id>, "Namespace": "default", "FilterKeys": null, "Index": N,
    "Payload": {"Job": {...}}}]}: N is the register's JobModifyIndex and the payload is the
    whole job, as GET /v1/job/:id shows it.

    Source: api-docs/events.mdx (event shape); nomad/state/events.go eventFromChange ("jobs":
    Key job ID, no FilterKeys, structs.JobEvent{Job}); MsgTypeEvents (JobRegisterRequestType
    → JobRegistered).
    """
    async with open_stream(sim_server.url, [("topic", "Job")]) as stream:
        await _started(stream)
        written = await register(http, job_spec("ev-reg", Meta={"autostart": "true"}))
        line, event = await stream.until(of("Job", "JobRegistered", "ev-reg"))
    job = (await http.get("/v1/job/ev-reg")).json()

    assert line["Index"] == event["Index"] == written["JobModifyIndex"]
    assert (event["Namespace"], event["FilterKeys"]) == ("default", None)
    assert list(event) == ["Topic", "Type", "Key", "Namespace", "FilterKeys", "Index", "Payload"]
    payload = event["Payload"]["Job"]
    assert payload["Meta"] == {"autostart": "true"}
    assert payload["TaskGroups"] == job["TaskGroups"]
    assert payload["JobModifyIndex"] == job["JobModifyIndex"]


async def test_stop_emits_job_deregistered_with_the_stopped_job(
    http: NomadHttp, sim_server: SimServer
) -> None:
    """A stop produces a JobDeregistered event whose payload is the job with Stop true, at the
    stop's index.

    Source: api-docs/events.mdx; nomad/state/events.go (JobDeregisterRequestType →
    JobDeregistered); nomad/fsm.go handleJobDeregister.
    """
    await register(http, job_spec("ev-stop"))
    async with open_stream(sim_server.url, [("topic", "Job:ev-stop")]) as stream:
        await _started(stream)
        stopped = (await http.delete("/v1/job/ev-stop")).json()
        line, event = await stream.until(of("Job", "JobDeregistered", "ev-stop"))

    assert line["Index"] == stopped["JobModifyIndex"]
    assert event["Payload"]["Job"]["Stop"] is True


async def test_purge_emits_job_deregistered_with_the_last_job(
    http: NomadHttp, sim_server: SimServer
) -> None:
    """A purge deletes the job and still publishes JobDeregistered, the payload being the job
    as it was (1.7.x and later).

    Source: nomad/state/events.go eventFromChange (deleted rows of "jobs"), hashicorp/nomad
    PR #19903 "events: emit event when job is deleted".
    """
    await register(http, job_spec("ev-purge"))
    async with open_stream(sim_server.url, [("topic", "Job:ev-purge")]) as stream:
        await _started(stream)
        await http.delete("/v1/job/ev-purge", params={"purge": "true"})
        _, event = await stream.until(of("Job", "JobDeregistered", "ev-purge"))

    assert event["Payload"]["Job"]["ID"] == "ev-purge"
    assert (await http.get("/v1/job/ev-purge")).status == 404


async def test_scale_emits_job_registered_with_the_new_count(
    http: NomadHttp, sim_server: SimServer
) -> None:
    """A scale re-registers the job, so the Job topic gets JobRegistered at the scale's
    JobModifyIndex with the new count in the payload.

    Source: nomad/job_endpoint.go Job.Scale (raftApply JobRegisterRequestType);
    nomad/state/events.go MsgTypeEvents (JobRegisterRequestType → JobRegistered).
    """
    await register(http, job_spec("ev-scale", Type="batch"))
    async with open_stream(sim_server.url, [("topic", "Job:ev-scale")]) as stream:
        await _started(stream)
        scaled = await http.post(
            "/v1/job/ev-scale/scale", body={"Count": 3, "Target": {"Group": "web"}}
        )
        at = scaled.json()["JobModifyIndex"]
        line, event = await stream.until(
            lambda e: of("Job", "JobRegistered", "ev-scale")(e) and e["Index"] >= at
        )

    assert line["Index"] == at
    assert event["Payload"]["Job"]["TaskGroups"][0]["Count"] == 3


async def test_allocation_topic_filters_by_job_id_and_omits_the_job(
    http: NomadHttp, sim_server: SimServer
) -> None:
    """`topic=Allocation:<job>` matches allocations through their FilterKeys [JobID,
    DeploymentID]; placement arrives as PlanResult, client progress as AllocationUpdated,
    and the payload {"Allocation": {...}} carries `"Job": null`.

    Source: nomad/structs/event.go AllocationEvent ("The Allocs embedded Job has been removed
    to reduce size"); nomad/state/events.go eventFromChange (alloc.Job = nil; FilterKeys) and
    MsgTypeEvents (ApplyPlanResultsRequestType → PlanResult, AllocClientUpdateRequestType →
    AllocationUpdated); api-docs/events.mdx ("Allocation (no job information)").
    """
    async with open_stream(sim_server.url, [("topic", "Allocation:ev-alloc")]) as stream:
        await _started(stream)
        await register(http, job_spec("ev-alloc", {"web": 1}))
        await register(http, job_spec("ev-noise", {"web": 1}))
        await stream.until(
            lambda e: e["Type"] == "AllocationUpdated" and _alloc(e)["ClientStatus"] == "running"
        )

    events = stream.events()
    assert {e["Topic"] for e in events} == {"Allocation"}
    assert {_alloc(e)["JobID"] for e in events} == {"ev-alloc"}
    assert all(e["FilterKeys"] == ["ev-alloc", _alloc(e)["DeploymentID"]] for e in events)
    assert all("Job" in _alloc(e) and _alloc(e)["Job"] is None for e in events)
    assert events[0]["Type"] == "PlanResult"
    assert _alloc(events[0])["ClientStatus"] == "pending"


async def test_evaluation_events_carry_the_evaluation_keyed_by_its_job(
    http: NomadHttp, sim_server: SimServer
) -> None:
    """An Evaluation event's Key is the evaluation ID, its FilterKeys [JobID, DeploymentID],
    its payload {"Evaluation": {...}}; the register's eval is written in the register's own
    raft entry, so its Type is JobRegistered, and the scheduler's update is
    EvaluationUpdated.

    Source: nomad/state/events.go eventFromChange ("evals") and MsgTypeEvents;
    nomad/job_endpoint.go Job.Register (the eval goes in the JobRegisterRequest).
    """
    async with open_stream(sim_server.url, [("topic", "Evaluation:ev-eval")]) as stream:
        await _started(stream)
        written = await register(http, job_spec("ev-eval", Type="batch"))
        _, done = await stream.until(lambda e: e["Payload"]["Evaluation"]["Status"] == "complete")

    first = stream.events()[0]
    assert (first["Type"], first["Key"], first["Index"]) == (
        "JobRegistered",
        written["EvalID"],
        written["JobModifyIndex"],
    )
    assert first["FilterKeys"] == ["ev-eval", ""]
    assert (done["Type"], done["Key"]) == ("EvaluationUpdated", written["EvalID"])


async def test_deployment_events_carry_the_deployment_keyed_by_its_job(
    http: NomadHttp, sim_server: SimServer
) -> None:
    """A service job's deployment is published on the Deployment topic with FilterKeys
    [JobID]: created by the scheduler's plan (PlanResult), finished by the deployment
    watcher (DeploymentStatusUpdate).

    Source: nomad/state/events.go eventFromChange ("deployment": Key ID, FilterKeys
    [JobID], structs.DeploymentEvent) and MsgTypeEvents (DeploymentStatusUpdateRequestType →
    DeploymentStatusUpdate).
    """
    async with open_stream(sim_server.url, [("topic", "Deployment:ev-deploy")]) as stream:
        await _started(stream)
        await register(http, job_spec("ev-deploy", {"web": 1}))
        _, done = await stream.until(of("Deployment", "DeploymentStatusUpdate"))

    first = stream.events()[0]
    assert first["Type"] == "PlanResult"
    assert first["FilterKeys"] == ["ev-deploy"]
    assert first["Key"] == first["Payload"]["Deployment"]["ID"] == done["Key"]
    assert done["Payload"]["Deployment"]["Status"] == "successful"


async def test_summaries_publish_nothing_and_have_no_topic(
    http: NomadHttp, sim_server: SimServer
) -> None:
    """Job summaries are not published: everything a job's life writes arrives on the Job,
    Evaluation, Allocation and Deployment topics, and `topic=JobSummary` (accepted: topics are
    not validated) never carries an event.

    Source: nomad/state/events.go eventFromChange (no case for "job_summary");
    nomad/structs/event.go (the Topic constants); command/agent/event_endpoint.go
    parseEventTopics (no validation).
    """
    async with (
        open_stream(sim_server.url, [("namespace", "*")]) as everything,
        open_stream(sim_server.url, [("topic", "JobSummary")]) as summaries,
    ):
        await _started(everything)
        await _started(summaries)
        await register(http, job_spec("ev-summary", {"web": 2}))
        await wait_for_summary(http, "ev-summary", "web", Running=2)
        await everything.until(lambda e: _running(e, "ev-summary"))
        nothing = await summaries.lines_for()

    assert nothing == []
    assert {e["Topic"] for e in everything.events()} <= {
        "Job",
        "Evaluation",
        "Allocation",
        "Deployment",
    }


def _running(event: dict[str, Any], job: str) -> bool:
    alloc = event["Payload"].get("Allocation") or {}
    return bool(alloc.get("JobID") == job and alloc.get("ClientStatus") == "running")


async def test_lines_are_raft_entries_in_index_order(
    http: NomadHttp, sim_server: SimServer
) -> None:
    """Data lines carry strictly increasing Index values, one line per Raft entry, and every
    event in a line carries that line's Index.

    Source: nomad/stream/event_buffer.go (one bufferItem per raft index, appended in order);
    nomad/state/events.go eventsFromChanges (event.Index = changes.Index).
    """
    async with open_stream(sim_server.url, [("topic", "*")]) as stream:
        await _started(stream)
        for n in range(3):
            await register(http, job_spec(f"ev-order-{n}"))
        await http.delete("/v1/job/ev-order-0")
        await stream.until(of("Job", "JobDeregistered", "ev-order-0"))
        await stream.lines_for()

    lines = stream.data
    indexes = [line["Index"] for line in lines]
    assert indexes == sorted(set(indexes))
    assert all(e["Index"] == line["Index"] for line in lines for e in line["Events"])


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
            await _started(stream)
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


# --- filters -------------------------------------------------------------------------------


async def test_topic_with_a_job_id_only_sees_that_job(
    http: NomadHttp, sim_server: SimServer
) -> None:
    """`topic=Job:<id>` delivers only events whose Key (or FilterKeys) is that job.

    Source: api-docs/events.mdx (topic filter `Topic:Key`); command/agent/event_endpoint.go
    parseTopic; nomad/stream/subscription.go filter (eventMatchesKey: Key or FilterKeys).
    """
    async with open_stream(sim_server.url, [("topic", "Job:ev-mine")]) as stream:
        await _started(stream)
        await register(http, job_spec("ev-other"))
        await register(http, job_spec("ev-mine"))
        await stream.until(of("Job", "JobRegistered", "ev-mine"))
        await register(http, job_spec("ev-other", {"web": 2}))
        await stream.lines_for()

    assert {(e["Topic"], e["Key"]) for e in stream.events()} == {("Job", "ev-mine")}


@pytest.mark.parametrize("topic", ["Job", "Job:*"])
async def test_a_topic_alone_or_with_star_is_every_event_of_that_topic(
    http: NomadHttp, sim_server: SimServer, topic: str
) -> None:
    """`topic=Job` means `Job:*`: every Job event, none of the evaluations and allocations a
    register also writes.

    Source: command/agent/event_endpoint.go parseTopic ("infer wildcard if only given a
    topic"); nomad/stream/subscription.go filter.
    """
    async with open_stream(sim_server.url, [("topic", topic)]) as stream:
        await _started(stream)
        await register(http, job_spec("ev-a"))
        await register(http, job_spec("ev-b"))
        await stream.until(of("Job", "JobRegistered", "ev-b"))
        await stream.lines_for()

    assert {e["Topic"] for e in stream.events()} == {"Job"}
    assert {"ev-a", "ev-b"} <= {e["Key"] for e in stream.events()}


async def test_several_topics_add_up(http: NomadHttp, sim_server: SimServer) -> None:
    """Repeated `topic` parameters add up: `Job:<id>` and `Allocation:<id>` give that job's
    Job and Allocation events, nothing else.

    Source: api-docs/events.mdx ("Multiple topics may be specified by passing multiple topic
    parameters"); command/agent/event_endpoint.go parseEventTopics.
    """
    params = [("topic", "Job:ev-both"), ("topic", "Allocation:ev-both")]
    async with open_stream(sim_server.url, params) as stream:
        await _started(stream)
        await register(http, job_spec("ev-noise-2"))
        await register(http, job_spec("ev-both"))
        await stream.until(lambda e: _running(e, "ev-both"))

    topics = {e["Topic"] for e in stream.events()}
    assert topics == {"Job", "Allocation"}
    assert all("ev-both" in (e["Key"], *(e["FilterKeys"] or ())) for e in stream.events())


async def test_a_key_given_twice_repeats_its_events(http: NomadHttp, sim_server: SimServer) -> None:
    """Nomad appends an event once per matching key, so asking for a key twice repeats it.

    Source: nomad/stream/subscription.go filter (the inner `for _, key := range keys`
    appends on every match; its `continue` only continues that loop).
    """
    params = [("topic", "Job:ev-twice"), ("topic", "Job:ev-twice")]
    async with open_stream(sim_server.url, params) as stream:
        await _started(stream)
        await register(http, job_spec("ev-twice"))
        line, _ = await stream.until(of("Job", "JobRegistered", "ev-twice"))

    assert [e["Key"] for e in line["Events"]] == ["ev-twice", "ev-twice"]


async def test_a_star_next_to_a_key_matches_only_that_key(
    http: NomadHttp, sim_server: SimServer
) -> None:
    """`topic=Job` together with `topic=Job:<id>` gives that job's events only: `*` means
    "every key" only when it is the topic's sole key.

    Source: nomad/stream/subscription.go filter (`len(keys) == 1 && keys[0] == "*"`, else
    each key is compared with Key and FilterKeys, where `*` matches nothing).
    """
    params = [("topic", "Job"), ("topic", "Job:ev-only")]
    async with open_stream(sim_server.url, params) as stream:
        await _started(stream)
        await register(http, job_spec("ev-hidden"))
        await register(http, job_spec("ev-only"))
        await stream.until(of("Job", "JobRegistered", "ev-only"))
        await stream.lines_for()

    assert {e["Key"] for e in stream.events()} == {"ev-only"}


async def test_namespace_defaults_to_default_and_star_means_all(
    http: NomadHttp, sim_server: SimServer
) -> None:
    """Without `namespace` the stream carries the `default` namespace's events only;
    `namespace=team` that namespace's; `namespace=*` every namespace's.

    Source: command/agent/http.go parseNamespace (default "default");
    nomad/event_endpoint.go validateACL ("*" → every namespace); api-docs/events.mdx.
    """
    async with (
        open_stream(sim_server.url, [("topic", "Job")]) as plain,
        open_stream(sim_server.url, [("topic", "Job"), ("namespace", "team")]) as team,
        open_stream(sim_server.url, [("topic", "Job"), ("namespace", "*")]) as every,
    ):
        for stream in (plain, team, every):
            await _started(stream)
        await register(http, job_spec("ev-team"), params={"namespace": "team"})
        await register(http, job_spec("ev-default"))
        await plain.until(of("Job", "JobRegistered", "ev-default"))
        await every.until(of("Job", "JobRegistered", "ev-default"))
        await team.until(of("Job", "JobRegistered", "ev-team"))
        await team.lines_for()

    assert {e["Namespace"] for e in plain.events()} == {"default"}
    assert {e["Namespace"] for e in team.events()} == {"team"}
    assert {e["Key"] for e in every.events()} >= {"ev-team", "ev-default"}


async def test_a_filter_expression_is_ignored(http: NomadHttp, sim_server: SimServer) -> None:
    """The event stream has no `filter`: an expression that matches nothing changes nothing.

    Source: command/agent/event_endpoint.go (parse() reads `filter` into QueryOptions);
    nomad/event_endpoint.go Event.stream (never reads args.Filter).
    """
    params = [("topic", "Job"), ("filter", 'ID == "no-such-job"')]
    async with open_stream(sim_server.url, params) as stream:
        await _started(stream)
        await register(http, job_spec("ev-unfiltered"))
        _, event = await stream.until(of("Job", "JobRegistered", "ev-unfiltered"))

    assert event["Key"] == "ev-unfiltered"


# --- errors --------------------------------------------------------------------------------


async def test_malformed_topic_is_400(sim_server: SimServer) -> None:
    """A topic with more than one `:` is refused before streaming: 400 `Invalid topic query:
    error parsing topics: Invalid key value pair for topic, topic: <topic>`.

    Source: command/agent/event_endpoint.go EventStream (parseEventTopics error →
    CodedError(400, "Invalid topic query: ...")) and parseTopic.
    """
    answer = await refused(sim_server.url, [("topic", "Job:a:b")])

    assert answer == (
        400,
        "text/plain; charset=utf-8",
        "Invalid topic query: error parsing topics: "
        "Invalid key value pair for topic, topic: Job:a:b",
    )


async def test_non_numeric_index_is_400_unable_to_parse_index(sim_server: SimServer) -> None:
    """A non-numeric `index` is refused before streaming: 400
    `Unable to parse index: strconv.Atoi: parsing "abc": invalid syntax`.

    Source: command/agent/event_endpoint.go EventStream (strconv.Atoi →
    CodedError(400, "Unable to parse index: ...")).
    """
    status, _, text = await refused(sim_server.url, [("topic", "Job"), ("index", "abc")])

    assert status == 400
    assert text == 'Unable to parse index: strconv.Atoi: parsing "abc": invalid syntax'


async def test_methods_other_than_get_are_405(sim_server: SimServer) -> None:
    """POST (or any method but GET) is 405 `Invalid method`.

    Source: command/agent/event_endpoint.go EventStream (req.Method != http.MethodGet →
    CodedError(405, ErrInvalidMethod)).
    """
    answer = await refused(sim_server.url, [("topic", "Job")], method="POST")

    assert answer[0::2] == (405, "Invalid method")


async def test_a_bad_wait_is_400_invalid_wait_time_and_streams_on(sim_server: SimServer) -> None:
    """`wait` means nothing here, yet the usual query parsing checks it: a bad duration sets
    400 and writes `Invalid wait time`, and the stream follows that text.

    Source: command/agent/http.go parseWait (time.ParseDuration error → 400 "Invalid wait
    time", return true); command/agent/event_endpoint.go (s.parse's result is ignored).
    """
    async with (
        nomad_http(sim_server.url) as raw,
        raw.session.get(stream_url(sim_server.url, [("topic", "Job"), ("wait", "30")])) as response,
    ):
        head = await EventStream(response).raw_line()

    assert response.status == 400
    assert head == b"Invalid wait time{}\n"


async def test_an_unknown_region_is_500_no_path_to_region(sim_server: SimServer) -> None:
    """A region the cluster cannot forward to is 500 `No path to region`, sent after the
    stream's JSON content type was set.

    Source: nomad/event_endpoint.go Event.stream (forwardStreamingRPC error →
    handleJsonResultError(err, 500)); nomad/rpc.go findRegionServer.
    """
    answer = await refused(sim_server.url, [("topic", "Job"), ("region", "mars")])

    assert answer == (500, "application/json", "No path to region")
