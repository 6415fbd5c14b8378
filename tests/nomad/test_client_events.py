"""The event stream: batches as they happen, heartbeats skipped."""

from __future__ import annotations

import asyncio

import pytest

from nomad_bridge.nomad import NomadClient, RetryPolicy, errors
from nomad_bridge.nomad.events import EventStream
from nomad_bridge.nomad.models import EventBatch
from nomad_bridge.sim import SimConfig, Simulator
from tests.nomad.harness import ClientFactory, RequestLog
from tests.support import job_spec

EVENT_WAIT_S = 5.0
HEARTBEAT_S = 0.05
QUIET_READ_TIMEOUT_S = 0.5
"""Ten heartbeats per read timeout: a loaded machine delaying one never ends the stream."""


@pytest.fixture
def sim_config(sim_config: SimConfig) -> SimConfig:
    """The suite's simulator, with heartbeats every 50 ms instead of Nomad's 30 s."""
    sim_config.heartbeat_interval_s = HEARTBEAT_S
    return sim_config


async def next_batch_about(events: EventStream, job_id: str) -> EventBatch:
    async def find() -> EventBatch:
        async for batch in events:
            if any(event.key == job_id for event in batch.events):
                return batch
        raise AssertionError("the stream ended")

    return await asyncio.wait_for(find(), timeout=EVENT_WAIT_S)


async def test_a_registration_arrives_as_a_job_event(client: NomadClient) -> None:
    async with client.event_stream(["Job"]) as events:
        await client.register_job(job_spec("web"))
        batch = await next_batch_about(events, "web")

    event = next(e for e in batch.events if e.key == "web")
    assert (event.topic, event.type) == ("Job", "JobRegistered")
    assert event.payload["Job"]["ID"] == "web"
    assert batch.index == event.index > 0


async def test_resuming_from_an_index_replays_from_there(client: NomadClient) -> None:
    first = await client.register_job(job_spec("first"))
    await client.register_job(job_spec("second"))

    async with client.event_stream(["Job"], index=first.job_modify_index + 1) as events:
        batch = await next_batch_about(events, "second")

    assert batch.index > first.job_modify_index


async def test_a_keyed_topic_filters_to_that_job(client: NomadClient) -> None:
    async with client.event_stream(["Job:wanted"]) as events:
        await client.register_job(job_spec("unwanted"))
        await client.register_job(job_spec("wanted"))
        batch = await next_batch_about(events, "wanted")

    assert {event.key for event in batch.events} == {"wanted"}


async def test_heartbeats_keep_a_quiet_stream_open(
    make_client: ClientFactory, simulator: Simulator, request_log: RequestLog
) -> None:
    client = await make_client(stream_read_timeout_s=QUIET_READ_TIMEOUT_S)
    async with client.event_stream(["Job"]) as events:
        reading = asyncio.create_task(next_batch_about(events, "late"))
        # Silent for three read timeouts: only heartbeats arrive, and the stream stays open.
        done, _ = await asyncio.wait({reading}, timeout=3 * QUIET_READ_TIMEOUT_S)
        assert not done
        await client.register_job(job_spec("late"))
        assert (await reading).events[0].key == "late"
    assert request_log.outcomes("GET", "/v1/event/stream") == ["ok"]


async def test_a_stream_that_never_answers_times_out(
    make_client: ClientFactory, simulator: Simulator
) -> None:
    client = await make_client(
        stream_read_timeout_s=QUIET_READ_TIMEOUT_S, retry=RetryPolicy(attempts=1)
    )
    simulator.controls.set_outage("hang")
    with pytest.raises(errors.Timeout):
        async with client.event_stream(["Job"]) as events:
            await anext(events)


async def test_the_stream_ends_when_nomad_closes_it(
    client: NomadClient, simulator: Simulator
) -> None:
    events = client.event_stream(["Job"])
    await events.__aenter__()
    simulator.close()
    with pytest.raises(StopAsyncIteration):
        await asyncio.wait_for(anext(events), timeout=EVENT_WAIT_S)
    await events.aclose()
