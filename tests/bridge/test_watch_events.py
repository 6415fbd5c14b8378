"""SPEC section 3: the bridge follows Nomad's event stream, reads only what changed, and
falls back to the blocking job list where the stream cannot be used; every fault ends in
a correct view, with no change lost."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any, Literal

import pytest

from nomad_bridge.nomad import NomadSettings
from nomad_bridge.settings import BridgeSettings
from nomad_bridge.sim import SimConfig, Simulator
from tests.bridge.conftest import BridgeClient, MakeBridge, NomadProbe, job_spec, wait_until
from tests.bridge.stream_proxy import Stream, StreamProxy
from tests.bridge.test_long_poll import settled

HEARTBEAT_S = 0.25
"""Nomad's heartbeat as the bridge is told it: a stream silent for 0.5 s is broken."""
FAST = BridgeSettings(watch_heartbeat_s=HEARTBEAT_S, watch_events_retry_s=0.5, nomad_timeout_s=1.0)
BOUND_S = 10.0
Watch = Literal["events", "list"]


@pytest.fixture
def sim_config(sim_config: SimConfig) -> SimConfig:
    sim_config.heartbeat_interval_s = HEARTBEAT_S / 4
    return sim_config


@pytest.fixture
async def proxy(nomad_settings: NomadSettings) -> AsyncIterator[StreamProxy]:
    """A proxy in front of the simulator that can break the event stream."""
    async with StreamProxy(nomad_settings.addr).running() as proxy:
        yield proxy


async def through(
    make_bridge: MakeBridge, proxy: StreamProxy, nomad_settings: NomadSettings, **changes: Any
) -> BridgeClient:
    """A bridge reaching Nomad through the proxy."""
    settings = FAST.model_copy(update=changes)
    return await make_bridge(settings, nomad_settings.model_copy(update={"addr": proxy.url}))


async def parked(bridge: BridgeClient, count: int) -> None:
    """Until `count` long polls wait on the bridge."""

    async def waiting() -> bool:
        metrics = await (await bridge.get("/metrics")).text()
        return f"bridge_long_polls_open {float(count)}" in metrics

    await wait_until(waiting)


async def mode(bridge: BridgeClient) -> str | None:
    response = await bridge.get("/ready")
    return str((await response.json())["watch"]) if response.status == 200 else None


async def names(bridge: BridgeClient) -> list[str]:
    return [job["name"] for job in json.loads(await (await bridge.get("/jobs")).read())]


async def shows(bridge: BridgeClient, *expected: str) -> None:
    async def listed() -> bool:
        return set(expected) <= set(await names(bridge))

    await wait_until(listed, timeout_s=BOUND_S)


async def in_mode(bridge: BridgeClient, expected: str) -> None:
    async def there() -> bool:
        return await mode(bridge) == expected

    await wait_until(there, timeout_s=BOUND_S)


async def test_an_allocation_change_of_one_job_reads_that_job_only(
    make_bridge: MakeBridge, simulator: Simulator, nomad_probe: NomadProbe
) -> None:
    """The allocations run before the bridge starts, so it has never heard of the one that
    fails: it reads that job's summary, and nothing else."""
    for name in ("a", "b", "c"):
        simulator.register_job_spec(job_spec(name, {"g": 2}))
        await nomad_probe.deployed(name)
    bridge = await make_bridge(BridgeSettings(watch_probe_s=60.0))
    await settled(bridge, simulator)
    simulator.controls.reset_request_counts()
    before = (await bridge.get("/job/a/summary")).headers["waitIndex"]
    simulator.controls.fail_allocations("a", "g", 1)
    answer = await bridge.get("/job/a/summary?wait=10s", headers={"waitIndex": before})
    assert (await answer.json())["taskGroups"][0]["summary"]["failed"] == 1
    await settled(bridge, simulator)  # the replacement allocation placed and running
    assert set(simulator.controls.request_counts) == {"GET /v1/job/a/summary"}


async def test_a_dropped_stream_is_followed_again_with_no_change_lost(
    make_bridge: MakeBridge,
    simulator: Simulator,
    nomad_probe: NomadProbe,
    nomad_settings: NomadSettings,
    proxy: StreamProxy,
) -> None:
    simulator.register_job_spec(job_spec("web", {"g": 1}))
    bridge = await through(make_bridge, proxy, nomad_settings)
    index = await settled(bridge, simulator)
    waiter = asyncio.create_task(bridge.get("/jobs?wait=30s", headers={"waitIndex": str(index)}))
    proxy.drop_streams()
    await nomad_probe.register(job_spec("api", {"g": 1}))  # while the stream is down
    answer = await asyncio.wait_for(waiter, BOUND_S)
    assert "api" in [job["name"] for job in json.loads(await answer.read())]
    await shows(bridge, "api", "web")
    assert proxy.streams_opened >= 2
    await in_mode(bridge, "events")


