"""SPEC sections 2 and 4 against a real Nomad: start, stop, and restoring a purged job."""

from __future__ import annotations

import pytest

from nomad_bridge.jobs.definitions import definition_path
from nomad_bridge.settings import BridgeSettings
from tests.real_nomad.harness import (
    REAL_NOMAD,
    SKIP_REASON,
    TEST_TIMEOUT_S,
    NomadAPI,
    OwnJobs,
    converged,
    group_counts,
    job_path,
    wait_for_view,
)
from tests.support import BridgeClient

if not REAL_NOMAD:
    pytest.skip(SKIP_REASON, allow_module_level=True)

pytestmark = pytest.mark.timeout(TEST_TIMEOUT_S)


async def test_stop_stops_the_job_in_nomad_without_purging_it(
    bridge: BridgeClient, own_jobs: OwnJobs, nomad: NomadAPI
) -> None:
    job_id = await own_jobs.register("stopped", {"web": 1})
    await wait_for_view(bridge, job_id)
    response = await bridge.post(f"/jobs/stop/{job_path(job_id)}")
    assert response.status == 200
    body = await response.json()
    assert (body["job"], body["result"]) == (job_id, "stopped")
    job = await nomad.existing_job(job_id)
    assert job["Stop"] is True, "stopped, and still known to Nomad (no purge)"
    await wait_for_view(bridge, job_id, lambda v: v["status"] == "dead", "status dead")


async def test_stop_of_a_stopped_job_is_a_no_op(
    bridge: BridgeClient, own_jobs: OwnJobs, nomad: NomadAPI
) -> None:
    job_id = await own_jobs.register("stop-twice", {"web": 1})
    await nomad.stop(job_id)
    version = (await nomad.existing_job(job_id))["Version"]
    response = await bridge.post(f"/jobs/stop/{job_path(job_id)}")
    assert response.status == 200
    assert (await response.json())["result"] == "already stopped"
    assert (await nomad.existing_job(job_id))["Version"] == version, "no new Nomad version"


async def test_start_registers_a_stopped_job_again_with_its_spec(
    bridge: BridgeClient, own_jobs: OwnJobs, nomad: NomadAPI
) -> None:
    job_id = await own_jobs.register("restarted", {"web": 1, "idle": 0}, autostart="true")
    await nomad.stop(job_id)
    response = await bridge.post(f"/jobs/start/{job_path(job_id)}")
    assert response.status == 200
    assert (await response.json())["result"] == "started"
    job = await nomad.existing_job(job_id)
    assert job["Stop"] is False
    assert job["Meta"] == own_jobs.specs[job_id]["Meta"]
    assert [(g["Name"], g["Count"]) for g in job["TaskGroups"]] == [("web", 1), ("idle", 0)]
    again = await bridge.post(f"/jobs/start/{job_path(job_id)}")
    assert again.status == 200
    assert (await again.json())["result"] == "already running"


async def test_start_and_stop_of_an_unknown_job_are_404_problems(
    bridge: BridgeClient, own_jobs: OwnJobs
) -> None:
    for action in ("start", "stop"):
        response = await bridge.post(f"/jobs/{action}/{job_path(own_jobs.name('ghost'))}")
        assert response.status == 404, action
        assert response.content_type == "application/problem+json"


async def test_a_job_nomad_no_longer_has_is_listed_dead_and_restored_by_start(
    bridge: BridgeClient, own_jobs: OwnJobs, nomad: NomadAPI, bridge_settings: BridgeSettings
) -> None:
    job_id = await own_jobs.register("collected", {"web": 1}, autostart="true")
    saved = definition_path(bridge_settings.definitions_prefix, job_id)

    async def definition_saved() -> bool:
        return saved in await nomad.variable_paths(saved)

    await converged(definition_saved, f"the saved definition {saved}")
    assert (await bridge.post(f"/jobs/stop/{job_path(job_id)}")).status == 200
    await nomad.purge(job_id)  # what Nomad's garbage collector does to a stopped job
    view = await wait_for_view(
        bridge,
        job_id,
        lambda v: (
            v["status"] == "dead" and all(not any(g["summary"].values()) for g in v["taskGroups"])
        ),
        "listed from its saved definition",
    )
    assert group_counts(view) == [("web", 1)]
    assert view["autostart"] is True
    response = await bridge.post(f"/jobs/start/{job_path(job_id)}")
    assert response.status == 200
    assert (await response.json())["result"] == "restored"
    job = await nomad.existing_job(job_id)
    assert job["Stop"] is False
    assert job["Meta"] == own_jobs.specs[job_id]["Meta"]
    assert [(g["Name"], g["Count"]) for g in job["TaskGroups"]] == [("web", 1)]
