"""SPEC section 3: the waitIndex long poll, answered from one upstream watch of Nomad."""

from __future__ import annotations

import asyncio

from nomad_bridge.settings import BridgeSettings
from nomad_bridge.sim import Simulator
from tests.bridge.conftest import BridgeClient, MakeBridge, NomadProbe, job_spec, wait_until


async def settled(bridge: BridgeClient, simulator: Simulator) -> int:
    """Wait until allocations stop moving and the view is quiet; its index then."""

    async def quiet() -> bool:
        before = (await bridge.get("/jobs")).headers["waitIndex"]
        response = await bridge.get("/jobs?wait=0.3s", headers={"waitIndex": before})
        return response.headers["waitIndex"] == before

    await wait_until(quiet)
    return int((await bridge.get("/jobs")).headers["waitIndex"])


def nomad_requests(simulator: Simulator) -> int:
    return sum(simulator.controls.request_counts.values())


async def test_reads_cost_nomad_nothing_in_steady_state(
    bridge: BridgeClient, simulator: Simulator, example_jobs: list[str]
) -> None:
    await settled(bridge, simulator)
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
    bridge: BridgeClient, simulator: Simulator, example_jobs: list[str]
) -> None:
    index = await settled(bridge, simulator)
    response = await bridge.get("/jobs?wait=200ms", headers={"waitIndex": str(index)})
    assert response.status == 200
    assert int(response.headers["waitIndex"]) == index
    assert [job["name"] for job in await response.json()] == example_jobs


async def test_a_change_wakes_every_waiter_with_the_new_view(
    bridge: BridgeClient, simulator: Simulator, nomad_probe: NomadProbe
) -> None:
    simulator.register_job_spec(job_spec("web", {"g": 1}))
    index = await settled(bridge, simulator)
    waiters = [
        asyncio.create_task(bridge.get("/jobs?wait=20s", headers={"waitIndex": str(index)}))
        for _ in range(50)
    ]
    await asyncio.sleep(0.1)
    assert not any(w.done() for w in waiters)
    await nomad_probe.register(job_spec("api", {"g": 1}))
    responses = await asyncio.wait_for(asyncio.gather(*waiters), 10)
    for response in responses:
        assert int(response.headers["waitIndex"]) > index
        assert "api" in [job["name"] for job in await response.json()]


async def test_many_waiters_share_one_upstream_watch(
    bridge: BridgeClient, simulator: Simulator, example_jobs: list[str]
) -> None:
    index = await settled(bridge, simulator)
    simulator.controls.reset_request_counts()
    waiters = [
        asyncio.create_task(bridge.get("/jobs?wait=2s", headers={"waitIndex": str(index)}))
        for _ in range(500)
    ]
    await asyncio.sleep(0.5)
    assert nomad_requests(simulator) == 0
    for waiter in waiters:
        waiter.cancel()
    await asyncio.gather(*waiters, return_exceptions=True)


async def test_changes_in_other_namespaces_wake_no_waiter(
    bridge: BridgeClient, simulator: Simulator, example_jobs: list[str]
) -> None:
    index = await settled(bridge, simulator)
    waiter = asyncio.create_task(bridge.get("/jobs?wait=1s", headers={"waitIndex": str(index)}))
    await asyncio.sleep(0.1)
    simulator.register_job_spec(job_spec("elsewhere", {"g": 1}), namespace="other")
    response = await waiter
    assert int(response.headers["waitIndex"]) == index


async def test_summary_long_poll_wakes_only_for_its_own_job(
    bridge: BridgeClient, simulator: Simulator, nomad_probe: NomadProbe
) -> None:
    simulator.register_job_spec(job_spec("a", {"g": 1}))
    simulator.register_job_spec(job_spec("b", {"g": 1}))
    await settled(bridge, simulator)
    index_a = int((await bridge.get("/job/a/summary")).headers["waitIndex"])
    waiter = asyncio.create_task(
        bridge.get("/job/a/summary?wait=1s", headers={"waitIndex": str(index_a)})
    )
    await asyncio.sleep(0.1)
    await bridge.post("/jobs/settaskgroupcount", json={"jobID": "b", "taskGroup": "g", "count": 0})
    response = await waiter
    assert int(response.headers["waitIndex"]) == index_a
    waiter = asyncio.create_task(
        bridge.get("/job/a/summary?wait=10s", headers={"waitIndex": str(index_a)})
    )
    await bridge.post("/jobs/settaskgroupcount", json={"jobID": "a", "taskGroup": "g", "count": 2})
    response = await asyncio.wait_for(waiter, 5)
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
    index = await settled(bridge, simulator)
    simulator.controls.set_outage("refuse")
    response = await bridge.get("/jobs")
    assert response.status == 200
    assert [job["name"] for job in await response.json()] == ["web"]

    async def not_ready() -> bool:
        return (await bridge.get("/ready")).status == 503

    await wait_until(not_ready)
    stop = await bridge.post("/jobs/stop/web")
    assert stop.status == 503
    simulator.controls.set_outage(None)
    simulator.register_job_spec(job_spec("api", {"g": 1}))  # a change made meanwhile
    response = await bridge.get("/jobs?wait=5s", headers={"waitIndex": str(index)})
    assert int(response.headers["waitIndex"]) > index

    async def converged() -> bool:
        body = await (await bridge.get("/jobs")).json()
        return [job["name"] for job in body] == ["api", "web"]

    await wait_until(converged, timeout_s=5)
    await wait_until(lambda: _ready(bridge))


async def _ready(bridge: BridgeClient) -> bool:
    return (await bridge.get("/ready")).status == 200


async def test_an_evaluation_only_change_wakes_no_waiter(
    bridge: BridgeClient, simulator: Simulator, nomad_probe: NomadProbe
) -> None:
    spec = job_spec("web", {"g": 1})
    await nomad_probe.register(spec)
    index = await settled(bridge, simulator)
    waiter = asyncio.create_task(bridge.get("/jobs?wait=1s", headers={"waitIndex": str(index)}))
    await asyncio.sleep(0.1)
    # An identical re-register: Nomad writes a new evaluation and nothing else.
    await nomad_probe.register(spec)
    response = await waiter
    assert int(response.headers["waitIndex"]) == index


async def test_nomad_index_going_backwards_resets_the_view_and_answers_waiters(
    make_bridge: MakeBridge, simulator: Simulator, nomad_probe: NomadProbe
) -> None:
    bridge = await make_bridge(BridgeSettings(watch_wait_s=0.5))
    simulator.register_job_spec(job_spec("web", {"g": 1}))
    index = await settled(bridge, simulator)
    waiter = asyncio.create_task(bridge.get("/jobs?wait=30s", headers={"waitIndex": str(index)}))
    await asyncio.sleep(0.1)
    simulator.controls.reset_index(to=2)
    response = await asyncio.wait_for(waiter, 5)
    assert response.status == 200
    assert int(response.headers["waitIndex"]) < index
    assert [job["name"] for job in await response.json()] == ["web"]
    await nomad_probe.register(job_spec("api", {"g": 1}))  # the view keeps following Nomad

    async def follows() -> bool:
        body = await (await bridge.get("/jobs")).json()
        return [job["name"] for job in body] == ["api", "web"]

    await wait_until(follows)


async def test_reads_say_how_long_since_the_view_last_heard_from_nomad(
    bridge: BridgeClient, simulator: Simulator
) -> None:
    simulator.register_job_spec(job_spec("web", {"g": 1}))
    await settled(bridge, simulator)
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
