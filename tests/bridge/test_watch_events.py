"""SPEC section 3: the bridge follows Nomad's event stream, reads only what changed, and
falls back to the blocking job list where the stream cannot be used; every fault ends in
a correct view, with no change lost."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Literal

import pytest

from nomad_bridge.nomad import NomadSettings
from nomad_bridge.settings import BridgeSettings
from nomad_bridge.sim import SimConfig, Simulator
from nomad_bridge.sim.controls import EventStreamFault
from tests.bridge.stream_proxy import StreamCuttingProxy
from tests.support import (
    BridgeClient,
    MakeBridge,
    NomadProbe,
    job_spec,
    long_polls_open,
    settled,
    wait_until,
)

HEARTBEAT_S = 0.25
"""Nomad's heartbeat as the bridge is told it: a stream silent for 0.5 s is broken."""
FAST = BridgeSettings(watch_heartbeat_s=HEARTBEAT_S, watch_events_retry_s=0.5, nomad_timeout_s=1.0)
Watch = Literal["events", "list"]


@pytest.fixture
def sim_config(sim_config: SimConfig) -> SimConfig:
    """Heartbeats well within the bridge's bound, so a healthy stream is never silent."""
    sim_config.heartbeat_interval_s = HEARTBEAT_S / 4
    return sim_config


async def watch_mode(bridge: BridgeClient) -> str | None:
    response = await bridge.get("/ready")
    return str((await response.json())["watch"]) if response.status == 200 else None


async def names(bridge: BridgeClient) -> list[str]:
    return [job["name"] for job in json.loads(await (await bridge.get("/jobs")).read())]


async def shows(bridge: BridgeClient, *expected: str) -> None:
    async def listed() -> bool:
        return set(expected) <= set(await names(bridge))

    await wait_until(listed, what=f"the view listing {expected}")


async def in_mode(bridge: BridgeClient, expected: str) -> None:
    async def there() -> bool:
        return await watch_mode(bridge) == expected

    await wait_until(there, what=f"the watch following {expected}")


async def parked(bridge: BridgeClient, count: int) -> None:
    async def waiting() -> bool:
        return await long_polls_open(bridge) == count

    await wait_until(waiting, what=f"{count} long polls parked")


async def test_an_allocation_change_of_one_job_reads_that_job_only(
    make_bridge: MakeBridge, simulator: Simulator, nomad_probe: NomadProbe
) -> None:
    """The allocations run before the bridge starts, so it has never heard of the one that
    fails: it reads that job's summary, and nothing else."""
    for name in ("a", "b", "c"):
        simulator.register_job_spec(job_spec(name, {"g": 2}))
        await nomad_probe.deployed(name)
    bridge = await make_bridge(BridgeSettings(watch_probe_s=60.0))
    await settled(bridge, simulator, nomad_probe)
    simulator.controls.reset_request_counts()
    before = (await bridge.get("/job/a/summary")).headers["waitIndex"]
    simulator.controls.fail_allocations("a", "g", 1)
    answer = await bridge.get("/job/a/summary?wait=10s", headers={"waitIndex": before})
    assert (await answer.json())["taskGroups"][0]["summary"]["failed"] == 1
    await settled(bridge, simulator, nomad_probe)  # the replacement placed and running
    counts = simulator.controls.request_counts
    counts.pop("GET /v1/jobs", None)  # the test's own probe of Nomad's index (`settled`)
    assert set(counts) == {"GET /v1/job/a/summary"}


async def test_a_dropped_stream_is_followed_again_with_no_change_lost(
    make_bridge: MakeBridge, simulator: Simulator, nomad_probe: NomadProbe
) -> None:
    simulator.register_job_spec(job_spec("web", {"g": 1}))
    bridge = await make_bridge(FAST)
    index = await settled(bridge, simulator, nomad_probe)
    waiter = asyncio.create_task(bridge.get("/jobs?wait=30s", headers={"waitIndex": str(index)}))
    await parked(bridge, 1)
    assert simulator.controls.drop_event_streams() == 1
    await nomad_probe.register(job_spec("api", {"g": 1}))  # while the bridge reconnects
    answer = await asyncio.wait_for(waiter, 10)
    assert "api" in [job["name"] for job in json.loads(await answer.read())]
    await shows(bridge, "api", "web")
    await in_mode(bridge, "events")


