"""SPEC section 2 against a real Nomad: `POST /jobs/updatecounts` and `/settaskgroupcount`."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.real_nomad.harness import (
    REAL_NOMAD,
    SKIP_REASON,
    TEST_TIMEOUT_S,
    NomadAPI,
    OwnJobs,
)
from tests.support import BridgeClient, MakeBridge

if not REAL_NOMAD:
    pytest.skip(SKIP_REASON, allow_module_level=True)

pytestmark = pytest.mark.timeout(TEST_TIMEOUT_S)

# How a count change reached Nomad: scale, or register while a deployment is active.
NOMAD_PATHS = {"scale", "register"}


def change(job_id: str, group: str, count: int) -> dict[str, Any]:
    return {"jobID": job_id, "taskGroup": group, "count": count}


async def test_updatecounts_adds_the_signed_delta_and_zero_sets_zero(
    bridge: BridgeClient, own_jobs: OwnJobs, nomad: NomadAPI
) -> None:
    job_id = await own_jobs.register("delta", {"web": 1, "idle": 0})
    version = (await nomad.existing_job(job_id))["Version"]
    for delta, previous, expected in [(2, 1, 3), (-1, 3, 2), (0, 2, 0)]:
        response = await bridge.post("/jobs/updatecounts", json=change(job_id, "web", delta))
        assert response.status == 200, await response.text()
        body = await response.json()
        assert (body["jobID"], body["taskGroup"]) == (job_id, "web")
        assert (body["previousCount"], body["count"]) == (previous, expected)
        assert body["path"] in NOMAD_PATHS
        assert await nomad.group_count(job_id, "web") == expected
    assert await nomad.group_count(job_id, "idle") == 0
    assert (await nomad.existing_job(job_id))["Version"] > version, "recorded as Nomad versions"


async def test_updatecounts_below_zero_is_refused_and_changes_nothing(
    bridge: BridgeClient, own_jobs: OwnJobs, nomad: NomadAPI
) -> None:
    job_id = await own_jobs.register("negative", {"web": 1})
    before = (await nomad.existing_job(job_id))["JobModifyIndex"]
    response = await bridge.post("/jobs/updatecounts", json=change(job_id, "web", -2))
    assert response.status == 400
    assert response.content_type == "application/problem+json"
    after = await nomad.existing_job(job_id)
    assert after["JobModifyIndex"] == before
    assert await nomad.group_count(job_id, "web") == 1


async def test_settaskgroupcount_sets_the_count(
    bridge: BridgeClient, own_jobs: OwnJobs, nomad: NomadAPI
) -> None:
    job_id = await own_jobs.register("set", {"web": 1, "idle": 0})
    for count in (3, 0, 1):
        response = await bridge.post("/jobs/settaskgroupcount", json=change(job_id, "idle", count))
        assert response.status == 200, await response.text()
        body = await response.json()
        assert body["count"] == count
        assert body["path"] in NOMAD_PATHS
        assert await nomad.group_count(job_id, "idle") == count
    assert await nomad.group_count(job_id, "web") == 1


async def test_count_change_of_a_stopped_job_changes_its_spec_without_starting_it(
    bridge: BridgeClient, own_jobs: OwnJobs, nomad: NomadAPI
) -> None:
    job_id = await own_jobs.register("stopped-count", {"web": 1})
    await nomad.stop(job_id)
    response = await bridge.post("/jobs/settaskgroupcount", json=change(job_id, "web", 2))
    assert response.status == 200, await response.text()
    job = await nomad.existing_job(job_id)
    assert job["Stop"] is True
    assert await nomad.group_count(job_id, "web") == 2


async def test_count_change_of_an_unknown_job_or_group_is_404(
    bridge: BridgeClient, own_jobs: OwnJobs
) -> None:
    job_id = await own_jobs.register("groups", {"web": 1})
    ghost = own_jobs.name("ghost")
    response = await bridge.post("/jobs/updatecounts", json=change(ghost, "web", 1))
    assert response.status == 404
    response = await bridge.post("/jobs/settaskgroupcount", json=change(job_id, "nope", 1))
    assert response.status == 404
    assert "nope" in (await response.json())["detail"]


async def test_concurrent_increments_across_two_replicas_never_lose_an_update(
    make_bridge: MakeBridge, own_jobs: OwnJobs, nomad: NomadAPI
) -> None:
    replicas = [await make_bridge(), await make_bridge()]
    job_id = await own_jobs.register("contended", {"web": 0})
    increments = 6
    responses = await asyncio.gather(
        *(
            replicas[i % 2].post("/jobs/updatecounts", json=change(job_id, "web", 1))
            for i in range(increments)
        )
    )
    bodies = [await response.json() for response in responses]
    assert [response.status for response in responses] == [200] * increments, bodies
    # Each increment saw a different count: none was applied on top of a stale read.
    assert sorted(body["previousCount"] for body in bodies) == list(range(increments))
    assert await nomad.group_count(job_id, "web") == increments
