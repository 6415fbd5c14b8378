"""Contract: a job's life in Nomad v1.9.x: stop, purge, restart, and its indexes and counters.

`DELETE /v1/job/:id` with and without purge, what allocations do after a stop or a lower
count, how a batch job ends, and which indexes and summary counters move on the way. Each test
pins one fact and names its source: Nomad's docs (`website/content/api-docs/jobs.mdx`) or Go
code at v1.9.x (`nomad/job_endpoint.go`, `nomad/fsm.go`, `nomad/state/state_store.go`, the
scheduler's reconciler, the client's allocrunner).
"""

from __future__ import annotations

from typing import Any

from tests.sim.harness import NomadHttp, read_job, register, wait_for_summary
from tests.support import job_spec, wait_until

# --- stop and purge ---------------------------------------------------------------------------


async def test_stop_sets_stop_bumps_version_and_answers_equal_indexes(http: NomadHttp) -> None:
    """DELETE without purge upserts the job with Stop=true as a new Version; the answer's
    JobModifyIndex == EvalCreateIndex == Index (one Raft entry), and a new eval is made.

    Source: api-docs/jobs.mdx "Stop a Job"; nomad/job_endpoint.go Job.Deregister (reply
    indexes = index); nomad/fsm.go handleJobDeregister.
    """
    await register(http, job_spec("stop-me"))

    answer = await http.delete("/v1/job/stop-me")

    assert answer.status == 200, answer.text
    body = answer.json()
    assert body["EvalID"]
    assert body["JobModifyIndex"] == body["EvalCreateIndex"] == body["Index"] == answer.index
    job = await read_job(http, "stop-me")
    assert job["Stop"] is True
    assert job["Version"] == 1
    assert job["JobModifyIndex"] == body["JobModifyIndex"]


async def test_stopping_a_stopped_job_bumps_the_version_again(http: NomadHttp) -> None:
    """Stopping an already stopped job writes another version; there is no "already stopped"
    shortcut.

    Source: nomad/job_endpoint.go Job.Deregister (no Stop check); nomad/fsm.go
    handleJobDeregister (upserts a Stop=true copy every time).
    """
    await register(http, job_spec("stop-twice"))

    first = (await http.delete("/v1/job/stop-twice")).json()
    second = (await http.delete("/v1/job/stop-twice")).json()
    job = await read_job(http, "stop-twice")

    assert second["JobModifyIndex"] > first["JobModifyIndex"]
    assert job["Stop"] is True
    assert job["Version"] == 2


async def test_stopped_job_allocations_complete_and_job_turns_dead(http: NomadHttp) -> None:
    """After a stop, running allocations end `complete` (Running 0, Complete +N) and the job
    turns `dead`.

    Source: api-docs/jobs.mdx Field Reference (`dead`: all allocations terminal);
    nomad/state/state_store.go updateSummaryWithAlloc (running → complete) and getJobStatus.
    """
    await register(http, job_spec("stop-drain", {"web": 2}))
    await wait_for_summary(http, "stop-drain", "web", Running=2)

    await http.delete("/v1/job/stop-drain")

    await wait_for_summary(http, "stop-drain", "web", Running=0, Starting=0, Complete=2)

    async def dead() -> bool:
        return (await read_job(http, "stop-drain"))["Status"] == "dead"

    await wait_until(dead, what="status dead")


async def test_stopped_allocations_are_desired_stop_and_client_complete(
    http: NomadHttp,
) -> None:
    """After a stop, the job's allocations end DesiredStatus `stop` and ClientStatus
    `complete`.

    Source: scheduler (stopped job → every allocation DesiredStatus=stop); client
    allocrunner getClientStatus (killed tasks are dead, not failed → complete).
    """
    await register(http, job_spec("alloc-stop", {"web": 2}))
    await wait_for_summary(http, "alloc-stop", "web", Running=2)
    await http.delete("/v1/job/alloc-stop")

    async def all_complete() -> list[dict[str, Any]] | None:
        allocs: list[dict[str, Any]] = (await http.get("/v1/job/alloc-stop/allocations")).json()
        done = all(a["ClientStatus"] == "complete" for a in allocs)
        return allocs if allocs and done else None

    allocs = await wait_until(all_complete, what="allocations complete")

    assert len(allocs) == 2
    assert {a["DesiredStatus"] for a in allocs} == {"stop"}


async def test_reregistering_a_stopped_job_starts_it_as_a_new_version(http: NomadHttp) -> None:
    """Registering the spec of a stopped job again (Stop absent → false) is a spec change: a
    new Version with Stop false, and the job runs again.

    Source: command/job_run.go behaviour described in api-docs and nomad/structs/structs.go
    Job.SpecChanged (Stop is part of the spec); nomad/state/state_store.go upsertJobImpl.
    """
    await register(http, job_spec("restart"))
    await http.delete("/v1/job/restart")

    answer = await register(http, job_spec("restart"))

    job = await read_job(http, "restart")
    assert job["Stop"] is False
    assert job["Version"] == 2
    assert job["JobModifyIndex"] == answer["JobModifyIndex"]
    await wait_for_summary(http, "restart", "web", Running=1)


