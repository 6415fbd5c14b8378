"""SPEC section 4: saved definitions keep garbage-collected jobs listed and startable."""

from __future__ import annotations

from nomad_bridge.jobs.definitions import definition_path
from nomad_bridge.sim import Simulator
from tests.support import (
    DEFINITIONS_PREFIX,
    BridgeClient,
    NomadProbe,
    in_sync,
    job_spec,
    saved_definition,
    wait_until,
)


async def collected(simulator: Simulator, probe: NomadProbe, job_id: str) -> None:
    """Run Nomad's garbage collector until it has taken the stopped job.

    Nomad collects a job only once it is dead *and* its evaluations and allocations are
    terminal on the clients, which trails the stop by a moment.
    """

    async def gone() -> bool:
        simulator.controls.garbage_collect()
        return (await probe.get(f"/v1/job/{job_id}"))[0] == 404

    await wait_until(gone)


async def test_every_listed_job_gets_a_saved_definition_in_a_nomad_variable(
    bridge: BridgeClient, nomad_probe: NomadProbe, example_jobs: list[str]
) -> None:
    for job_id in example_jobs:
        await saved_definition(nomad_probe, job_id)
    status, variables = await nomad_probe.get(f"/v1/vars?prefix={DEFINITIONS_PREFIX}/")
    assert status == 200
    assert sorted(v["Path"] for v in variables) == sorted(
        definition_path(DEFINITIONS_PREFIX, job_id) for job_id in example_jobs
    )


async def test_definitions_are_written_only_when_the_spec_changed(
    bridge: BridgeClient, simulator: Simulator, nomad_probe: NomadProbe
) -> None:
    simulator.register_job_spec(job_spec("web", {"g": 1}))
    first = await saved_definition(nomad_probe, "web")
    simulator.controls.reset_request_counts()
    await nomad_probe.stop("web")  # Stop is not part of the saved spec
    await bridge.post("/jobs/start/web")
    await bridge.post(
        "/jobs/settaskgroupcount", json={"jobID": "web", "taskGroup": "g", "count": 4}
    )
    await saved_definition(nomad_probe, "web", after=first)
    await in_sync(bridge, nomad_probe)
    writes = [key for key in simulator.controls.request_counts if key.startswith("PUT /v1/var/")]
    assert [simulator.controls.request_counts[key] for key in writes] == [1]


async def test_a_garbage_collected_job_is_listed_dead_and_starts_again_as_it_was(
    bridge: BridgeClient, simulator: Simulator, nomad_probe: NomadProbe
) -> None:
    simulator.register_job_spec(
        job_spec("game", {"lobby": 1, "match": 3}, Meta={"autostart": "true"})
    )
    await saved_definition(nomad_probe, "game")
    assert (await bridge.post("/jobs/stop/game")).status == 200

    await collected(simulator, nomad_probe, "game")
    await in_sync(bridge, nomad_probe)

    listed = await (await bridge.get("/jobs")).json()
    assert listed == [
        {
            "name": "game",
            "status": "dead",
            "autostart": True,
            "byCluster": False,
            "taskGroups": [
                {
                    "name": name,
                    "count": count,
                    "summary": dict.fromkeys(
                        ["queued", "complete", "failed", "running", "starting", "lost"], 0
                    ),
                }
                for name, count in [("lobby", 1), ("match", 3)]
            ],
        }
    ]
    response = await bridge.post("/jobs/start/game")
    assert response.status == 200
    assert (await response.json())["result"] == "restored"
    job = await nomad_probe.job("game")
    assert [(g["Name"], g["Count"]) for g in job["TaskGroups"]] == [("lobby", 1), ("match", 3)]
    assert job["Stop"] is False

    async def running() -> bool:
        return (await nomad_probe.job("game"))["Status"] == "running"

    await wait_until(running)


async def test_startall_restores_garbage_collected_autostart_jobs(
    bridge: BridgeClient, simulator: Simulator, nomad_probe: NomadProbe
) -> None:
    simulator.register_job_spec(job_spec("cache", {"redis": 1}, Meta={"autostart": "yes"}))
    await saved_definition(nomad_probe, "cache")
    await nomad_probe.stop("cache")

    await collected(simulator, nomad_probe, "cache")
    response = await bridge.post("/jobs/startall")
    assert response.status == 200
    assert (await response.json())["results"] == [
        {"job": "cache", "status": 200, "result": "restored"}
    ]
    assert (await nomad_probe.job("cache"))["Stop"] is False


async def test_count_change_of_a_garbage_collected_job_changes_its_saved_definition(
    bridge: BridgeClient, simulator: Simulator, nomad_probe: NomadProbe
) -> None:
    simulator.register_job_spec(job_spec("batchy", {"g": 2}))
    await saved_definition(nomad_probe, "batchy")
    await nomad_probe.stop("batchy")

    await collected(simulator, nomad_probe, "batchy")
    response = await bridge.post(
        "/jobs/updatecounts", json={"jobID": "batchy", "taskGroup": "g", "count": 3}
    )
    assert response.status == 200
    assert (await response.json())["path"] == "definition"
    await in_sync(bridge, nomad_probe)
    listed = await (await bridge.get("/jobs")).json()
    assert listed[0]["taskGroups"][0]["count"] == 5
    assert listed[0]["status"] == "dead"
