"""SPEC section 3: following Nomad's event stream or its job list gives the same view, and
a `waitIndex` from a replica in one mode is honoured by a replica in the other."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from nomad_bridge.settings import BridgeSettings
from nomad_bridge.sim import Simulator
from tests.support import (
    PERIODIC,
    BridgeClient,
    MakeBridge,
    NomadProbe,
    in_sync,
    job_spec,
    settled,
    wait_until,
)

EVENTS = BridgeSettings(watch="events")
LIST = BridgeSettings(watch="list")
ANSWER_S = 5.0
"""A long poll that should answer at once is given this long before the test fails."""

Change = Callable[[], Awaitable[Any]]


async def jobs_view(bridge: BridgeClient) -> tuple[int, list[dict[str, Any]]]:
    response = await bridge.get("/jobs")
    return int(response.headers["waitIndex"]), json.loads(await response.read())


async def group(bridge: BridgeClient, job: str, name: str) -> dict[str, Any]:
    view = await (await bridge.get(f"/job/{job}/summary")).json()
    return dict(next(g for g in view["taskGroups"] if g["name"] == name))


@pytest.fixture
async def pair(
    make_bridge: MakeBridge, simulator: Simulator, nomad_probe: NomadProbe
) -> tuple[BridgeClient, BridgeClient]:
    """Two replicas against one simulator: one follows events, the other the job list."""
    simulator.register_job_spec(job_spec("web", {"frontend": 2, "api": 1}))
    simulator.register_job_spec(job_spec("cache", {"redis": 1}, Meta={"autostart": "yes"}))
    simulator.register_job_spec(job_spec("report", {"run": 1}, Type="batch", Periodic=PERIODIC))
    events, listing = await make_bridge(EVENTS), await make_bridge(LIST)
    await settled(events, simulator, nomad_probe)
    await settled(listing, simulator, nomad_probe)
    return events, listing


async def same_view(
    events: BridgeClient, listing: BridgeClient, simulator: Simulator, probe: NomadProbe
) -> list[dict[str, Any]]:
    """Once Nomad is quiet and both replicas caught up: the same view, and indexes Nomad
    has reached (a replica that watched a change happen may give it a lower index than one
    that listed it after Nomad wrote more to the job: see the carried `waitIndex` test)."""
    await settled(events, simulator, probe)
    await in_sync(listing, probe)
    nomad_index = await probe.index()
    (events_index, events_jobs), (list_index, list_jobs) = (
        await jobs_view(events),
        await jobs_view(listing),
    )
    assert events_jobs == list_jobs
    assert events_index <= nomad_index
    assert list_index <= nomad_index
    return events_jobs


async def test_an_events_replica_and_a_list_replica_show_the_same_view(
    pair: tuple[BridgeClient, BridgeClient], simulator: Simulator, nomad_probe: NomadProbe
) -> None:
    events, listing = pair
    await same_view(events, listing, simulator, nomad_probe)
    changes: list[Change] = [
        lambda: nomad_probe.register(job_spec("api", {"g": 3}, Meta={"byCluster": "true"})),
        lambda: asyncio.to_thread(simulator.controls.fail_allocations, "web", "frontend", 1),
        lambda: events.post(
            "/jobs/updatecounts", json={"jobID": "web", "taskGroup": "api", "count": 2}
        ),
        lambda: listing.post("/jobs/stop/cache"),
        lambda: asyncio.to_thread(simulator.controls.add_child_job, "report"),
        lambda: asyncio.to_thread(simulator.controls.lose_allocations, "api", "g", 1),
        lambda: nomad_probe.register(job_spec("web", {"frontend": 1})),  # a group removed
    ]
    for change in changes:
        await change()
        await same_view(events, listing, simulator, nomad_probe)
    await asyncio.to_thread(simulator.controls.garbage_collect)  # `cache` is collected
    views = await same_view(events, listing, simulator, nomad_probe)
    assert [job["name"] for job in views] == ["api", "cache", "report", "web"]
    assert next(job for job in views if job["name"] == "cache")["status"] == "dead"


@pytest.mark.parametrize("direction", ["events to list", "list to events"])
async def test_a_wait_index_carried_to_the_other_mode_misses_no_change(
    pair: tuple[BridgeClient, BridgeClient],
    simulator: Simulator,
    nomad_probe: NomadProbe,
    direction: str,
) -> None:
    """A client takes `waitIndex` from one replica and long-polls the other, as behind a
    load balancer: a change the first did not show is answered at once by the second,
    whether it already has it or gets it later."""
    events, listing = pair
    giver, taker = (events, listing) if direction == "events to list" else (listing, events)
    changes: list[tuple[Change, Callable[[list[dict[str, Any]]], bool]]] = [
        (
            lambda: asyncio.to_thread(simulator.controls.fail_allocations, "web", "frontend", 1),
            lambda jobs: _group_of(jobs, "web", "frontend")["summary"]["failed"] >= 1,
        ),
        (
            lambda: nomad_probe.register(job_spec("cache", {"redis": 4})),
            lambda jobs: _group_of(jobs, "cache", "redis")["count"] == 4,
        ),
        (
            lambda: nomad_probe.stop("web"),
            lambda jobs: next(j for j in jobs if j["name"] == "web")["status"] == "dead",
        ),
        (
            lambda: nomad_probe.register(job_spec("new", {"g": 1})),
            lambda jobs: "new" in [j["name"] for j in jobs],
        ),
    ]
    for make_change, shows in changes:
        # The taker already has the change: the giver's index must not hold it back.
        await same_view(events, listing, simulator, nomad_probe)
        index, _ = await jobs_view(giver)
        await make_change()

        async def taker_has_it(shows: Callable[[list[dict[str, Any]]], bool] = shows) -> bool:
            return shows((await jobs_view(taker))[1])

        await wait_until(taker_has_it)
        answer = await asyncio.wait_for(
            taker.get("/jobs?wait=30s", headers={"waitIndex": str(index)}), ANSWER_S
        )
        assert int(answer.headers["waitIndex"]) > index
        assert shows(json.loads(await answer.read()))
    # The taker gets the change later: the long poll waits for it, then answers with it.
    await same_view(events, listing, simulator, nomad_probe)
    index, _ = await jobs_view(giver)
    waiter = asyncio.create_task(taker.get("/jobs?wait=30s", headers={"waitIndex": str(index)}))
    await nomad_probe.register(job_spec("later", {"g": 1}))
    answer = await asyncio.wait_for(waiter, ANSWER_S)
    assert "later" in [job["name"] for job in json.loads(await answer.read())]


def _group_of(jobs: list[dict[str, Any]], job: str, name: str) -> dict[str, Any]:
    view = next(j for j in jobs if j["name"] == job)
    return dict(next(g for g in view["taskGroups"] if g["name"] == name))


@pytest.mark.parametrize(("settings", "mode"), [(BridgeSettings(), "events"), (LIST, "list")])
async def test_the_watch_mode_shows_in_ready_metrics_and_the_log(
    make_bridge: MakeBridge,
    caplog: pytest.LogCaptureFixture,
    settings: BridgeSettings,
    mode: str,
) -> None:
    caplog.set_level(logging.INFO, logger="nomad_bridge.jobs.watch")
    bridge = await make_bridge(settings)

    async def ready() -> bool:
        return (await bridge.get("/ready")).status == 200

    await wait_until(ready)
    assert (await (await bridge.get("/ready")).json())["watch"] == mode
    metrics = await (await bridge.get("/metrics")).text()
    other = "list" if mode == "events" else "events"
    assert f'bridge_watch_mode{{mode="{mode}"}} 1.0' in metrics
    assert f'bridge_watch_mode{{mode="{other}"}} 0.0' in metrics
    assert [r.__dict__.get("mode") for r in caplog.records if r.getMessage() == "watch_mode"] == [
        mode
    ]