async def test_purge_removes_the_job_and_its_summary(http: NomadHttp) -> None:
    """DELETE ?purge=true deletes the job: later reads of job and summary are 404
    `job not found`, and the job leaves the list.

    Source: api-docs/jobs.mdx "Stop a Job" (`purge`); nomad/fsm.go handleJobDeregister
    (DeleteJob); command/agent/job_endpoint.go jobQuery and jobSummaryRequest.
    """
    await register(http, job_spec("purge-me"))

    answer = await http.delete("/v1/job/purge-me", params={"purge": "true"})

    assert answer.status == 200, answer.text
    assert answer.json()["EvalID"]
    for path in ("/v1/job/purge-me", "/v1/job/purge-me/summary"):
        gone = await http.get(path)
        assert gone.status == 404, path
        assert gone.text == "job not found", path
    assert (await http.get("/v1/jobs")).json() == []


async def test_reregister_after_purge_starts_at_version_zero_with_new_create_index(
    http: NomadHttp,
) -> None:
    """A job registered again after a purge is a new incarnation: Version 0, a new CreateIndex.

    Source: nomad/state/state_store.go upsertJobImpl (no existing row → CreateIndex = index,
    Version 0).
    """
    await register(http, job_spec("purge-again"))
    await register(http, job_spec("purge-again", {"web": 2}))
    old = await read_job(http, "purge-again")
    await http.delete("/v1/job/purge-again", params={"purge": "true"})

    await register(http, job_spec("purge-again"))
    new = await read_job(http, "purge-again")

    assert old["Version"] == 1
    assert new["Version"] == 0
    assert new["CreateIndex"] > old["CreateIndex"]
    assert new["CreateIndex"] > old["JobModifyIndex"]


async def test_delete_unknown_job_is_200_with_zeroed_answer(http: NomadHttp) -> None:
    """Stopping a job that does not exist answers 200 with a zeroed body (since v1.6.0).

    Source: nomad/job_endpoint.go Job.Deregister (`if job == nil { return nil }`);
    command/agent/job_endpoint.go jobDelete.
    """
    answer = await http.delete("/v1/job/never-was")

    assert answer.status == 200, answer.text
    body = answer.json()
    assert body["EvalID"] == ""
    assert body["EvalCreateIndex"] == 0
    assert body["JobModifyIndex"] == 0
    assert body["Index"] == 0


# --- indexes and counters over a job's life ---------------------------------------------------


async def test_status_changes_move_modify_index_but_not_job_modify_index(
    http: NomadHttp,
) -> None:
    """A status-only change (pending → running) rewrites the job row: ModifyIndex grows while
    JobModifyIndex and Version stay.

    Source: nomad/state/state_store.go setJobStatus (copies the job, sets ModifyIndex only);
    api-docs/jobs.mdx (JobModifyIndex is the spec's index).
    """
    written = await register(http, job_spec("status-index"))

    async def running() -> dict[str, Any] | None:
        job = await read_job(http, "status-index")
        return job if job["Status"] == "running" else None

    job = await wait_until(running, what="status running")

    assert job["ModifyIndex"] > written["JobModifyIndex"]
    assert job["JobModifyIndex"] == written["JobModifyIndex"]
    assert job["Version"] == 0


async def test_counters_survive_stop_and_restart(http: NomadHttp) -> None:
    """Summary counters belong to the job's incarnation: after stop and restart, Complete keeps
    the stopped allocations and Running counts the new ones.

    Source: nomad/state/state_store.go updateSummaryWithAlloc (Complete is never decremented;
    counters reset only for a new CreateIndex).
    """
    await register(http, job_spec("survive", {"web": 1}))
    await wait_for_summary(http, "survive", "web", Running=1)
    await http.delete("/v1/job/survive")
    await wait_for_summary(http, "survive", "web", Running=0, Complete=1)

    await register(http, job_spec("survive", {"web": 1}))

    await wait_for_summary(http, "survive", "web", Running=1, Complete=1)


async def test_counters_reset_after_purge_and_reregister(http: NomadHttp) -> None:
    """A purge ends the incarnation: registered again, the job's summary starts from zero.

    Source: nomad/state/state_store.go (summary deleted with the job; new summary at the new
    CreateIndex; only allocations of that incarnation count).
    """
    await register(http, job_spec("reset", {"web": 1}))
    await wait_for_summary(http, "reset", "web", Running=1)
    await http.delete("/v1/job/reset", params={"purge": "true"})

    await register(http, job_spec("reset", {"web": 1}))

    counters = await wait_for_summary(http, "reset", "web", Running=1)
    assert counters["Complete"] == 0


async def test_lowering_the_count_completes_the_surplus_allocations(http: NomadHttp) -> None:
    """Registering a lower count stops the surplus allocations: Running falls to the new
    count and each stopped allocation adds to Complete.

    Source: scheduler reconciler (surplus allocations DesiredStatus=stop);
    nomad/state/state_store.go updateSummaryWithAlloc (running → complete).
    """
    await register(http, job_spec("shrink", {"web": 3}))
    await wait_for_summary(http, "shrink", "web", Running=3)

    await register(http, job_spec("shrink", {"web": 1}))

    await wait_for_summary(http, "shrink", "web", Running=1, Complete=2, Starting=0)


async def test_batch_job_completes_and_turns_dead(http: NomadHttp) -> None:
    """A successful batch job's allocations end Complete and the job turns `dead` without a
    stop.

    Source: api-docs/jobs.mdx Field Reference (`batch`, `dead`); nomad/state/state_store.go
    getJobStatus (all allocations and evals terminal → dead).
    """
    await register(http, job_spec("batch-done", {"web": 2}, Type="batch"))

    await wait_for_summary(http, "batch-done", "web", Complete=2, Running=0, Starting=0)

    async def dead() -> bool:
        job = await read_job(http, "batch-done")
        return bool(job["Status"] == "dead" and job["Stop"] is False)

    await wait_until(dead, what="batch job dead")
