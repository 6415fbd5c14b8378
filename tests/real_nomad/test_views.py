"""SPEC sections 2-3 against a real Nomad: `GET /jobs`, `GET /job/{name}/summary`, long polls."""

from __future__ import annotations

import asyncio

import pytest

from tests.real_nomad.harness import (
    REAL_NOMAD,
    SKIP_REASON,
    SUMMARY_KEYS,
    TEST_TIMEOUT_S,
    NomadAPI,
    OwnJobs,
    converged,
    group_counts,
    job_path,
    summary,
    wait_for_view,
)
from tests.support import BridgeClient, long_polls_open

if not REAL_NOMAD:
    pytest.skip(SKIP_REASON, allow_module_level=True)

pytestmark = pytest.mark.timeout(TEST_TIMEOUT_S)

VIEW_KEYS = {"name", "status", "autostart", "byCluster", "taskGroups"}


async def test_jobs_lists_a_nomad_job_with_its_flags_groups_and_summary(
    bridge: BridgeClient, own_jobs: OwnJobs
) -> None:
    job_id = await own_jobs.register("listed", {"web": 1, "idle": 0}, autostart="yes")
    await wait_for_view(bridge, job_id)
    response = await bridge.get("/jobs")
    assert response.status == 200
    assert int(response.headers["waitIndex"]) > 0
    jobs = await response.json()
    names = [job["name"] for job in jobs]
    assert names == sorted(names)
    (listed,) = [job for job in jobs if job["name"] == job_id]
    assert set(listed) == VIEW_KEYS
    assert listed["status"] in {"pending", "running"}
    assert (listed["autostart"], listed["byCluster"]) == (True, False)
    assert group_counts(listed) == [("web", 1), ("idle", 0)], "in job-spec order"
    for group in listed["taskGroups"]:
        assert set(group["summary"]) == SUMMARY_KEYS
        assert all(isinstance(n, int) and n >= 0 for n in group["summary"].values())


@pytest.mark.parametrize(
    ("autostart", "bycluster", "expected"),
    [("TRUE", "1", (True, True)), ("no", None, (False, False)), (None, "Yes", (False, True))],
)
async def test_flags_are_the_jobs_meta_values_under_the_configured_keys(
    bridge: BridgeClient,
    own_jobs: OwnJobs,
    autostart: str | None,
    bycluster: str | None,
    expected: tuple[bool, bool],
) -> None:
    job_id = await own_jobs.register("flags", {"web": 0}, autostart=autostart, bycluster=bycluster)
    view = await wait_for_view(bridge, job_id)
    assert (view["autostart"], view["byCluster"]) == expected


async def test_summary_is_the_listed_view_of_that_one_job(
    bridge: BridgeClient, own_jobs: OwnJobs
) -> None:
    job_id = await own_jobs.register("summary", {"a": 1, "b": 2}, bycluster="true")
    view = await wait_for_view(bridge, job_id)
    assert set(view) == VIEW_KEYS
    assert view["name"] == job_id
    assert (view["autostart"], view["byCluster"]) == (False, True)
    assert group_counts(view) == [("a", 1), ("b", 2)]
    response = await bridge.get(f"/job/{job_path(job_id)}/summary")
    assert int(response.headers["waitIndex"]) > 0
    (listed,) = [job for job in await (await bridge.get("/jobs")).json() if job["name"] == job_id]
    assert (listed["autostart"], listed["byCluster"]) == (view["autostart"], view["byCluster"])
    assert group_counts(listed) == group_counts(view)


async def test_summary_counts_the_allocations_nomad_runs(
    bridge: BridgeClient, own_jobs: OwnJobs
) -> None:
    job_id = await own_jobs.register("running", {"web": 2})
    view = await wait_for_view(
        bridge,
        job_id,
        lambda v: summary(v, "web")["running"] == 2,
        "two running allocations (is the task driver enabled on a client?)",
    )
    assert view["status"] == "running"
    assert summary(view, "web")["failed"] == 0


async def test_summary_of_an_unknown_job_is_a_404_problem(
    bridge: BridgeClient, own_jobs: OwnJobs
) -> None:
    response = await bridge.get(f"/job/{job_path(own_jobs.name('never-registered'))}/summary")
    assert response.status == 404
    assert response.content_type == "application/problem+json"


async def test_a_long_poll_on_a_job_wakes_when_nomad_changes_it(
    bridge: BridgeClient, own_jobs: OwnJobs, nomad: NomadAPI
) -> None:
    job_id = await own_jobs.register("polled", {"web": 1})
    # Let the job settle: from now on, only the change below alters its view.
    await wait_for_view(bridge, job_id, lambda v: summary(v, "web")["running"] == 1, "settled")
    path = f"/job/{job_path(job_id)}/summary"
    first = await bridge.get(path)
    index = int(first.headers["waitIndex"])
    waiting = asyncio.create_task(
        bridge.get(path, params={"wait": "60s"}, headers={"waitIndex": str(index)})
    )
    try:

        async def parked() -> bool:
            return await long_polls_open(bridge) == 1

        await converged(parked, "the long poll waiting in the bridge")
        assert not waiting.done(), "nothing changed: the long poll must still be waiting"
        await own_jobs.set_counts(job_id, {"web": 2})
        response = await asyncio.wait_for(waiting, timeout=60)
    finally:
        waiting.cancel()
    assert response.status == 200
    assert int(response.headers["waitIndex"]) > index
    assert group_counts(await response.json()) == [("web", 2)]
    assert await nomad.group_count(job_id, "web") == 2
