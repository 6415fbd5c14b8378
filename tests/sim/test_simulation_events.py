"""The event stream: NDJSON lines per raft entry, typed by the raft message, filtered."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import aiohttp

from nomad_bridge.sim import SimConfig, SimServer, Simulator
from nomad_bridge.sim.testing import batch_job, job_status, service_job, wait_until

LINE_TIMEOUT_S = 5.0
Event = dict[str, Any]


class Stream:
    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self.response = response
        self.lines: list[dict[str, Any]] = []

    async def line(self) -> dict[str, Any] | None:
        raw = await asyncio.wait_for(self.response.content.readline(), LINE_TIMEOUT_S)
        if not raw:
            return None
        decoded: dict[str, Any] = json.loads(raw)
        self.lines.append(decoded)
        return decoded

    async def until(self, predicate: Callable[[Event], bool]) -> Event:
        """Read lines until an event matches; returns that event."""
        while True:
            line = await self.line()
            assert line is not None, "stream ended before the event arrived"
            for event in line.get("Events", []):
                if predicate(event):
                    return event

    def events(self) -> list[Event]:
        return [e for line in self.lines for e in line.get("Events", [])]


@asynccontextmanager
async def stream(server: SimServer, **params: Any) -> AsyncIterator[Stream]:
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"{server.url}/v1/event/stream", params=params) as resp,
    ):
        assert resp.status == 200
        assert resp.headers["Content-Type"] == "application/json"
        yield Stream(resp)


def of(topic: str, kind: str, key: str | None = None) -> Callable[[Event], bool]:
    return lambda e: e["Topic"] == topic and e["Type"] == kind and key in (None, e["Key"])


async def test_heartbeat_is_sent_on_connect_and_when_idle(
    simulator: Simulator, sim_server: SimServer
) -> None:
    """nomad/event_endpoint.go: `{}` goes out at once and then every heartbeat interval."""
    simulator.config.heartbeat_interval_s = 0.05
    async with stream(sim_server) as events:
        assert await events.line() == {}
        assert await events.line() == {}


async def test_register_run_stop_emit_nomads_types(
    simulator: Simulator, sim_server: SimServer
) -> None:
    """Event Type follows the raft message (nomad/state/events.go MsgTypeEvents): register
    is JobRegistered, the scheduler's plan is PlanResult, client updates are
    AllocationUpdated, stop is JobDeregistered with Stop:true, and the status change the
    completed eval causes is EvaluationUpdated on the Job topic."""
    async with stream(sim_server, topic=["Job", "Allocation"]) as events:
        await events.line()
        simulator.register_job_spec(service_job("web", web=1))
        registered = await events.until(of("Job", "JobRegistered", "web"))
        assert registered["Payload"]["Job"]["ID"] == "web"
        placed = await events.until(of("Allocation", "PlanResult"))
        assert placed["FilterKeys"][0] == "web"
        assert (
            "Job" not in placed["Payload"]["Allocation"]
            or not placed["Payload"]["Allocation"]["Job"]
        )
        running = await events.until(of("Allocation", "AllocationUpdated"))
        assert running["Payload"]["Allocation"]["ClientStatus"] == "running"
        simulator.jobs.deregister("web", namespace="default", purge=False)
        stopped = await events.until(of("Job", "JobDeregistered", "web"))
        assert stopped["Payload"]["Job"]["Stop"] is True
        dead = await events.until(
            lambda e: e["Topic"] == "Job" and e["Payload"]["Job"]["Status"] == "dead"
        )
        assert dead["Type"] == "EvaluationUpdated"
        topics = {e["Topic"] for e in events.events()}
        assert topics <= {"Job", "Allocation"}


async def test_purge_and_gc_emit_deregistrations(
    simulator: Simulator, sim_server: SimServer
) -> None:
    """A purge deletes the job and still emits JobDeregistered (PR #19903, 1.7.x+); a GC
    reaps through Job.BatchDeregister, emitting JobBatchDeregistered."""
    simulator.register_job_spec(service_job("purged"))
    simulator.register_job_spec(batch_job("report"))
    await wait_until(simulator, lambda: job_status(simulator, "report") == "dead")
    async with stream(sim_server, topic="Job") as events:
        await events.line()
        simulator.jobs.deregister("purged", namespace="default", purge=True)
        purged = await events.until(of("Job", "JobDeregistered", "purged"))
        assert purged["Payload"]["Job"]["ID"] == "purged"
        simulator.controls.garbage_collect()
        collected = await events.until(of("Job", "JobBatchDeregistered", "report"))
        assert collected["Namespace"] == "default"


async def test_topic_key_filters_by_key_and_filter_keys(
    simulator: Simulator, sim_server: SimServer
) -> None:
    """`topic=Topic:key` matches an event's Key or any of its FilterKeys; allocations carry
    [JobID, DeploymentID], so `Allocation:<job>` selects one job's allocations."""
    async with stream(sim_server, topic=["Job:web", "Allocation:web"]) as events:
        await events.line()
        simulator.register_job_spec(service_job("other"))
        simulator.register_job_spec(service_job("web"))
        await events.until(of("Allocation", "AllocationUpdated"))
        for event in events.events():
            assert event["Key"] == "web" or "web" in (event["FilterKeys"] or [])


async def test_namespace_filter(simulator: Simulator, sim_server: SimServer) -> None:
    """The stream only carries events of `?namespace=` (default `default`; `*` for all)."""
    simulator.config.namespaces.append("team")
    async with stream(sim_server, topic="Job", namespace="team") as events:
        await events.line()
        simulator.register_job_spec(service_job("mine"), namespace="team")
        simulator.register_job_spec(service_job("theirs"))
        simulator.register_job_spec(service_job("mine-too"), namespace="team")
        await events.until(of("Job", "JobRegistered", "mine-too"))
        assert {e["Namespace"] for e in events.events()} == {"team"}


async def test_index_replays_from_the_buffer(simulator: Simulator, sim_server: SimServer) -> None:
    """EventBroker.Subscribe: `index=N` starts at the entry with index N (or the next one),
    `index=0` at the oldest entry still buffered; one line per raft entry."""
    first = simulator.register_job_spec(service_job("a"))["Index"]
    second = simulator.register_job_spec(service_job("b"))["Index"]
    async with stream(sim_server, topic="Job", index=second) as events:
        await events.line()
        line = await events.line()
        assert line is not None
        assert line["Index"] == second
        assert [e["Key"] for e in line["Events"]] == ["b"]
    async with stream(sim_server, topic="Job", index=0) as events:
        await events.line()
        line = await events.line()
        assert line is not None
        assert line["Index"] == first


async def test_buffer_keeps_only_event_buffer_size_entries(sim_config: SimConfig) -> None:
    """`event_buffer_size` (command/agent/config.go, default 100) bounds the replay: a
    subscriber asking for an index older than the buffer starts at the oldest kept entry."""
    simulator = Simulator(dataclasses.replace(sim_config, event_buffer_size=3, eval_delay_s=60))
    for name in ("a", "b", "c", "d", "e"):
        simulator.register_job_spec(batch_job(name))
    server = SimServer(simulator)
    await server.start()
    try:
        async with stream(server, topic="Job", index=1) as events:
            await events.line()
            line = await events.line()
            assert line is not None
            assert line["Index"] == 3
    finally:
        await server.stop()


async def test_stream_ends_cleanly_when_the_server_stops(
    simulator: Simulator, sim_server: SimServer
) -> None:
    """On shutdown the simulator closes subscriptions; the chunked response is completed, so
    a reader sees end-of-stream rather than a reset connection."""
    async with stream(sim_server) as events:
        assert await events.line() == {}
        await sim_server.stop()
        assert await events.line() is None


async def test_malformed_topic_is_400(sim_server: SimServer) -> None:
    """parseTopic: more than one `:` is `Invalid topic query: ...`, 400, before streaming."""
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"{sim_server.url}/v1/event/stream", params={"topic": "Job:a:b"}) as resp,
    ):
        assert resp.status == 400
        assert (await resp.text()).startswith("Invalid topic query")
