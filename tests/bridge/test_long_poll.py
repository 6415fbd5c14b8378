"""SPEC section 3: the waitIndex long poll, answered from one upstream watch of Nomad.

A test that says a change wakes no one first lets the cluster come to rest (`settled`), makes
the change, lets the bridge catch up with all that follows from it, and only then looks: the
view's index has not moved and the waiter is still waiting. No time window decides it.
"""

from __future__ import annotations

import asyncio

import aiohttp

from nomad_bridge.settings import BridgeSettings
from nomad_bridge.sim import Simulator
from tests.support import (
    BridgeClient,
    MakeBridge,
    NomadProbe,
    job_spec,
    long_polls_open,
    room_for_connections,
    saved_definition,
    settled,
    wait_until,
)

MANY_WAITERS = 500


def nomad_requests(simulator: Simulator) -> int:
    return sum(simulator.controls.request_counts.values())


async def parked(bridge: BridgeClient, waiters: int) -> None:
    """Wait until the bridge holds `waiters` long polls (they are waiting, not on the way)."""

    async def holding() -> bool:
        return await long_polls_open(bridge) == waiters

    await wait_until(holding, timeout_s=30, what=f"{waiters} long polls parked")


def names(view: list[dict[str, object]]) -> list[object]:
    return [job["name"] for job in view]


async def test_reads_cost_nomad_nothing_in_steady_state(
    bridge: BridgeClient, simulator: Simulator, nomad_probe: NomadProbe, example_jobs: list[str]
) -> None:
    await settled(bridge, simulator, nomad_probe)
    for job_id in example_jobs:  # the bridge saves definitions in the background
        await saved_definition(nomad_probe, job_id)
    simulator.controls.reset_request_counts()
    for _ in range(100):
        assert (await bridge.get("/jobs")).status == 200
        assert (await bridge.get("/job/web/summary")).status == 200
    assert nomad_requests(simulator) == 0


async def test_a_wait_index_below_the_current_index_answers_at_once(
    bridge: BridgeClient, example_jobs: list[str]
) -> None:
    index = int((await bridge.get("/jobs")).headers["waitIndex"])
    response = await bridge.get("/jobs", headers={"waitIndex": str(index - 1)})
    assert response.status == 200
    assert int(response.headers["waitIndex"]) >= index


async def test_the_wait_ends_with_200_and_the_unchanged_index(
    bridge: BridgeClient, simulator: Simulator, nomad_probe: NomadProbe, example_jobs: list[str]
) -> None:
    index = await settled(bridge, simulator, nomad_probe)
    response = await bridge.get("/jobs?wait=200ms", headers={"waitIndex": str(index)})
    assert response.status == 200
    assert int(response.headers["waitIndex"]) == index
    assert names(await response.json()) == example_jobs


async def test_a_change_wakes_every_waiter_with_the_new_view(
    bridge: BridgeClient, simulator: Simulator, nomad_probe: NomadProbe
) -> None:
    simulator.register_job_spec(job_spec("web", {"g": 1}))
    index = await settled(bridge, simulator, nomad_probe)
    waiters = [
        asyncio.create_task(bridge.get("/jobs?wait=30s", headers={"waitIndex": str(index)}))
        for _ in range(50)
    ]
    await parked(bridge, 50)
    assert not any(w.done() for w in waiters)
    await nomad_probe.register(job_spec("api", {"g": 1}))
    for response in await asyncio.gather(*waiters):
        assert int(response.headers["waitIndex"]) > index
        assert "api" in names(await response.json())


async def test_many_waiters_share_one_upstream_watch(
    bridge: BridgeClient, simulator: Simulator, nomad_probe: NomadProbe, example_jobs: list[str]
) -> None:
    room_for_connections(MANY_WAITERS)
    index = await settled(bridge, simulator, nomad_probe)
    for job_id in example_jobs:
        await saved_definition(nomad_probe, job_id)
    simulator.controls.reset_request_counts()
    url = bridge.make_url("/jobs?wait=30s")
    # The test client's session holds 100 connections at most: this one holds them all.
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as clients:
        waiters = [
            asyncio.create_task(clients.get(url, headers={"waitIndex": str(index)}))
            for _ in range(MANY_WAITERS)
        ]
        try:
            await parked(bridge, MANY_WAITERS)
            assert nomad_requests(simulator) == 0
        finally:
            for waiter in waiters:
                waiter.cancel()
            await asyncio.gather(*waiters, return_exceptions=True)


async def test_changes_in_other_namespaces_wake_no_waiter(
    make_bridge: MakeBridge, simulator: Simulator, nomad_probe: NomadProbe, example_jobs: list[str]
) -> None:
    """The event stream the bridge follows has nothing from other namespaces: that it has
    caught up with Nomad's index (`settled`) it learns from its index probe."""
    bridge = await make_bridge(BridgeSettings(watch_probe_s=0.2))
    index = await settled(bridge, simulator, nomad_probe)
    waiter = asyncio.create_task(bridge.get("/jobs?wait=30s", headers={"waitIndex": str(index)}))
    await parked(bridge, 1)
    simulator.register_job_spec(job_spec("elsewhere", {"g": 1}), namespace="other")
    assert await settled(bridge, simulator, nomad_probe) == index
    assert not waiter.done()
    await nomad_probe.register(job_spec("api", {"g": 1}))  # the next visible change wakes it
    response = await waiter
    assert int(response.headers["waitIndex"]) > index
    assert "elsewhere" not in names(await response.json())


