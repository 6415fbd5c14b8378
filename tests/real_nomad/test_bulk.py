"""SPEC section 2 against a real Nomad: `POST /jobs/startall` and `POST /jobs/stopall`.

startall only ever touches this test's jobs: its bridge reads `autostart` from a Meta key unique
to the test. stopall stops every job of the namespace, so it runs only where that is acceptable.
"""

from __future__ import annotations

import pytest

from tests.real_nomad.harness import (
    DESTRUCTIVE,
    REAL_NOMAD,
    SKIP_REASON,
    TEST_TIMEOUT_S,
    NomadAPI,
    OwnJobs,
    wait_for_view,
)
from tests.support import BridgeClient

if not REAL_NOMAD:
    pytest.skip(SKIP_REASON, allow_module_level=True)

pytestmark = pytest.mark.timeout(TEST_TIMEOUT_S)


async def test_startall_starts_the_stopped_autostart_jobs_and_nothing_else(
    bridge: BridgeClient, own_jobs: OwnJobs, nomad: NomadAPI
) -> None:
    wanted = await own_jobs.register("wanted", {"web": 1}, autostart="true")
    manual = await own_jobs.register("manual", {"web": 1}, autostart="false")
    running = await own_jobs.register("running", {"web": 1}, autostart="yes")
    for job_id in (wanted, manual):
        await nomad.stop(job_id)
    running_version = (await nomad.existing_job(running))["Version"]
    response = await bridge.post("/jobs/startall")
    assert response.status == 200, await response.text()
    results = (await response.json())["results"]
    assert {r["job"]: r["result"] for r in results} == {wanted: "started"}
    assert all(r["status"] == 200 for r in results)
    assert (await nomad.existing_job(wanted))["Stop"] is False
    assert (await nomad.existing_job(manual))["Stop"] is True
    assert (await nomad.existing_job(running))["Version"] == running_version


@pytest.mark.skipif(
    not DESTRUCTIVE,
    reason="stopall stops EVERY job of the namespace: set NOMAD_BRIDGE_DESTRUCTIVE=1 to run it "
    "against a Nomad of your own",
)
async def test_stopall_stops_every_listed_job_that_is_not_stopped(
    bridge: BridgeClient, own_jobs: OwnJobs, nomad: NomadAPI
) -> None:
    first = await own_jobs.register("first", {"web": 1})
    second = await own_jobs.register("second", {"web": 1})
    already = await own_jobs.register("already", {"web": 1})
    await nomad.stop(already)
    for job_id in (first, second):
        await wait_for_view(bridge, job_id)
    response = await bridge.post("/jobs/stopall")
    assert response.status == 200, await response.text()
    results = {r["job"]: r["result"] for r in (await response.json())["results"]}
    assert (results[first], results[second]) == ("stopped", "stopped")
    assert already not in results, "a stopped job is left alone"
    for job_id in (first, second, already):
        assert (await nomad.existing_job(job_id))["Stop"] is True
