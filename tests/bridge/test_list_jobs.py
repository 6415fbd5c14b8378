"""SPEC section 2: `GET /jobs` and `GET /job/{jobName}/summary`."""

from __future__ import annotations

from urllib.parse import quote, unquote

import pytest

from nomad_bridge.jobs.definitions import definition_path
from nomad_bridge.settings import BridgeSettings
from nomad_bridge.sim import Simulator
from tests.support import (
    PERIODIC,
    BridgeClient,
    MakeBridge,
    NomadProbe,
    in_sync,
    job_spec,
    wait_until,
)


async def test_get_jobs_lists_every_job_of_the_namespace_sorted_by_name(
    bridge: BridgeClient, nomad_probe: NomadProbe, example_jobs: list[str]
) -> None:
    await in_sync(bridge, nomad_probe)
    response = await bridge.get("/jobs")
    assert response.status == 200
    body = await response.json()
    assert [job["name"] for job in body] == example_jobs
    assert example_jobs == sorted(example_jobs)


async def test_get_jobs_shows_flags_groups_and_counts_from_nomad(
    bridge: BridgeClient, nomad_probe: NomadProbe, example_jobs: list[str]
) -> None:
    await in_sync(bridge, nomad_probe)
    body = await (await bridge.get("/jobs")).json()
    web = next(job for job in body if job["name"] == "web")
    assert web["autostart"] is True
    assert web["byCluster"] is False
    assert [(g["name"], g["count"]) for g in web["taskGroups"]] == [("frontend", 2), ("api", 1)]
    game = next(job for job in body if job["name"] == "game-server")
    assert (game["autostart"], game["byCluster"]) == (False, True)


async def test_get_jobs_always_sends_a_positive_wait_index_header(bridge: BridgeClient) -> None:
    response = await bridge.get("/jobs")
    assert response.status == 200
    assert await response.json() == []
    assert int(response.headers["waitIndex"]) >= 1


async def test_summaries_follow_allocations_as_nomad_reports_them(
    bridge: BridgeClient, simulator: Simulator
) -> None:
    simulator.register_job_spec(job_spec("web", {"frontend": 2}))

    async def running() -> bool:
        body = await (await bridge.get("/jobs")).json()
        return bool(body[0]["taskGroups"][0]["summary"]["running"] == 2)

    await wait_until(running)
    body = await (await bridge.get("/jobs")).json()
    assert body[0]["status"] == "running"
    assert body[0]["taskGroups"][0]["summary"]["starting"] == 0


async def test_child_jobs_are_not_listed_and_unknown_to_summary(
    bridge: BridgeClient, simulator: Simulator, nomad_probe: NomadProbe
) -> None:
    simulator.register_job_spec(job_spec("report", {"run": 1}, Type="batch", Periodic=PERIODIC))
    child_id = simulator.controls.add_child_job("report")
    await in_sync(bridge, nomad_probe)
    body = await (await bridge.get("/jobs")).json()
    assert [job["name"] for job in body] == ["report"]
    response = await bridge.get(f"/job/{child_id}/summary")
    assert response.status == 404


async def test_jobs_of_other_namespaces_are_not_listed(
    bridge: BridgeClient, simulator: Simulator, nomad_probe: NomadProbe
) -> None:
    simulator.register_job_spec(job_spec("mine", {"g": 1}))
    simulator.register_job_spec(job_spec("theirs", {"g": 1}), namespace="other")
    await in_sync(bridge, nomad_probe)
    body = await (await bridge.get("/jobs")).json()
    assert [job["name"] for job in body] == ["mine"]
    assert (await bridge.get("/job/theirs/summary")).status == 404


async def test_summary_is_the_one_job_view_with_a_wait_index(
    bridge: BridgeClient, nomad_probe: NomadProbe, example_jobs: list[str]
) -> None:
    await in_sync(bridge, nomad_probe)
    listed = await (await bridge.get("/jobs")).json()
    response = await bridge.get("/job/web/summary")
    assert response.status == 200
    view = await response.json()
    assert view["name"] == "web"
    assert set(view) == set(listed[0])
    assert int(response.headers["waitIndex"]) >= 1


