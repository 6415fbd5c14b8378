"""SPEC section 2: `POST /jobs/updatecounts` and `POST /jobs/settaskgroupcount`."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from nomad_bridge.nomad import NomadSettings
from nomad_bridge.sim import Simulator
from tests.support import BridgeClient, MakeBridge, NomadProbe, job_spec


def change(job_id: str, group: str, count: Any) -> dict[str, Any]:
    return {"jobID": job_id, "taskGroup": group, "count": count}


@pytest.fixture
def web(simulator: Simulator) -> str:
    simulator.register_job_spec(job_spec("web", {"frontend": 3, "api": 1}))
    return "web"


@pytest.mark.parametrize(("delta", "expected"), [(2, 5), (-1, 2), (0, 0), (-3, 0)])
async def test_updatecounts_adds_the_signed_delta_and_zero_sets_zero(
    bridge: BridgeClient, nomad_probe: NomadProbe, web: str, delta: int, expected: int
) -> None:
    response = await bridge.post("/jobs/updatecounts", json=change(web, "frontend", delta))
    assert response.status == 200
    body = await response.json()
    assert (body["previousCount"], body["count"]) == (3, expected)
    assert await nomad_probe.group_count(web, "frontend") == expected
    assert await nomad_probe.group_count(web, "api") == 1


async def test_updatecounts_below_zero_is_refused_and_changes_nothing(
    bridge: BridgeClient, nomad_probe: NomadProbe, web: str
) -> None:
    before = await nomad_probe.job(web)
    response = await bridge.post("/jobs/updatecounts", json=change(web, "frontend", -4))
    assert response.status == 400
    assert response.content_type == "application/problem+json"
    after = await nomad_probe.job(web)
    assert (after["Version"], after["JobModifyIndex"]) == (
        before["Version"],
        before["JobModifyIndex"],
    )


@pytest.mark.parametrize("count", [0, 1, 7])
async def test_settaskgroupcount_sets_the_count(
    bridge: BridgeClient, nomad_probe: NomadProbe, web: str, count: int
) -> None:
    response = await bridge.post("/jobs/settaskgroupcount", json=change(web, "api", count))
    assert response.status == 200
    assert (await response.json())["count"] == count
    assert await nomad_probe.group_count(web, "api") == count


async def test_settaskgroupcount_below_zero_is_400(
    bridge: BridgeClient, nomad_probe: NomadProbe, web: str
) -> None:
    response = await bridge.post("/jobs/settaskgroupcount", json=change(web, "api", -1))
    assert response.status == 400
    assert await nomad_probe.group_count(web, "api") == 1


@pytest.mark.parametrize(
    "body",
    [
        change("web", "api", "3"),
        change("web", "api", 3.5),
        change("web", "api", True),
        change("web", "api", None),
        {"jobID": "web", "taskGroup": "api"},
        {"jobID": "web", "count": 1},
        {"taskGroup": "api", "count": 1},
        {**change("web", "api", 1), "extra": 1},
        [change("web", "api", 1)],
    ],
)
async def test_count_bodies_must_have_exact_fields_and_strict_integers(
    bridge: BridgeClient, web: str, body: Any
) -> None:
    for route in ("/jobs/updatecounts", "/jobs/settaskgroupcount"):
        response = await bridge.post(route, json=body)
        assert response.status == 400, (route, body)
        problem = await response.json()
        assert problem["status"] == 400
        assert problem["detail"]


async def test_malformed_json_is_a_400_problem(bridge: BridgeClient, web: str) -> None:
    response = await bridge.post("/jobs/updatecounts", data=b'{"jobID": "web",')
    assert response.status == 400
    assert response.content_type == "application/problem+json"


async def test_count_change_of_an_unknown_job_or_group_is_404(
    bridge: BridgeClient, web: str
) -> None:
    assert (await bridge.post("/jobs/updatecounts", json=change("nope", "g", 1))).status == 404
    response = await bridge.post("/jobs/settaskgroupcount", json=change(web, "nope", 1))
    assert response.status == 404
    assert "nope" in (await response.json())["detail"]


async def test_count_change_of_a_stopped_job_changes_its_spec_without_starting_it(
    bridge: BridgeClient, nomad_probe: NomadProbe, web: str
) -> None:
    await nomad_probe.stop(web)
    response = await bridge.post("/jobs/settaskgroupcount", json=change(web, "frontend", 5))
    assert response.status == 200
    job = await nomad_probe.job(web)
    assert job["Stop"] is True
    assert next(g["Count"] for g in job["TaskGroups"] if g["Name"] == "frontend") == 5


async def test_count_change_shows_up_as_a_nomad_job_version_and_scaling_event(
    bridge: BridgeClient, nomad_probe: NomadProbe, web: str
) -> None:
    await nomad_probe.deployed(web)
    before = (await nomad_probe.job(web))["Version"]
    response = await bridge.post("/jobs/updatecounts", json=change(web, "api", 1))
    assert (await response.json())["path"] == "scale"
    assert (await nomad_probe.job(web))["Version"] == before + 1
    status, scale = await nomad_probe.get(f"/v1/job/{web}/scale")
    assert status == 200
    events = scale["TaskGroups"]["api"]["Events"]
    assert events[0]["Count"] == 2
    assert "nomad-bridge" in events[0]["Message"]


async def test_count_change_during_an_active_deployment_falls_back_to_check_and_set_register(
    bridge: BridgeClient, simulator: Simulator, nomad_probe: NomadProbe, web: str
) -> None:
    simulator.controls.hold_deployments(True)
    await nomad_probe.placed(web)
    response = await bridge.post("/jobs/updatecounts", json=change(web, "frontend", 1))
    assert response.status == 200
    assert (await response.json())["path"] == "register"
    assert await nomad_probe.group_count(web, "frontend") == 4


async def test_count_outside_the_scaling_policy_during_an_active_deployment_is_400(
    bridge: BridgeClient, simulator: Simulator, nomad_probe: NomadProbe
) -> None:
    """Nomad's scale endpoint checks the policy's bounds before it looks for an active
    deployment, so the refusal is its 400, not the deployment's (which would send the
    change through the check-and-set register), and nothing changes."""
    spec = job_spec("game", {"match": 3})
    spec["TaskGroups"][0]["Scaling"] = {"Min": 0, "Max": 10, "Enabled": True}
    simulator.register_job_spec(spec)
    simulator.controls.hold_deployments(True)
    await nomad_probe.placed("game")
    before = await nomad_probe.job("game")

    response = await bridge.post("/jobs/settaskgroupcount", json=change("game", "match", 11))

    assert response.status == 400
    assert response.content_type == "application/problem+json"
    assert "greater than scaling policy maximum" in (await response.json())["detail"]
    after = await nomad_probe.job("game")
    assert (after["Version"], after["JobModifyIndex"]) == (
        before["Version"],
        before["JobModifyIndex"],
    )


async def test_count_outside_the_groups_scaling_policy_is_400(
    bridge: BridgeClient, simulator: Simulator, nomad_probe: NomadProbe
) -> None:
    spec = job_spec("game", {"match": 3})
    spec["TaskGroups"][0]["Scaling"] = {"Min": 0, "Max": 10, "Enabled": True}
    simulator.register_job_spec(spec)
    response = await bridge.post("/jobs/settaskgroupcount", json=change("game", "match", 11))
    assert response.status == 400
    assert "maximum" in (await response.json())["detail"]
    assert await nomad_probe.group_count("game", "match") == 3


async def test_concurrent_increments_across_two_bridges_lose_no_update(
    make_bridge: MakeBridge,
    nomad_settings: NomadSettings,
    nomad_probe: NomadProbe,
    web: str,
) -> None:
    replicas = [await make_bridge() for _ in range(2)]
    increments = 24
    responses = await asyncio.gather(
        *(
            replicas[i % 2].post("/jobs/updatecounts", json=change(web, "frontend", 1))
            for i in range(increments)
        )
    )
    assert [r.status for r in responses] == [200] * increments
    assert await nomad_probe.group_count(web, "frontend") == 3 + increments
