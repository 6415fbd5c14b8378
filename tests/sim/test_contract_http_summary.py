"""Contract: a job's summary and status in Nomad v1.9.x, and the list stubs that carry them.

`GET /v1/job/:id/summary`, the job's `Status`, the stubs of `GET /v1/jobs` (the bridge's
watch reads them), and a job's allocations. Each test pins one fact and names its source:
Nomad's docs (`website/content/api-docs/jobs.mdx`) or Go code at v1.9.x
(`command/agent/job_endpoint.go`, `nomad/job_endpoint.go`, `nomad/state/state_store.go`,
`nomad/structs/structs.go`).
"""

from __future__ import annotations

from tests.sim.harness import NomadHttp, read_job, register, wait_for_summary
from tests.support import job_spec, wait_until

# --- summary and status -----------------------------------------------------------------------


async def test_summary_has_every_counter_and_children(http: NomadHttp) -> None:
    """The summary is {JobID, Namespace, Summary{group:{Queued, Complete, Failed, Running,
    Starting, Lost, Unknown}}, Children{Pending, Running, Dead}, CreateIndex, ModifyIndex}.

    Source: api-docs/jobs.mdx "Read Job Summary"; nomad/structs/structs.go JobSummary,
    TaskGroupSummary (Unknown since v1.5), JobChildrenSummary.
    """
    await register(http, job_spec("sum-shape", {"web": 2}))

    answer = await http.get("/v1/job/sum-shape/summary")

    assert answer.status == 200
    body = answer.json()
    assert body["JobID"] == "sum-shape"
    assert body["Namespace"] == "default"
    assert set(body["Summary"]) == {"web"}
    assert set(body["Summary"]["web"]) == {
        "Queued",
        "Complete",
        "Failed",
        "Running",
        "Starting",
        "Lost",
        "Unknown",
    }
    assert body["Children"] == {"Pending": 0, "Running": 0, "Dead": 0}
    assert body["CreateIndex"] > 0
    assert body["ModifyIndex"] >= body["CreateIndex"]


async def test_summary_of_a_service_job_converges_to_running(http: NomadHttp) -> None:
    """A service job's allocations go Starting → Running; the summary ends at Running = Count
    with nothing queued, starting, failed or lost.

    Source: nomad/state/state_store.go updateSummaryWithAlloc (pending → Starting,
    running → Running).
    """
    await register(http, job_spec("sum-run", {"web": 3}))

    counters = await wait_for_summary(http, "sum-run", "web", Running=3)

    assert counters["Starting"] == 0
    assert counters["Queued"] == 0
    assert counters["Failed"] == 0
    assert counters["Lost"] == 0


async def test_job_status_becomes_running(http: NomadHttp) -> None:
    """A placed service job's Status is `running` once it has non-terminal allocations.

    Source: api-docs/jobs.mdx Field Reference (Status); nomad/state/state_store.go
    getJobStatus.
    """
    await register(http, job_spec("status-run", {"web": 1}))

    async def running() -> bool:
        return (await read_job(http, "status-run"))["Status"] == "running"

    await wait_until(running, what="status running")


# --- list stubs -------------------------------------------------------------------------------


async def test_list_stub_carries_summary_and_indexes(http: NomadHttp) -> None:
    """A list stub has ID, Name, Namespace, Type, Priority, Status, Stop, ParentID,
    JobSummary, CreateIndex, ModifyIndex, JobModifyIndex, SubmitTime; no Meta unless asked.

    Source: api-docs/jobs.mdx "List Jobs"; nomad/structs/structs.go JobListStub.
    """
    await register(http, job_spec("stub", Meta={"autostart": "yes"}))

    stub = (await http.get("/v1/jobs")).json()[0]
    with_meta = (await http.get("/v1/jobs", params={"meta": "true"})).json()[0]

    for key in (
        "ID",
        "Name",
        "Namespace",
        "Type",
        "Priority",
        "Status",
        "Stop",
        "ParentID",
        "JobSummary",
        "CreateIndex",
        "ModifyIndex",
        "JobModifyIndex",
        "SubmitTime",
    ):
        assert key in stub, key
    assert stub["Namespace"] == "default"
    assert stub["Stop"] is False
    assert "Meta" not in stub
    assert with_meta["Meta"] == {"autostart": "yes"}


async def test_list_stub_summary_matches_the_summary_endpoint(http: NomadHttp) -> None:
    """The JobSummary embedded in a list stub is the job's summary.

    Source: nomad/job_endpoint.go Job.List (state.JobSummaryByID → job.Stub(summary, ...)).
    """
    await register(http, job_spec("stub-sum", {"web": 2}))
    await wait_for_summary(http, "stub-sum", "web", Running=2)

    stub = (await http.get("/v1/jobs")).json()[0]
    summary = (await http.get("/v1/job/stub-sum/summary")).json()

    assert stub["JobSummary"]["Summary"] == summary["Summary"]
    assert stub["JobSummary"]["ModifyIndex"] == summary["ModifyIndex"]


# --- allocations ------------------------------------------------------------------------------


async def test_allocations_of_unknown_job_is_an_empty_list(http: NomadHttp) -> None:
    """GET /v1/job/:id/allocations for an unknown job is 200 `[]`, not 404.

    Source: command/agent/job_endpoint.go jobAllocations (nil → empty slice; no not-found
    check); nomad/job_endpoint.go Job.Allocations.
    """
    answer = await http.get("/v1/job/ghost/allocations")

    assert answer.status == 200
    assert answer.json() == []