async def test_summary_of_an_unknown_job_is_a_404_problem(bridge: BridgeClient) -> None:
    response = await bridge.get("/job/nope/summary")
    assert response.status == 404
    assert response.content_type == "application/problem+json"
    problem = await response.json()
    assert problem["status"] == 404
    assert "nope" in problem["detail"]
    assert problem["title"]


@pytest.mark.parametrize("job_id", ["web.v2", "café", "a/b", "x%2Fy", "日本"])
async def test_job_names_with_any_characters_nomad_allows_work(
    bridge: BridgeClient, simulator: Simulator, nomad_probe: NomadProbe, job_id: str
) -> None:
    simulator.register_job_spec(job_spec(job_id, {"g": 1}))
    await in_sync(bridge, nomad_probe)
    response = await bridge.get(f"/job/{quote(job_id, safe='')}/summary")
    assert response.status == 200
    assert (await response.json())["name"] == job_id


@pytest.mark.parametrize("name", ["..%2F..%2Fv1%2Facl", "..%2Fjobs", "web%2Fsummary", "a%2F%2Fb"])
async def test_names_nomad_would_route_elsewhere_are_refused_before_reaching_nomad(
    bridge: BridgeClient, simulator: Simulator, name: str
) -> None:
    simulator.controls.reset_request_counts()
    for action in ("start", "stop"):
        response = await bridge.post(f"/jobs/{action}/{name}")
        assert response.status == 400, action
        assert "cannot be sent to Nomad safely" in (await response.json())["detail"]
    job_paths = [key for key in simulator.controls.request_counts if "/v1/job/" in key]
    assert job_paths == []


@pytest.mark.parametrize("name", ["a%20b", "caf%C3%A9", "web.v2", "%25"])
async def test_other_names_reach_only_their_own_nomad_paths(
    bridge: BridgeClient, simulator: Simulator, name: str
) -> None:
    simulator.controls.reset_request_counts()
    for action in ("start", "stop"):
        assert (await bridge.post(f"/jobs/{action}/{name}")).status == 404
    job_id = unquote(name)
    definition = definition_path("nomad-bridge/jobs", job_id)
    # Each name travelled as exactly one percent-encoded path segment.
    allowed = {f"/v1/job/{quote(job_id, safe='')}", f"/v1/var/{quote(definition, safe='')}"}
    paths = {key.split(" ", 1)[1] for key in simulator.controls.request_counts}
    assert paths - {"/v1/jobs", "/v1/vars", "/v1/event/stream"} <= allowed  # the watch


async def test_bad_wait_index_is_a_400_problem(bridge: BridgeClient) -> None:
    for bad in ["-1", "abc", "1.5", ""]:
        response = await bridge.get("/jobs", headers={"waitIndex": bad})
        assert response.status == 400, bad
        assert response.content_type == "application/problem+json"


async def test_routes_live_under_the_configured_base_path(
    make_bridge: MakeBridge, nomad_probe: NomadProbe, example_jobs: list[str]
) -> None:
    bridge = await make_bridge(BridgeSettings(base_path="/cluster/api"))
    await in_sync(bridge, nomad_probe)
    response = await bridge.get("/cluster/api/jobs")
    assert response.status == 200
    assert [job["name"] for job in await response.json()] == example_jobs
    assert (await bridge.get("/cluster/api/job/web/summary")).status == 200
    assert (await bridge.get("/jobs")).status == 404
    assert (await bridge.get("/health")).status == 200


async def test_a_job_nomad_cannot_address_safely_is_left_out_and_the_rest_is_served(
    bridge: BridgeClient, simulator: Simulator, nomad_probe: NomadProbe
) -> None:
    simulator.register_job_spec(job_spec("web", {"g": 1}))
    simulator.register_job_spec(job_spec("web/summary", {"g": 1}))
    await in_sync(bridge, nomad_probe)
    body = await (await bridge.get("/jobs")).json()
    assert [job["name"] for job in body] == ["web"]