async def test_summary_long_poll_wakes_only_for_its_own_job(
    bridge: BridgeClient, simulator: Simulator, nomad_probe: NomadProbe
) -> None:
    simulator.register_job_spec(job_spec("a", {"g": 1}))
    simulator.register_job_spec(job_spec("b", {"g": 1}))
    await settled(bridge, simulator, nomad_probe)
    index_a = int((await bridge.get("/job/a/summary")).headers["waitIndex"])
    waiter = asyncio.create_task(
        bridge.get("/job/a/summary?wait=30s", headers={"waitIndex": str(index_a)})
    )
    await parked(bridge, 1)
    await bridge.post("/jobs/settaskgroupcount", json={"jobID": "b", "taskGroup": "g", "count": 0})
    await settled(bridge, simulator, nomad_probe)
    assert int((await bridge.get("/job/a/summary")).headers["waitIndex"]) == index_a
    assert not waiter.done()
    await bridge.post("/jobs/settaskgroupcount", json={"jobID": "a", "taskGroup": "g", "count": 2})
    response = await waiter
    assert int(response.headers["waitIndex"]) > index_a
    assert (await response.json())["taskGroups"][0]["count"] == 2


async def test_a_read_after_a_mutation_sees_it(bridge: BridgeClient, simulator: Simulator) -> None:
    simulator.register_job_spec(job_spec("web", {"g": 1}))
    for count in range(2, 7):
        response = await bridge.post(
            "/jobs/updatecounts", json={"jobID": "web", "taskGroup": "g", "count": 1}
        )
        assert response.status == 200
        view = await (await bridge.get("/job/web/summary")).json()
        assert view["taskGroups"][0]["count"] == count


async def test_bad_wait_values_are_400(bridge: BridgeClient) -> None:
    for bad in ["soon", "5x", "-1s", ""]:
        response = await bridge.get(f"/jobs?wait={bad}", headers={"waitIndex": "1"})
        assert response.status == 400, bad
        assert response.content_type == "application/problem+json"


async def test_while_nomad_is_down_reads_answer_from_the_last_view_and_recover(
    bridge: BridgeClient, simulator: Simulator, nomad_probe: NomadProbe
) -> None:
    simulator.register_job_spec(job_spec("web", {"g": 1}))
    index = await settled(bridge, simulator, nomad_probe)
    simulator.controls.set_outage("refuse")
    response = await bridge.get("/jobs")
    assert response.status == 200
    assert names(await response.json()) == ["web"]

    async def not_ready() -> bool:
        return (await bridge.get("/ready")).status == 503

    await wait_until(not_ready)
    stop = await bridge.post("/jobs/stop/web")
    assert stop.status == 503
    simulator.register_job_spec(job_spec("api", {"g": 1}))  # a change made meanwhile
    simulator.controls.set_outage(None)
    response = await bridge.get("/jobs?wait=30s", headers={"waitIndex": str(index)})
    assert int(response.headers["waitIndex"]) > index

    async def converged() -> bool:
        return names(await (await bridge.get("/jobs")).json()) == ["api", "web"]

    await wait_until(converged)

    async def ready() -> bool:
        return (await bridge.get("/ready")).status == 200

    await wait_until(ready)


async def test_an_evaluation_only_change_wakes_no_waiter(
    bridge: BridgeClient, simulator: Simulator, nomad_probe: NomadProbe
) -> None:
    spec = job_spec("web", {"g": 1})
    await nomad_probe.register(spec)
    index = await settled(bridge, simulator, nomad_probe)
    waiter = asyncio.create_task(bridge.get("/jobs?wait=30s", headers={"waitIndex": str(index)}))
    await parked(bridge, 1)
    # An identical re-register: Nomad writes a new evaluation and nothing else.
    await nomad_probe.register(spec)
    assert await settled(bridge, simulator, nomad_probe) == index
    assert not waiter.done()
    await nomad_probe.register(job_spec("api", {"g": 1}))  # the next visible change wakes it
    response = await waiter
    assert int(response.headers["waitIndex"]) > index


async def test_nomad_index_going_backwards_resets_the_view_and_answers_waiters(
    make_bridge: MakeBridge, simulator: Simulator, nomad_probe: NomadProbe
) -> None:
    bridge = await make_bridge(BridgeSettings(watch_wait_s=0.5))
    simulator.register_job_spec(job_spec("web", {"g": 1}))
    index = await settled(bridge, simulator, nomad_probe)
    waiter = asyncio.create_task(bridge.get("/jobs?wait=30s", headers={"waitIndex": str(index)}))
    await parked(bridge, 1)
    simulator.controls.reset_index(to=2)
    response = await asyncio.wait_for(waiter, 10)  # SPEC: noticed within 10 s
    assert response.status == 200
    assert int(response.headers["waitIndex"]) < index
    assert names(await response.json()) == ["web"]
    await nomad_probe.register(job_spec("api", {"g": 1}))  # the view keeps following Nomad

    async def follows() -> bool:
        return names(await (await bridge.get("/jobs")).json()) == ["api", "web"]

    await wait_until(follows)


async def test_reads_say_how_long_since_the_view_last_heard_from_nomad(
    bridge: BridgeClient, simulator: Simulator, nomad_probe: NomadProbe
) -> None:
    simulator.register_job_spec(job_spec("web", {"g": 1}))
    await settled(bridge, simulator, nomad_probe)
    for path in ("/jobs", "/job/web/summary"):
        assert (await bridge.get(path)).headers["X-Bridge-LastContact"] == "0"
    simulator.controls.set_outage("refuse")

    async def stale() -> bool:
        response = await bridge.get("/jobs")
        return int(response.headers["X-Bridge-LastContact"]) > 0

    await wait_until(stale)
    summary = await bridge.get("/job/web/summary")
    assert int(summary.headers["X-Bridge-LastContact"]) > 0
    simulator.controls.set_outage(None)

    async def current() -> bool:
        return (await bridge.get("/jobs")).headers["X-Bridge-LastContact"] == "0"

    await wait_until(current)
