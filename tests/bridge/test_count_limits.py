"""`BRIDGE_MAX_COUNT`: no client can ask Nomad for more allocations than the bridge allows.

A count above it (a `settaskgroupcount` value, an `updatecounts` result) is a 400 naming the
setting, and Nomad is not asked to change anything; a group's scaling policy, which Nomad
enforces, still wins where it is stricter.
"""

from __future__ import annotations

from typing import Any

import pytest

from nomad_bridge.settings import BridgeSettings
from nomad_bridge.sim import Simulator
from tests.support import BridgeClient, MakeBridge, NomadProbe, in_sync, job_spec

MAX_COUNT = BridgeSettings().max_count
ROUTES = ["/jobs/updatecounts", "/jobs/settaskgroupcount"]


def change(job_id: str, group: str, count: int) -> dict[str, Any]:
    return {"jobID": job_id, "taskGroup": group, "count": count}


def scaled(job_id: str, count: int, *, low: int, high: int) -> dict[str, Any]:
    spec = job_spec(job_id, {"match": count})
    spec["TaskGroups"][0]["Scaling"] = {"Min": low, "Max": high, "Enabled": True}
    return spec


def nomad_calls_for(simulator: Simulator, job_id: str) -> list[str]:
    """Requests that read or change the job (the view's own watch asks other paths, and
    reads the job's summary when its allocations move)."""
    return [
        key
        for key in simulator.controls.request_counts
        if (f"/v1/job/{job_id}" in key and not key.endswith("/summary"))
        or key.startswith("POST /v1/jobs")
    ]


@pytest.fixture
async def web(simulator: Simulator, bridge: BridgeClient, nomad_probe: NomadProbe) -> str:
    simulator.register_job_spec(job_spec("web", {"frontend": 3}))
    await nomad_probe.deployed("web")
    await in_sync(bridge, nomad_probe)
    simulator.controls.reset_request_counts()
    return "web"


@pytest.mark.parametrize("count", [MAX_COUNT + 1, 2**31], ids=["max-plus-one", "2^31"])
@pytest.mark.parametrize("route", ROUTES)
async def test_a_count_above_bridge_max_count_is_400_and_nomad_is_not_called(
    bridge: BridgeClient, simulator: Simulator, web: str, route: str, count: int
) -> None:
    response = await bridge.post(route, json=change(web, "frontend", count))

    assert response.status == 400
    assert response.content_type == "application/problem+json"
    problem = await response.json()
    assert f"BRIDGE_MAX_COUNT allows at most {MAX_COUNT}" in problem["detail"]
    assert nomad_calls_for(simulator, web) == []


async def test_updatecounts_whose_result_passes_bridge_max_count_is_400_and_changes_nothing(
    make_bridge: MakeBridge, simulator: Simulator, nomad_probe: NomadProbe
) -> None:
    simulator.register_job_spec(job_spec("web", {"frontend": 3}))
    bridge = await make_bridge(BridgeSettings(max_count=10))
    before = await nomad_probe.job("web")

    refused = await bridge.post("/jobs/updatecounts", json=change("web", "frontend", 8))

    assert refused.status == 400
    detail = (await refused.json())["detail"]
    assert "would be 11" in detail
    assert "BRIDGE_MAX_COUNT allows at most 10" in detail
    after = await nomad_probe.job("web")
    assert (after["Version"], after["JobModifyIndex"]) == (
        before["Version"],
        before["JobModifyIndex"],
    )
    accepted = await bridge.post("/jobs/updatecounts", json=change("web", "frontend", 7))
    assert accepted.status == 200
    assert await nomad_probe.group_count("web", "frontend") == 10


@pytest.mark.parametrize(("count", "word"), [(11, "maximum"), (1, "minimum")])
async def test_a_scaling_policy_stricter_than_bridge_max_count_still_wins(
    bridge: BridgeClient, simulator: Simulator, nomad_probe: NomadProbe, count: int, word: str
) -> None:
    simulator.register_job_spec(scaled("game", 3, low=2, high=10))

    response = await bridge.post("/jobs/settaskgroupcount", json=change("game", "match", count))

    assert response.status == 400
    assert word in (await response.json())["detail"]
    assert await nomad_probe.group_count("game", "match") == 3


async def test_bridge_max_count_stricter_than_the_scaling_policy_wins(
    make_bridge: MakeBridge, simulator: Simulator, nomad_probe: NomadProbe
) -> None:
    simulator.register_job_spec(scaled("game", 3, low=0, high=5000))
    bridge = await make_bridge(BridgeSettings(max_count=100))
    await in_sync(bridge, nomad_probe)
    simulator.controls.reset_request_counts()

    refused = await bridge.post("/jobs/settaskgroupcount", json=change("game", "match", 101))

    assert refused.status == 400
    assert "BRIDGE_MAX_COUNT" in (await refused.json())["detail"]
    assert nomad_calls_for(simulator, "game") == []
    accepted = await bridge.post("/jobs/settaskgroupcount", json=change("game", "match", 100))
    assert accepted.status == 200
    assert await nomad_probe.group_count("game", "match") == 100
