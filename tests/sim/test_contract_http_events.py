"""Contract: the simulator's event stream behaves like Nomad v1.9.x.

`GET /v1/event/stream` is NDJSON: `{}` heartbeats and `{"Index":N,"Events":[...]}` lines, one
line per Raft entry. Sources: website/content/api-docs/events.mdx; command/agent/
event_endpoint.go (EventStream, parseEventTopics, parseTopic); command/agent/http.go (wrap,
parse); nomad/event_endpoint.go (Event.stream, validateACL); nomad/stream/ndjson.go
(JsonStream); nomad/stream/event_broker.go (Subscribe); nomad/stream/event_buffer.go
(eventBuffer, StartAtClosest, bufferItem.Next); nomad/stream/subscription.go (filter);
nomad/state/events.go (eventFromChange, MsgTypeEvents); nomad/structs/event.go;
command/agent/config.go (event_buffer_size). This module pins the framing and the errors;
payloads, where a stream starts (index and buffer), filters and ACLs each have a module of
their own (test_contract_http_events_{payloads,buffer,filters,acl}).
"""

from __future__ import annotations

import asyncio

from nomad_bridge.sim import SimConfig, SimServer, Simulator
from nomad_bridge.sim.testing import batch_job
from tests.sim.event_streams import (
    EventStream,
    open_stream,
    refused,
    stream_url,
)
from tests.sim.harness import nomad_http

HEARTBEAT_S = 0.05


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