@pytest.mark.parametrize(
    "fault",
    [
        "stall",  # a proxy that buffers: not even Nomad's greeting arrives
        "forbidden",  # 403, as Nomad refuses a token lacking read-job
    ],
)
async def test_a_stream_that_cannot_be_followed_gives_way_to_the_job_list_then_is_retried(
    make_bridge: MakeBridge, simulator: Simulator, nomad_probe: NomadProbe, fault: EventStreamFault
) -> None:
    """The job-list watch keeps the view current meanwhile; the stream is tried again
    after `BRIDGE_WATCH_EVENTS_RETRY_S`."""
    simulator.register_job_spec(job_spec("web", {"g": 1}))
    simulator.controls.set_event_stream_fault(fault)
    bridge = await make_bridge(FAST)
    await in_mode(bridge, "list")
    await nomad_probe.register(job_spec("api", {"g": 1}))
    await shows(bridge, "api", "web")
    simulator.controls.set_event_stream_fault(None)
    await in_mode(bridge, "events")
    await nomad_probe.register(job_spec("db", {"g": 1}))
    await shows(bridge, "api", "db", "web")


async def test_a_stream_gone_silent_gives_way_to_the_job_list(
    make_bridge: MakeBridge, simulator: Simulator, nomad_probe: NomadProbe
) -> None:
    """No line, heartbeat included, for twice Nomad's heartbeat period."""
    simulator.register_job_spec(job_spec("web", {"g": 1}))
    bridge = await make_bridge(FAST)
    await in_mode(bridge, "events")
    simulator.controls.set_event_stream_fault("stall")
    await nomad_probe.register(job_spec("api", {"g": 1}))
    await in_mode(bridge, "list")
    await shows(bridge, "api", "web")


@pytest.fixture
async def cutting_proxy(nomad_settings: NomadSettings) -> AsyncIterator[StreamCuttingProxy]:
    """Set up before the bridges (list it first), so that it outlives them."""
    async with StreamCuttingProxy(nomad_settings.addr).running() as proxy:
        yield proxy


async def test_streams_cut_short_again_and_again_give_way_to_the_job_list(
    cutting_proxy: StreamCuttingProxy,
    make_bridge: MakeBridge,
    simulator: Simulator,
    nomad_probe: NomadProbe,
    nomad_settings: NomadSettings,
) -> None:
    """Each reconnect costs a listing: a proxy ending every stream at once is not followed
    for ever."""
    simulator.register_job_spec(job_spec("web", {"g": 1}))
    nomad = nomad_settings.model_copy(update={"addr": cutting_proxy.url})
    bridge = await make_bridge(FAST, nomad)
    await in_mode(bridge, "list")
    assert cutting_proxy.streams_opened >= 3
    await nomad_probe.register(job_spec("api", {"g": 1}))
    await shows(bridge, "api", "web")
    cutting_proxy.cutting = False
    await in_mode(bridge, "events")


async def test_with_watch_events_a_refused_stream_is_retried_and_never_followed_by_list(
    make_bridge: MakeBridge, simulator: Simulator
) -> None:
    simulator.register_job_spec(job_spec("web", {"g": 1}))
    simulator.controls.set_event_stream_fault("forbidden")
    bridge = await make_bridge(FAST.model_copy(update={"watch": "events"}))

    async def refused() -> bool:
        return (await bridge.get("/ready")).status == 503

    await wait_until(refused, what="the bridge saying it is not ready")
    simulator.controls.set_event_stream_fault(None)
    await in_mode(bridge, "events")
    await shows(bridge, "web")


