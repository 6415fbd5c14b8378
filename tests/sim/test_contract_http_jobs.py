"""Contract: the simulator's job endpoints answer like Nomad v1.9.x over raw HTTP.

Register, read, stop, purge, summary, and the HTTP layer's own rules (methods, bodies, error
text, percent-encoded IDs), as a real client sees them on the wire. Each test pins one fact and
names its source: Nomad's docs (`website/content/api-docs/*.mdx`) or Go code at v1.9.x
(`command/agent/http.go`, `command/agent/job_endpoint.go`, `nomad/job_endpoint.go`,
`nomad/fsm.go`, `nomad/state/state_store.go`, `nomad/structs/structs.go`, `api/jobs.go`).
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.sim.test_contract_support import (
    ENFORCE_PREFIX,
    NomadHttp,
    nomad_http,
    read_job,
    register,
    wait_for,
    wait_for_summary,
)
from tests.sim.test_contract_support import job_spec as _job


@pytest.fixture
async def http(sim_server: Any) -> AsyncIterator[NomadHttp]:
    async with nomad_http(sim_server.url) as client:
        yield client


# --- register --------------------------------------------------------------------------------


async def test_register_answer_has_eval_and_index_fields(http: NomadHttp) -> None:
    """A register answers EvalID, EvalCreateIndex, JobModifyIndex, Warnings (a string), Index.

    X-Nomad-Index equals Index. Source: api-docs/jobs.mdx "Create Job" sample response;
    nomad/structs/structs.go JobRegisterResponse; command/agent/job_endpoint.go jobUpdate
    (setIndex(resp, out.Index)).
    """
    answer = await http.put("/v1/jobs", body={"Job": _job("reg-fields")})

    assert answer.status == 200, answer.text
    body = answer.json()
    assert isinstance(body["EvalID"], str)
    assert len(body["EvalID"]) == 36
    assert isinstance(body["Warnings"], str)
    for key in ("EvalCreateIndex", "JobModifyIndex", "Index"):
        assert isinstance(body[key], int)
        assert body[key] > 0
    assert answer.index == body["Index"]


async def test_new_or_changed_spec_writes_job_and_eval_at_one_index(http: NomadHttp) -> None:
    """A new or changed spec writes job and eval in one Raft entry: JobModifyIndex ==
    EvalCreateIndex == Index, and Version goes 0 then 1.

    Source: nomad/job_endpoint.go Job.Register (args.Eval set, one raftApply; reply indexes
    all = index); nomad/state/state_store.go upsertJobImpl (Version = previous + 1).
    """
    first = await register(http, _job("reg-changed", count=1))
    second = await register(http, _job("reg-changed", count=2))
    job = await read_job(http, "reg-changed")

    for answer in (first, second):
        assert answer["JobModifyIndex"] == answer["EvalCreateIndex"] == answer["Index"]
    assert second["JobModifyIndex"] > first["JobModifyIndex"]
    assert job["Version"] == 1
    assert job["JobModifyIndex"] == second["JobModifyIndex"]
    assert job["TaskGroups"][0]["Count"] == 2


async def test_identical_reregister_keeps_version_but_creates_a_new_eval(
    http: NomadHttp,
) -> None:
    """Registering an identical spec writes no job: Version and JobModifyIndex stay, but a new
    eval is created in its own entry, so EvalCreateIndex == Index > JobModifyIndex.

    Source: nomad/job_endpoint.go Job.Register (SpecChanged false → eval only);
    nomad/structs/structs.go Job.SpecChanged (ignores Status, Version, indexes, SubmitTime).
    """
    spec = _job("reg-same", count=2, meta={"k": "v"})
    first = await register(http, spec)
    second = await register(http, spec)
    job = await read_job(http, "reg-same")

    assert second["JobModifyIndex"] == first["JobModifyIndex"]
    assert second["EvalID"]
    assert second["EvalID"] != first["EvalID"]
    assert second["EvalCreateIndex"] == second["Index"]
    assert second["EvalCreateIndex"] > second["JobModifyIndex"]
    assert job["Version"] == 0
    assert job["JobModifyIndex"] == first["JobModifyIndex"]


async def test_write_routes_accept_put_and_post(http: NomadHttp) -> None:
    """Register works with PUT and POST, on /v1/jobs and on /v1/job/:id.

    Source: command/agent/job_endpoint.go JobsRequest and jobCRUD
    (case http.MethodPut, http.MethodPost → jobUpdate); api-docs/index.mdx.
    """
    answers = [
        await http.put("/v1/jobs", body={"Job": _job("m-put-jobs")}),
        await http.post("/v1/jobs", body={"Job": _job("m-post-jobs")}),
        await http.put("/v1/job/m-put-job", body={"Job": _job("m-put-job")}),
        await http.post("/v1/job/m-post-job", body={"Job": _job("m-post-job")}),
    ]

    assert [a.status for a in answers] == [200, 200, 200, 200]
    listed = (await http.get("/v1/jobs")).json()
    assert [s["ID"] for s in listed] == ["m-post-job", "m-post-jobs", "m-put-job", "m-put-jobs"]


async def test_register_job_id_mismatch_is_400(http: NomadHttp) -> None:
    """Registering on /v1/job/:id with a different Job.ID is 400 `Job ID does not match name`.

    Source: command/agent/job_endpoint.go jobUpdate (CodedError(400, ...)).
    """
    answer = await http.put("/v1/job/other", body={"Job": _job("mismatch")})

    assert answer.status == 400
    assert answer.text == "Job ID does not match name"
    assert (await http.get("/v1/job/mismatch")).status == 404


async def test_register_with_empty_body_is_400_request_body_is_empty(http: NomadHttp) -> None:
    """A register without a body is 400 `Request body is empty`.

    Source: command/agent/http.go decodeBody (req.Body == http.NoBody); job_endpoint.go
    jobUpdate (CodedError(400, err.Error())).
    """
    answer = await http.put("/v1/jobs", data=b"")

    assert answer.status == 400
    assert answer.text == "Request body is empty"


async def test_register_without_job_is_400_job_must_be_specified(http: NomadHttp) -> None:
    """A register body without `Job` is 400 `Job must be specified`.

    Source: command/agent/job_endpoint.go jobUpdate (args.Job == nil).
    """
    answer = await http.put("/v1/jobs", body={"EnforceIndex": False})

    assert answer.status == 400
    assert answer.text == "Job must be specified"


async def test_register_without_job_id_is_400(http: NomadHttp) -> None:
    """A register whose Job has no ID is 400 `Job ID hasn't been provided`.

    Source: command/agent/job_endpoint.go jobUpdate (args.Job.ID == nil).
    """
    job = _job("ignored")
    del job["ID"]

    answer = await http.put("/v1/jobs", body={"Job": job})

    assert answer.status == 400
    assert answer.text == "Job ID hasn't been provided"


async def test_defaults_are_applied_at_registration(http: NomadHttp) -> None:
    """A minimal job gets Name=ID, Type service, Priority 50, Namespace default, Region global,
    Datacenters ["*"], Stop false.

    Source: api/jobs.go Job.Canonicalize (Name, Type, Priority, Namespace, Region,
    Datacenters ["*"] since 1.5); command/agent/job_endpoint.go regionForJob ("global" → agent
    region) and namespaceForJob.
    """
    minimal = {
        "ID": "defaults",
        "TaskGroups": [{"Name": "g", "Tasks": [{"Name": "t", "Driver": "docker"}]}],
    }
    await register(http, minimal)

    job = await read_job(http, "defaults")

    assert job["Name"] == "defaults"
    assert job["Type"] == "service"
    assert job["Priority"] == 50
    assert job["Namespace"] == "default"
    assert job["Region"] == "global"
    assert job["Datacenters"] == ["*"]
    assert job["Stop"] is False
    assert job["ParentID"] == ""


async def test_group_count_defaults_to_one(http: NomadHttp) -> None:
    """A task group without Count gets Count 1.

    Source: api/tasks.go TaskGroup.Canonicalize (Count = Scaling.Min if set, else 1).
    """
    await register(http, _job("count-default", count=None))

    job = await read_job(http, "count-default")

    assert job["TaskGroups"][0]["Count"] == 1


# --- the HTTP layer --------------------------------------------------------------------------


async def test_wrong_method_is_405_invalid_method(http: NomadHttp) -> None:
    """An unsupported method on a job route is 405 `Invalid method`.

    Source: command/agent/job_endpoint.go JobsRequest and jobCRUD (CodedError(405,
    ErrInvalidMethod)); command/agent/http.go ErrInvalidMethod = "Invalid method".
    """
    for method, path in (("PATCH", "/v1/jobs"), ("DELETE", "/v1/jobs"), ("PATCH", "/v1/job/x")):
        answer = await http.call(method, path)

        assert answer.status == 405, (method, path)
        assert answer.text == "Invalid method", (method, path)


async def test_unknown_path_is_404_with_empty_body(http: NomadHttp) -> None:
    """A path no handler serves is 404 with an empty body.

    Source: command/agent/http.go handleRootFallthrough (w.WriteHeader(http.StatusNotFound)).
    """
    answer = await http.get("/v1/no-such-endpoint")

    assert answer.status == 404
    assert answer.body == b""


async def test_error_bodies_are_plain_text(http: NomadHttp) -> None:
    """Errors are `text/plain; charset=utf-8` bodies holding only the message.

    Source: command/agent/http.go wrap (resp.Header().Set(contentTypeHeader,
    plainContentType); resp.Write([]byte(errMsg))).
    """
    await register(http, _job("plain"))
    answers = [
        await http.get("/v1/job/absent"),
        await http.put("/v1/jobs", data=b""),
        await http.call("PATCH", "/v1/jobs"),
        await http.put(
            "/v1/jobs", body={"Job": _job("plain"), "EnforceIndex": True, "JobModifyIndex": 0}
        ),
    ]

    assert [a.status for a in answers] == [404, 400, 405, 500]
    for answer in answers:
        assert answer.headers["Content-Type"] == "text/plain; charset=utf-8"
        assert not answer.text.startswith("{")


async def test_job_id_with_encoded_slash_is_read_back(http: NomadHttp) -> None:
    """A job ID holding `/` is reachable percent-encoded: /v1/job/a%2Fb reads job "a/b".

    Source: command/agent/job_endpoint.go JobSpecificRequest (trims "/v1/job/" from the
    decoded req.URL.Path; no suffix matches, so jobCRUD gets "a/b").
    """
    await register(http, _job("a/b"))

    job = await read_job(http, "a%2Fb")
    summary = await http.get("/v1/job/a%2Fb/summary")

    assert job["ID"] == "a/b"
    assert summary.status == 200
    assert summary.json()["JobID"] == "a/b"


async def test_job_id_with_utf8_is_read_back(http: NomadHttp) -> None:
    """A non-ASCII job ID is reachable percent-encoded as UTF-8: /v1/job/caf%C3%A9.

    Source: command/agent/job_endpoint.go JobSpecificRequest (decoded req.URL.Path);
    nomad/structs/structs.go Job.Validate (only spaces and NUL are refused in an ID).
    """
    await register(http, _job("café"))

    job = await read_job(http, "caf%C3%A9")

    assert job["ID"] == "café"


async def test_encoded_slash_before_a_sub_resource_name_routes_to_that_sub_resource(
    http: NomadHttp,
) -> None:
    """Nomad routes on the decoded path by suffix: /v1/job/web%2Fsummary is web's summary.

    A client must therefore never let a job name decide the endpoint. Source:
    command/agent/job_endpoint.go JobSpecificRequest (strings.HasSuffix(path, "/summary")
    on req.URL.Path, which is already decoded).
    """
    await register(http, _job("web"))

    answer = await http.get("/v1/job/web%2Fsummary")

    assert answer.status == 200
    body = answer.json()
    assert body["JobID"] == "web"
    assert "Summary" in body


# --- EnforceIndex ----------------------------------------------------------------------------


async def test_enforce_index_zero_registers_a_new_job(http: NomadHttp) -> None:
    """EnforceIndex with JobModifyIndex 0 registers a job that does not exist yet.

    Source: api-docs/jobs.mdx "Create Job" (EnforceIndex: "If the index is zero, the
    register only occurs if the job is new"); nomad/job_endpoint.go Job.Register.
    """
    answer = await http.put(
        "/v1/jobs", body={"Job": _job("cas-new"), "EnforceIndex": True, "JobModifyIndex": 0}
    )

    assert answer.status == 200, answer.text
    assert (await read_job(http, "cas-new"))["Version"] == 0


async def test_enforce_index_zero_on_existing_job_is_500_already_exists(
    http: NomadHttp,
) -> None:
    """EnforceIndex with index 0 on an existing job is 500
    `Enforcing job modify index 0: job already exists`.

    Source: nomad/job_endpoint.go Job.Register (fmt.Errorf("%s 0: job already exists"));
    command/agent/http.go wrap (uncoded error → 500).
    """
    await register(http, _job("cas-exists"))

    answer = await http.put(
        "/v1/jobs",
        body={"Job": _job("cas-exists", count=4), "EnforceIndex": True, "JobModifyIndex": 0},
    )

    assert answer.status == 500
    assert answer.text == "Enforcing job modify index 0: job already exists"
    assert (await read_job(http, "cas-exists"))["Version"] == 0


async def test_enforce_index_mismatch_is_500_conflicting_index(http: NomadHttp) -> None:
    """EnforceIndex with a stale index is 500 `Enforcing job modify index <given>: job exists
    with conflicting job modify index: <current>`, and nothing is written.

    Source: nomad/job_endpoint.go Job.Register (RegisterEnforceIndexErrPrefix).
    """
    current = (await register(http, _job("cas-stale")))["JobModifyIndex"]
    stale = current + 1000

    answer = await http.put(
        "/v1/jobs",
        body={"Job": _job("cas-stale", count=4), "EnforceIndex": True, "JobModifyIndex": stale},
    )

    assert answer.status == 500
    assert answer.text == (
        f"{ENFORCE_PREFIX} {stale}: job exists with conflicting job modify index: {current}"
    )
    job = await read_job(http, "cas-stale")
    assert job["Version"] == 0
    assert job["TaskGroups"][0]["Count"] == 1


async def test_enforce_index_on_absent_job_is_500_does_not_exist(http: NomadHttp) -> None:
    """EnforceIndex with a non-zero index on an absent job is 500
    `Enforcing job modify index <given>: job does not exist`.

    Source: nomad/job_endpoint.go Job.Register.
    """
    answer = await http.put(
        "/v1/jobs", body={"Job": _job("cas-absent"), "EnforceIndex": True, "JobModifyIndex": 5}
    )

    assert answer.status == 500
    assert answer.text == f"{ENFORCE_PREFIX} 5: job does not exist"
    assert (await http.get("/v1/job/cas-absent")).status == 404


async def test_enforce_index_matching_registers_a_new_version(http: NomadHttp) -> None:
    """EnforceIndex with the current JobModifyIndex registers the change.

    Source: api-docs/jobs.mdx "Create Job" (check-and-set); nomad/job_endpoint.go.
    """
    current = (await register(http, _job("cas-ok")))["JobModifyIndex"]

    answer = await http.put(
        "/v1/jobs",
        body={"Job": _job("cas-ok", count=3), "EnforceIndex": True, "JobModifyIndex": current},
    )

    assert answer.status == 200, answer.text
    job = await read_job(http, "cas-ok")
    assert job["Version"] == 1
    assert job["TaskGroups"][0]["Count"] == 3
    assert job["JobModifyIndex"] == answer.json()["JobModifyIndex"] > current


# --- stop and purge --------------------------------------------------------------------------


async def test_stop_sets_stop_bumps_version_and_answers_equal_indexes(http: NomadHttp) -> None:
    """DELETE without purge upserts the job with Stop=true as a new Version; the answer's
    JobModifyIndex == EvalCreateIndex == Index (one Raft entry), and a new eval is made.

    Source: api-docs/jobs.mdx "Stop a Job"; nomad/job_endpoint.go Job.Deregister (reply
    indexes = index); nomad/fsm.go handleJobDeregister.
    """
    await register(http, _job("stop-me"))

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
    await register(http, _job("stop-twice"))

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
    await register(http, _job("stop-drain", count=2))
    await wait_for_summary(http, "stop-drain", "web", Running=2)

    await http.delete("/v1/job/stop-drain")

    await wait_for_summary(http, "stop-drain", "web", Running=0, Starting=0, Complete=2)

    async def dead() -> bool:
        return (await read_job(http, "stop-drain"))["Status"] == "dead"

    await wait_for("status dead", dead)


async def test_reregistering_a_stopped_job_starts_it_as_a_new_version(http: NomadHttp) -> None:
    """Registering the spec of a stopped job again (Stop absent → false) is a spec change: a
    new Version with Stop false, and the job runs again.

    Source: command/job_run.go behaviour described in api-docs and nomad/structs/structs.go
    Job.SpecChanged (Stop is part of the spec); nomad/state/state_store.go upsertJobImpl.
    """
    await register(http, _job("restart"))
    await http.delete("/v1/job/restart")

    answer = await register(http, _job("restart"))

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
    await register(http, _job("purge-me"))

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
    await register(http, _job("purge-again"))
    await register(http, _job("purge-again", count=2))
    old = await read_job(http, "purge-again")
    await http.delete("/v1/job/purge-again", params={"purge": "true"})

    await register(http, _job("purge-again"))
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


# --- summary and status ----------------------------------------------------------------------


async def test_summary_has_every_counter_and_children(http: NomadHttp) -> None:
    """The summary is {JobID, Namespace, Summary{group:{Queued, Complete, Failed, Running,
    Starting, Lost, Unknown}}, Children{Pending, Running, Dead}, CreateIndex, ModifyIndex}.

    Source: api-docs/jobs.mdx "Read Job Summary"; nomad/structs/structs.go JobSummary,
    TaskGroupSummary (Unknown since v1.5), JobChildrenSummary.
    """
    await register(http, _job("sum-shape", count=2))

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
    await register(http, _job("sum-run", count=3))

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
    await register(http, _job("status-run", count=1))

    async def running() -> bool:
        return (await read_job(http, "status-run"))["Status"] == "running"

    await wait_for("status running", running)


async def test_list_stub_carries_summary_and_indexes(http: NomadHttp) -> None:
    """A list stub has ID, Name, Namespace, Type, Priority, Status, Stop, ParentID,
    JobSummary, CreateIndex, ModifyIndex, JobModifyIndex, SubmitTime; no Meta unless asked.

    Source: api-docs/jobs.mdx "List Jobs"; nomad/structs/structs.go JobListStub.
    """
    await register(http, _job("stub", meta={"autostart": "yes"}))

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


# --- sub-resources and decoding errors -------------------------------------------------------


async def test_versions_of_unknown_job_is_404_job_versions_not_found(http: NomadHttp) -> None:
    """GET /v1/job/:id/versions for an unknown job is 404 `job versions not found`.

    Source: command/agent/job_endpoint.go jobVersions (len(out.Versions) == 0 →
    CodedError(404, "job versions not found")).
    """
    answer = await http.get("/v1/job/ghost/versions")

    assert answer.status == 404
    assert answer.text == "job versions not found"


async def test_versions_answer_wraps_the_list_with_query_fields(http: NomadHttp) -> None:
    """GET /v1/job/:id/versions answers an object {"Versions": [...newest first], "Diffs",
    "Index", ...}, not a bare list.

    Source: command/agent/job_endpoint.go jobVersions (returns JobVersionsResponse);
    nomad/structs/structs.go JobVersionsResponse; state_store.go JobVersionsByID (descending).
    """
    await register(http, _job("versions", count=1))
    await register(http, _job("versions", count=2))

    body = (await http.get("/v1/job/versions/versions")).json()

    assert isinstance(body, dict)
    assert [v["Version"] for v in body["Versions"]] == [1, 0]
    assert "Diffs" in body
    assert body["Index"] > 0


async def test_allocations_of_unknown_job_is_an_empty_list(http: NomadHttp) -> None:
    """GET /v1/job/:id/allocations for an unknown job is 200 `[]`, not 404.

    Source: command/agent/job_endpoint.go jobAllocations (nil → empty slice; no not-found
    check); nomad/job_endpoint.go Job.Allocations.
    """
    answer = await http.get("/v1/job/ghost/allocations")

    assert answer.status == 200
    assert answer.json() == []


async def test_malformed_json_body_is_400_with_the_decoder_message(http: NomadHttp) -> None:
    """A body that is not JSON is 400 with Go's decoder message (`invalid character ...`).

    Source: command/agent/http.go decodeBody (json.Decoder); job_endpoint.go jobUpdate
    (CodedError(400, err.Error())).
    """
    answer = await http.put("/v1/jobs", data=b"{not json")

    assert answer.status == 400
    assert answer.text.startswith("invalid character")


async def test_wrongly_typed_field_is_400_cannot_unmarshal(http: NomadHttp) -> None:
    """A field of the wrong JSON type is 400 with Go's `json: cannot unmarshal ...` message.

    Source: command/agent/http.go decodeBody; encoding/json UnmarshalTypeError.
    """
    answer = await http.put("/v1/jobs", body={"Job": {"ID": 5}})

    assert answer.status == 400
    assert answer.text.startswith("json: cannot unmarshal number")


async def test_job_without_task_groups_fails_validation_with_500(http: NomadHttp) -> None:
    """A job with no task groups fails validation: 500 (an uncoded error) whose text says
    `Missing job task groups`.

    Source: nomad/structs/structs.go Job.Validate ("Missing job task groups");
    nomad/job_endpoint.go Job.Register (validateJob); command/agent/http.go wrap.
    """
    answer = await http.put("/v1/jobs", body={"Job": {"ID": "empty", "TaskGroups": []}})

    assert answer.status == 500
    assert "Missing job task groups" in answer.text
    assert (await http.get("/v1/job/empty")).status == 404


# --- round trips the bridge relies on --------------------------------------------------------


async def test_reregistering_a_read_back_job_unchanged_is_no_spec_change(
    http: NomadHttp,
) -> None:
    """A job read back with GET and registered again as is (server fields included) is not a
    spec change: same Version and JobModifyIndex.

    Source: command/agent/job_endpoint.go jobUpdate (decodes api.Job, unknown and server
    fields are ignored or normalised); nomad/structs/structs.go Job.SpecChanged (ignores
    Status, Stable, Version, indexes, SubmitTime).
    """
    await register(http, _job("roundtrip", count=2, meta={"k": "v"}))
    before = await read_job(http, "roundtrip")

    await register(http, before)
    after = await read_job(http, "roundtrip")

    assert after["Version"] == before["Version"] == 0
    assert after["JobModifyIndex"] == before["JobModifyIndex"]


async def test_read_back_stopped_job_with_stop_false_and_enforce_index_restarts_it(
    http: NomadHttp,
) -> None:
    """Starting a stopped job the way `nomad job start` does: read it, set Stop=false,
    register it with EnforceIndex at its JobModifyIndex: a new Version, running again.

    Source: command/job_start.go (v1.10.2+; reads the job, Stop=false, registers it);
    nomad/job_endpoint.go Job.Register (EnforceIndex); api-docs/jobs.mdx "Create Job".
    """
    await register(http, _job("restart-cas"))
    await http.delete("/v1/job/restart-cas")
    stopped = await read_job(http, "restart-cas")

    answer = await register(
        http,
        {**stopped, "Stop": False},
        EnforceIndex=True,
        JobModifyIndex=stopped["JobModifyIndex"],
    )

    job = await read_job(http, "restart-cas")
    assert job["Stop"] is False
    assert job["Version"] == stopped["Version"] + 1
    assert job["JobModifyIndex"] == answer["JobModifyIndex"]
    await wait_for_summary(http, "restart-cas", "web", Running=1)


async def test_preserve_counts_keeps_existing_group_counts(http: NomadHttp) -> None:
    """With PreserveCounts, groups that already exist keep their stored Count.

    Source: api-docs/jobs.mdx "Create Job" (`PreserveCounts`); nomad/job_endpoint.go
    Job.Register (PreserveCounts copies existing counts).
    """
    await register(http, _job("preserve", count=2))

    await register(http, _job("preserve", count=5), PreserveCounts=True)

    assert (await read_job(http, "preserve"))["TaskGroups"][0]["Count"] == 2


async def test_only_the_last_six_versions_are_kept(http: NomadHttp) -> None:
    """Nomad tracks 6 versions per job by default: after 8 spec changes the versions list
    holds versions 7..2, newest first.

    Source: nomad/state/state_store.go upsertJobVersion (trims to JobTrackedVersions);
    command/agent/config.go job_tracked_versions default 6.
    """
    for count in range(1, 9):
        await register(http, _job("many-versions", count=count))

    body = (await http.get("/v1/job/many-versions/versions")).json()

    assert [v["Version"] for v in body["Versions"]] == [7, 6, 5, 4, 3, 2]


async def test_submit_time_is_unix_nanoseconds(http: NomadHttp) -> None:
    """SubmitTime is Unix time in nanoseconds, on the job and on its list stub.

    Source: api-docs/jobs.mdx (SubmitTime); nomad/structs/structs.go Job.SetSubmitTime
    (time.Now().UTC().UnixNano()).
    """
    before_ns = time.time_ns()
    await register(http, _job("submit-time"))
    after_ns = time.time_ns()

    job = await read_job(http, "submit-time")
    stub = (await http.get("/v1/jobs")).json()[0]

    assert before_ns - 5 * 10**9 <= job["SubmitTime"] <= after_ns + 5 * 10**9
    assert stub["SubmitTime"] == job["SubmitTime"]


# --- list query parameters -------------------------------------------------------------------


async def test_list_pagination_uses_next_token_of_namespace_dot_id(http: NomadHttp) -> None:
    """`per_page` pages the list; X-Nomad-NextToken is `<namespace>.<id>` of the first job of
    the next page, which that page includes; the last page has no token.

    Source: api-docs/jobs.mdx "List Jobs" (`per_page`, `next_token`); command/agent/http.go
    setNextToken; nomad/state/paginator/tokenizer.go (WithNamespace, WithID).
    """
    for job_id in ("page-a", "page-b", "page-c"):
        await register(http, _job(job_id))

    first = await http.get("/v1/jobs", params={"per_page": "2"})
    token = first.headers["X-Nomad-NextToken"]
    second = await http.get("/v1/jobs", params={"per_page": "2", "next_token": token})

    assert [s["ID"] for s in first.json()] == ["page-a", "page-b"]
    assert token == "default.page-c"
    assert [s["ID"] for s in second.json()] == ["page-c"]
    assert "X-Nomad-NextToken" not in second.headers


async def test_bad_stale_value_is_400(http: NomadHttp) -> None:
    """A `stale` value that is not a bool is 400
    "Expect `true` or `false` for `stale` query string parameter" (some versions append
    ", got <value>").

    Source: command/agent/http.go parseConsistency (strconv.ParseBool; since PR #15605).
    """
    answer = await http.get("/v1/jobs", params={"stale": "maybe"})

    assert answer.status == 400
    assert answer.text.startswith("Expect `true` or `false` for `stale` query string parameter")


async def test_bad_meta_bool_is_500(http: NomadHttp) -> None:
    """A `meta` value that is not a bool is 500 (an uncoded error)
    `Failed to parse value of "meta" (...) as a bool: ...`.

    Source: command/agent/http.go parseBool (fmt.Errorf); job_endpoint.go jobListRequest.
    """
    answer = await http.get("/v1/jobs", params={"meta": "maybe"})

    assert answer.status == 500
    assert answer.text.startswith('Failed to parse value of "meta" (maybe) as a bool')


async def test_bad_purge_bool_is_500(http: NomadHttp) -> None:
    """A `purge` value that is not a bool is 500
    `Failed to parse value of "purge" (...) as a bool: ...`, and nothing is stopped.

    Source: command/agent/job_endpoint.go jobDelete (fmt.Errorf → 500).
    """
    await register(http, _job("purge-bad"))

    answer = await http.delete("/v1/job/purge-bad", params={"purge": "maybe"})

    assert answer.status == 500
    assert answer.text.startswith('Failed to parse value of "purge" (maybe) as a bool')
    assert (await read_job(http, "purge-bad"))["Stop"] is False


# --- indexes and counters over a job's life --------------------------------------------------


async def test_status_changes_move_modify_index_but_not_job_modify_index(
    http: NomadHttp,
) -> None:
    """A status-only change (pending → running) rewrites the job row: ModifyIndex grows while
    JobModifyIndex and Version stay.

    Source: nomad/state/state_store.go setJobStatus (copies the job, sets ModifyIndex only);
    api-docs/jobs.mdx (JobModifyIndex is the spec's index).
    """
    written = await register(http, _job("status-index"))

    async def running() -> dict[str, Any] | None:
        job = await read_job(http, "status-index")
        return job if job["Status"] == "running" else None

    job = await wait_for("status running", running)

    assert job["ModifyIndex"] > written["JobModifyIndex"]
    assert job["JobModifyIndex"] == written["JobModifyIndex"]
    assert job["Version"] == 0


async def test_list_stub_summary_matches_the_summary_endpoint(http: NomadHttp) -> None:
    """The JobSummary embedded in a list stub is the job's summary.

    Source: nomad/job_endpoint.go Job.List (state.JobSummaryByID → job.Stub(summary, ...)).
    """
    await register(http, _job("stub-sum", count=2))
    await wait_for_summary(http, "stub-sum", "web", Running=2)

    stub = (await http.get("/v1/jobs")).json()[0]
    summary = (await http.get("/v1/job/stub-sum/summary")).json()

    assert stub["JobSummary"]["Summary"] == summary["Summary"]
    assert stub["JobSummary"]["ModifyIndex"] == summary["ModifyIndex"]


async def test_stopped_allocations_are_desired_stop_and_client_complete(
    http: NomadHttp,
) -> None:
    """After a stop, the job's allocations end DesiredStatus `stop` and ClientStatus
    `complete`.

    Source: scheduler (stopped job → every allocation DesiredStatus=stop); client
    allocrunner getClientStatus (killed tasks are dead, not failed → complete).
    """
    await register(http, _job("alloc-stop", count=2))
    await wait_for_summary(http, "alloc-stop", "web", Running=2)
    await http.delete("/v1/job/alloc-stop")

    async def all_complete() -> list[dict[str, Any]] | None:
        allocs: list[dict[str, Any]] = (await http.get("/v1/job/alloc-stop/allocations")).json()
        done = all(a["ClientStatus"] == "complete" for a in allocs)
        return allocs if allocs and done else None

    allocs = await wait_for("allocations complete", all_complete)

    assert len(allocs) == 2
    assert {a["DesiredStatus"] for a in allocs} == {"stop"}


async def test_counters_survive_stop_and_restart(http: NomadHttp) -> None:
    """Summary counters belong to the job's incarnation: after stop and restart, Complete keeps
    the stopped allocations and Running counts the new ones.

    Source: nomad/state/state_store.go updateSummaryWithAlloc (Complete is never decremented;
    counters reset only for a new CreateIndex).
    """
    await register(http, _job("survive", count=1))
    await wait_for_summary(http, "survive", "web", Running=1)
    await http.delete("/v1/job/survive")
    await wait_for_summary(http, "survive", "web", Running=0, Complete=1)

    await register(http, _job("survive", count=1))

    await wait_for_summary(http, "survive", "web", Running=1, Complete=1)


async def test_counters_reset_after_purge_and_reregister(http: NomadHttp) -> None:
    """A purge ends the incarnation: registered again, the job's summary starts from zero.

    Source: nomad/state/state_store.go (summary deleted with the job; new summary at the new
    CreateIndex; only allocations of that incarnation count).
    """
    await register(http, _job("reset", count=1))
    await wait_for_summary(http, "reset", "web", Running=1)
    await http.delete("/v1/job/reset", params={"purge": "true"})

    await register(http, _job("reset", count=1))

    counters = await wait_for_summary(http, "reset", "web", Running=1)
    assert counters["Complete"] == 0


async def test_lowering_the_count_completes_the_surplus_allocations(http: NomadHttp) -> None:
    """Registering a lower count stops the surplus allocations: Running falls to the new
    count and each stopped allocation adds to Complete.

    Source: scheduler reconciler (surplus allocations DesiredStatus=stop);
    nomad/state/state_store.go updateSummaryWithAlloc (running → complete).
    """
    await register(http, _job("shrink", count=3))
    await wait_for_summary(http, "shrink", "web", Running=3)

    await register(http, _job("shrink", count=1))

    await wait_for_summary(http, "shrink", "web", Running=1, Complete=2, Starting=0)


async def test_batch_job_completes_and_turns_dead(http: NomadHttp) -> None:
    """A successful batch job's allocations end Complete and the job turns `dead` without a
    stop.

    Source: api-docs/jobs.mdx Field Reference (`batch`, `dead`); nomad/state/state_store.go
    getJobStatus (all allocations and evals terminal → dead).
    """
    await register(http, _job("batch-done", count=2, job_type="batch"))

    await wait_for_summary(http, "batch-done", "web", Complete=2, Running=0, Starting=0)

    async def dead() -> bool:
        job = await read_job(http, "batch-done")
        return bool(job["Status"] == "dead" and job["Stop"] is False)

    await wait_for("batch job dead", dead)
