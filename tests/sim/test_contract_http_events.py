"""Contract: the simulator's event stream behaves like Nomad v1.9.x.

`GET /v1/event/stream` is NDJSON: `{}` heartbeats and `{"Index":N,"Events":[...]}` lines, one
line per Raft entry. Sources: api-docs/events.mdx; command/agent/event_endpoint.go
(EventStream, parseEventTopics); nomad/event_endpoint.go; nomad/stream/ndjson.go
(NewJsonStream: initial heartbeat); nomad/stream/event_broker.go (Subscribe, index replay);
nomad/state/events.go (event types per Raft message).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import pytest

from tests.sim.harness import NomadHttp, nomad_http, register
from tests.support import job_spec

FIRST_LINE_TIMEOUT_S = 1.0
EVENT_TIMEOUT_S = 3.0
QUIET_PERIOD_S = 0.3


class EventStream:
    """An open event stream; reads NDJSON lines with timeouts."""

    def __init__(self, resp: aiohttp.ClientResponse) -> None:
        self.resp = resp

    async def line(self, timeout_s: float = EVENT_TIMEOUT_S) -> dict[str, Any]:
        raw = await asyncio.wait_for(self.resp.content.readline(), timeout_s)
        assert raw, "event stream closed"
        decoded: dict[str, Any] = json.loads(raw)
        return decoded

    async def data_line(self, timeout_s: float = EVENT_TIMEOUT_S) -> dict[str, Any]:
        """The next line that is not a `{}` heartbeat."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while True:
            line = await self.line(max(deadline - loop.time(), 0.01))
            if line:
                return line

    async def until(self, event_type: str, key: str) -> list[dict[str, Any]]:
        """Every data line read up to and including the first with that event type and key."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + EVENT_TIMEOUT_S
        lines: list[dict[str, Any]] = []
        while True:
            line = await self.data_line(max(deadline - loop.time(), 0.01))
            lines.append(line)
            if any(_is(event, event_type, key) for event in line["Events"]):
                return lines

    async def event(self, event_type: str, key: str) -> tuple[dict[str, Any], dict[str, Any]]:
        """Read until an event of that type and key arrives; return (its line, the event)."""
        line = (await self.until(event_type, key))[-1]
        event = next(e for e in line["Events"] if _is(e, event_type, key))
        return line, event

    async def lines_for(self, period_s: float) -> list[dict[str, Any]]:
        """Every data line that arrives within `period_s`."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + period_s
        lines: list[dict[str, Any]] = []
        while (left := deadline - loop.time()) > 0:
            try:
                line = await self.line(left)
            except TimeoutError:
                break
            if line:
                lines.append(line)
        return lines


def _alloc(event: dict[str, Any]) -> dict[str, Any]:
    alloc: dict[str, Any] = event["Payload"]["Allocation"]
    return alloc


def _is(event: dict[str, Any], event_type: str, key: str) -> bool:
    return bool(event["Type"] == event_type and event["Key"] == key)


@pytest.fixture
async def http(sim_server: Any) -> AsyncIterator[NomadHttp]:
    async with nomad_http(sim_server.url) as client:
        yield client


@asynccontextmanager
async def _stream(http: NomadHttp, **params: str) -> AsyncIterator[EventStream]:
    resp = await http.session.get(
        http.url("/v1/event/stream", params), timeout=aiohttp.ClientTimeout(total=None)
    )
    try:
        assert resp.status == 200, await resp.text()
        yield EventStream(resp)
    finally:
        resp.close()


async def test_stream_sends_an_empty_object_at_once(http: NomadHttp) -> None:
    """On connect the stream answers 200 and sends a `{}` heartbeat line right away.

    Source: nomad/stream/ndjson.go NewJsonStream ("sends an initial heartbeat to notify the
    client about the successful connection initialization"); api-docs/events.mdx.
    """
    async with _stream(http, topic="Job") as stream:
        first = await stream.line(FIRST_LINE_TIMEOUT_S)

    assert first == {}


async def test_stream_content_type_is_json(http: NomadHttp) -> None:
    """The stream's Content-Type is application/json.

    Source: command/agent/event_endpoint.go EventStream (resp.Header().Set("Content-Type",
    "application/json")).
    """
    async with _stream(http, topic="Job") as stream:
        await stream.line(FIRST_LINE_TIMEOUT_S)
        content_type = stream.resp.headers["Content-Type"]

    assert content_type.startswith("application/json")