@pytest.mark.parametrize("watch", ["events", "list"])
async def test_changes_older_than_nomad_event_buffer_are_not_lost(
    make_bridge: MakeBridge, simulator: Simulator, nomad_probe: NomadProbe, watch: Watch
) -> None:
    """Nomad keeps `event_buffer_size` entries and a stream asked to start before them
    silently starts at the oldest: cut off while more changes than that happen, the
    bridge lists again on reconnecting."""
    simulator.controls.set_event_buffer_size(2)
    simulator.register_job_spec(job_spec("web", {"g": 1}))
    bridge = await make_bridge(BridgeSettings(watch=watch))
    index = await settled(bridge, simulator, nomad_probe)
    waiter = asyncio.create_task(bridge.get("/jobs?wait=30s", headers={"waitIndex": str(index)}))
    await parked(bridge, 1)
    simulator.controls.set_outage("refuse")
    try:
        for name in ("a", "b", "c", "d", "e"):
            simulator.register_job_spec(job_spec(name, {"g": 1}))
    finally:
        simulator.controls.set_outage(None)
    answer = await asyncio.wait_for(waiter, 10)
    assert int(answer.headers["waitIndex"]) > index
    await shows(bridge, "a", "b", "c", "d", "e", "web")


@pytest.mark.parametrize("watch", ["events", "list"])
async def test_an_index_reset_is_noticed_and_answers_every_waiter(
    make_bridge: MakeBridge, simulator: Simulator, nomad_probe: NomadProbe, watch: Watch
) -> None:
    """A blocking list query on the old index would not tell before its wait ends: the
    index probe (every `BRIDGE_WATCH_PROBE_S`) does. (Nomad closes event streams on a
    restore: the listing on reconnecting tells at once.)"""
    simulator.register_job_spec(job_spec("web", {"g": 1}))
    settings = BridgeSettings(watch=watch, watch_wait_s=300, watch_probe_s=0.2)
    bridge = await make_bridge(settings)
    index = await settled(bridge, simulator, nomad_probe)
    waiters = [
        asyncio.create_task(bridge.get(path, headers={"waitIndex": str(index)}))
        for path in ("/jobs?wait=60s", "/job/web/summary?wait=60s")
    ]
    await parked(bridge, 2)
    simulator.controls.reset_index(to=2)
    for answer in await asyncio.wait_for(asyncio.gather(*waiters), 10):
        assert answer.status == 200
        assert int(answer.headers["waitIndex"]) < index
    await nomad_probe.register(job_spec("api", {"g": 1}))
    await shows(bridge, "api", "web")


@pytest.mark.parametrize("watch", ["events", "list"])
async def test_a_quiet_nomad_costs_one_index_probe_per_probe_period(
    make_bridge: MakeBridge, simulator: Simulator, nomad_probe: NomadProbe, watch: Watch
) -> None:
    """What bounds how long an index reset goes unnoticed is also all the watch asks of a
    quiet Nomad: one `GET /v1/jobs` a `BRIDGE_WATCH_PROBE_S`, on a steady beat (the next
    probe falls due a period after the last one answered, not a period after a check
    that found it not yet due)."""
    simulator.register_job_spec(job_spec("web", {"g": 1}))
    probe_s, periods = 0.25, 8
    bridge = await make_bridge(BridgeSettings(watch=watch, watch_wait_s=300, watch_probe_s=probe_s))
    await settled(bridge, simulator, nomad_probe)
    await asyncio.sleep(probe_s)  # the probes that follow the sync's own requests
    simulator.controls.reset_request_counts()
    await asyncio.sleep(periods * probe_s)
    counts = dict(simulator.controls.request_counts)
    assert set(counts) <= {"GET /v1/jobs"}
    print("PROBES", counts)
    assert periods - 3 <= counts.get("GET /v1/jobs", 0) <= periods + 1