@pytest.mark.parametrize("fault", [Stream.STALL, Stream.BUFFER, Stream.REFUSE, Stream.CUT])
async def test_a_stream_that_cannot_be_followed_gives_way_to_the_job_list_then_is_retried(
    make_bridge: MakeBridge,
    simulator: Simulator,
    nomad_probe: NomadProbe,
    nomad_settings: NomadSettings,
    proxy: StreamProxy,
    fault: Stream,
) -> None:
    """A stall (no line for twice the heartbeat), a proxy buffering the stream (no
    greeting), a refusal (403) and streams cut short again and again all end in the
    job-list watch, which keeps the view current; the stream is tried again after
    `BRIDGE_WATCH_EVENTS_RETRY_S`."""
    simulator.register_job_spec(job_spec("web", {"g": 1}))
    proxy.stream = fault
    bridge = await through(make_bridge, proxy, nomad_settings)
    await in_mode(bridge, "list")
    await nomad_probe.register(job_spec("api", {"g": 1}))
    await shows(bridge, "api", "web")
    proxy.stream = Stream.PASS
    await in_mode(bridge, "events")
    await nomad_probe.register(job_spec("db", {"g": 1}))
    await shows(bridge, "api", "db", "web")


async def test_with_watch_events_a_refused_stream_is_retried_and_never_followed_by_list(
    make_bridge: MakeBridge,
    simulator: Simulator,
    nomad_settings: NomadSettings,
    proxy: StreamProxy,
) -> None:
    simulator.register_job_spec(job_spec("web", {"g": 1}))
    proxy.stream = Stream.REFUSE
    bridge = await through(make_bridge, proxy, nomad_settings, watch="events")

    async def retried() -> bool:
        return proxy.streams_opened >= 3

    await wait_until(retried, timeout_s=BOUND_S)
    assert (await bridge.get("/ready")).status == 503
    proxy.stream = Stream.PASS
    await in_mode(bridge, "events")
    await shows(bridge, "web")


@pytest.mark.parametrize("watch", ["events", "list"])
async def test_changes_older_than_nomad_event_buffer_are_not_lost(
    make_bridge: MakeBridge,
    simulator: Simulator,
    nomad_probe: NomadProbe,
    watch: Watch,
) -> None:
    """Nomad keeps `event_buffer_size` entries and a stream asked to start before them
    silently starts at the oldest: cut off while more changes than that happen, the
    bridge lists again on reconnecting."""
    simulator.events.size = 2
    simulator.register_job_spec(job_spec("web", {"g": 1}))
    bridge = await make_bridge(BridgeSettings(watch=watch))
    index = await settled(bridge, simulator)
    waiter = asyncio.create_task(bridge.get("/jobs?wait=30s", headers={"waitIndex": str(index)}))
    simulator.controls.set_outage("refuse")
    try:
        for name in ("a", "b", "c", "d", "e"):
            simulator.register_job_spec(job_spec(name, {"g": 1}))
    finally:
        simulator.controls.set_outage(None)
    answer = await asyncio.wait_for(waiter, BOUND_S)
    assert int(answer.headers["waitIndex"]) > index
    await shows(bridge, "a", "b", "c", "d", "e", "web")


@pytest.mark.parametrize("watch", ["events", "list"])
async def test_an_index_reset_is_noticed_by_the_probe_and_answers_every_waiter(
    make_bridge: MakeBridge, simulator: Simulator, nomad_probe: NomadProbe, watch: Watch
) -> None:
    """A blocking list query on the old index would not tell before its wait ends: the
    index probe (every `BRIDGE_WATCH_PROBE_S`) does. (Nomad closes event streams on a
    restore: the listing on reconnecting tells at once.)"""
    simulator.register_job_spec(job_spec("web", {"g": 1}))
    settings = BridgeSettings(watch=watch, watch_wait_s=300, watch_probe_s=0.2)
    bridge = await make_bridge(settings)
    index = await settled(bridge, simulator)
    waiters = [
        asyncio.create_task(bridge.get(path, headers={"waitIndex": str(index)}))
        for path in ("/jobs?wait=60s", "/job/web/summary?wait=60s")
    ]
    await parked(bridge, 2)
    simulator.controls.reset_index(to=2)
    for answer in await asyncio.wait_for(asyncio.gather(*waiters), BOUND_S):
        assert answer.status == 200
        assert int(answer.headers["waitIndex"]) < index
    await nomad_probe.register(job_spec("api", {"g": 1}))
    await shows(bridge, "api", "web")