async def test_register_emits_job_registered(http: NomadHttp) -> None:
    """A register produces a line {"Index": N, "Events": [{"Topic": "Job", "Type":
    "JobRegistered", "Key": <id>, "Namespace": "default", "Index": N, "Payload": {"Job":
    {...}}}]} where N is the register's JobModifyIndex.

    Source: api-docs/events.mdx (event shape, Job payload); nomad/state/events.go
    (JobRegisterRequestType → JobRegistered).
    """
    async with _stream(http, topic="Job") as stream:
        await stream.line(FIRST_LINE_TIMEOUT_S)
        written = await register(http, job_spec("ev-reg"))
        line, event = await stream.event("JobRegistered", "ev-reg")

    assert line["Index"] == written["JobModifyIndex"]
    assert event["Topic"] == "Job"
    assert event["Namespace"] == "default"
    assert event["Index"] == line["Index"]
    assert event["Payload"]["Job"]["ID"] == "ev-reg"
    assert event["Payload"]["Job"]["Version"] == 0


async def test_stop_emits_job_deregistered_with_the_stopped_job(http: NomadHttp) -> None:
    """A stop produces a JobDeregistered event whose payload is the job with Stop true, at the
    stop's index.

    Source: api-docs/events.mdx; nomad/state/events.go (JobDeregisterRequestType →
    JobDeregistered); nomad/fsm.go handleJobDeregister.
    """
    await register(http, job_spec("ev-stop"))
    async with _stream(http, topic="Job:ev-stop") as stream:
        await stream.line(FIRST_LINE_TIMEOUT_S)
        stopped = (await http.delete("/v1/job/ev-stop")).json()
        line, event = await stream.event("JobDeregistered", "ev-stop")

    assert line["Index"] == stopped["JobModifyIndex"]
    assert event["Payload"]["Job"]["Stop"] is True


async def test_topic_with_a_job_id_only_sees_that_job(http: NomadHttp) -> None:
    """`topic=Job:<id>` delivers only events whose Key (or FilterKeys) is that job.

    Source: api-docs/events.mdx (topic filter `Topic:Key`); command/agent/event_endpoint.go
    parseTopic; nomad/stream/subscription.go (filter by Key/FilterKeys).
    """
    async with _stream(http, topic="Job:ev-mine") as stream:
        await stream.line(FIRST_LINE_TIMEOUT_S)
        await register(http, job_spec("ev-other"))
        await register(http, job_spec("ev-mine"))
        seen = await stream.until("JobRegistered", "ev-mine")
        await register(http, job_spec("ev-other", {"web": 2}))
        seen += await stream.lines_for(QUIET_PERIOD_S)

    for line in seen:
        for event in line["Events"]:
            assert event["Topic"] == "Job"
            assert event["Key"] == "ev-mine" or "ev-mine" in (event.get("FilterKeys") or [])


async def test_topic_job_excludes_other_topics(http: NomadHttp) -> None:
    """`topic=Job` delivers Job events only, although a register also writes evaluations and
    allocations.

    Source: api-docs/events.mdx (topics); nomad/stream/subscription.go (topic filter).
    """
    async with _stream(http, topic="Job") as stream:
        await stream.line(FIRST_LINE_TIMEOUT_S)
        await register(http, job_spec("ev-topic"))
        seen = await stream.until("JobRegistered", "ev-topic")
        seen += await stream.lines_for(QUIET_PERIOD_S)

    for line in seen:
        assert {event["Topic"] for event in line["Events"]} == {"Job"}


async def test_index_replays_from_and_including_that_entry(http: NomadHttp) -> None:
    """`index=N` starts at the entry with index N, included; earlier entries are not sent.

    Source: nomad/stream/event_broker.go Subscribe (StartAtClosest(req.Index));
    api-docs/events.mdx (`index`).
    """
    first = await register(http, job_spec("ev-first"))
    second = await register(http, job_spec("ev-second"))

    async with _stream(http, topic="Job", index=str(second["JobModifyIndex"])) as stream:
        line = await stream.data_line()

    assert first["JobModifyIndex"] < second["JobModifyIndex"]
    assert line["Index"] == second["JobModifyIndex"]
    keys = {(e["Type"], e["Key"]) for e in line["Events"]}
    assert ("JobRegistered", "ev-second") in keys


async def test_index_zero_replays_the_buffer_from_the_oldest_entry(http: NomadHttp) -> None:
    """`index=0` (the default) replays the buffered events from the oldest, then goes live.

    Source: nomad/stream/event_broker.go Subscribe (req.Index == 0 → buffer head);
    api-docs/events.mdx (`index`, default 0).
    """
    first = await register(http, job_spec("ev-old"))

    async with _stream(http, topic="Job") as stream:
        line, _ = await stream.event("JobRegistered", "ev-old")

    assert line["Index"] == first["JobModifyIndex"]


async def test_data_lines_arrive_in_index_order(http: NomadHttp) -> None:
    """Data lines carry strictly increasing Index values, one line per Raft entry.

    Source: nomad/stream/event_buffer.go (append-only by index); api-docs/events.mdx.
    """
    async with _stream(http, topic="Job") as stream:
        await stream.line(FIRST_LINE_TIMEOUT_S)
        for n in range(3):
            await register(http, job_spec(f"ev-order-{n}"))
        await stream.event("JobRegistered", "ev-order-2")
        await http.delete("/v1/job/ev-order-0")
        lines = await stream.lines_for(QUIET_PERIOD_S)

    indexes = [line["Index"] for line in lines]
    assert indexes == sorted(set(indexes))


async def test_malformed_topic_is_400(http: NomadHttp) -> None:
    """A topic with more than one `:` is refused before streaming: 400 `Invalid topic query:
    error parsing topics: Invalid key value pair for topic, topic: <topic>`.

    Source: command/agent/event_endpoint.go EventStream (parseEventTopics error →
    CodedError(400, "Invalid topic query: ...")) and parseTopic.
    """
    answer = await http.get("/v1/event/stream", params={"topic": "Job:a:b"})

    assert answer.status == 400
    assert answer.text == (
        "Invalid topic query: error parsing topics: "
        "Invalid key value pair for topic, topic: Job:a:b"
    )


async def test_scale_emits_job_registered_with_the_new_count(http: NomadHttp) -> None:
    """A scale re-registers the job, so the Job topic gets JobRegistered at the scale's
    JobModifyIndex with the new count in the payload.

    Source: nomad/job_endpoint.go Job.Scale (raftApply JobRegisterRequestType);
    nomad/state/events.go MsgTypeEvents (JobRegisterRequestType → JobRegistered).
    """
    await register(http, job_spec("ev-scale", Type="batch"))
    async with _stream(http, topic="Job:ev-scale") as stream:
        await stream.line(FIRST_LINE_TIMEOUT_S)
        scaled = await http.post(
            "/v1/job/ev-scale/scale", body={"Count": 3, "Target": {"Group": "web"}}
        )
        line, event = await _until_index(stream, "JobRegistered", "ev-scale", scaled)

    assert line["Index"] == scaled.json()["JobModifyIndex"]
    assert event["Payload"]["Job"]["TaskGroups"][0]["Count"] == 3


async def _until_index(
    stream: EventStream, event_type: str, key: str, answer: Any
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The event of that type and key at the answer's JobModifyIndex (skipping earlier ones)."""
    wanted = answer.json()["JobModifyIndex"]
    while True:
        line, event = await stream.event(event_type, key)
        if line["Index"] >= wanted:
            return line, event


async def test_allocation_topic_filters_by_job_id_and_omits_the_job(http: NomadHttp) -> None:
    """`topic=Allocation:<job>` matches allocations through their FilterKeys [JobID,
    DeploymentID]; placement arrives as PlanResult, client progress as AllocationUpdated,
    and the payload {"Allocation": {...}} carries no embedded Job.

    Source: nomad/structs/event.go AllocationEvent {Allocation}; nomad/state/events.go
    eventFromChange (alloc.Job = nil; FilterKeys) and
    MsgTypeEvents (ApplyPlanResultsRequestType → PlanResult, AllocClientUpdateRequestType →
    AllocationUpdated); api-docs/events.mdx.
    """
    async with _stream(http, topic="Allocation:ev-alloc") as stream:
        await stream.line(FIRST_LINE_TIMEOUT_S)
        await register(http, job_spec("ev-alloc", {"web": 1}))
        await register(http, job_spec("ev-noise", {"web": 1}))
        seen: list[dict[str, Any]] = []
        while not any(
            e["Type"] == "AllocationUpdated" and _alloc(e)["ClientStatus"] == "running"
            for line in seen
            for e in line["Events"]
        ):
            seen.append(await stream.data_line())

    events = [e for line in seen for e in line["Events"]]
    assert {e["Topic"] for e in events} == {"Allocation"}
    assert {_alloc(e)["JobID"] for e in events} == {"ev-alloc"}
    assert all("ev-alloc" in e["FilterKeys"] for e in events)
    assert all(not _alloc(e).get("Job") for e in events)
    assert events[0]["Type"] == "PlanResult"
    assert _alloc(events[0])["ClientStatus"] == "pending"


async def test_non_numeric_index_is_400_unable_to_parse_index(http: NomadHttp) -> None:
    """A non-numeric `index` is refused before streaming: 400
    `Unable to parse index: strconv.Atoi: parsing "abc": invalid syntax`.

    Source: command/agent/event_endpoint.go EventStream (strconv.Atoi →
    CodedError(400, "Unable to parse index: ...")).
    """
    answer = await http.get("/v1/event/stream", params={"topic": "Job", "index": "abc"})

    assert answer.status == 400
    assert answer.text == 'Unable to parse index: strconv.Atoi: parsing "abc": invalid syntax'
