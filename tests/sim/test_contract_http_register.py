"""Contract: registering a job (`PUT`/`POST /v1/jobs`) answers like Nomad v1.9.x over raw HTTP.

What a register writes and answers, the defaults Nomad fills in, the errors of a bad request,
check-and-set (`EnforceIndex`), and the round trips the bridge relies on (a job read back and
registered again; `PreserveCounts`). Each test pins one fact and names its source: Nomad's docs
(`website/content/api-docs/jobs.mdx`) or Go code at v1.9.x (`command/agent/job_endpoint.go`,
`nomad/job_endpoint.go`, `nomad/state/state_store.go`, `nomad/structs/structs.go`,
`api/jobs.go`).
"""

from __future__ import annotations

from tests.sim.harness import ENFORCE_PREFIX, NomadHttp, read_job, register, wait_for_summary
from tests.support import job_spec

# --- register ---------------------------------------------------------------------------------


async def test_register_answer_has_eval_and_index_fields(http: NomadHttp) -> None:
    """A register answers EvalID, EvalCreateIndex, JobModifyIndex, Warnings (a string), Index.

    X-Nomad-Index equals Index. Source: api-docs/jobs.mdx "Create Job" sample response;
    nomad/structs/structs.go JobRegisterResponse; command/agent/job_endpoint.go jobUpdate
    (setIndex(resp, out.Index)).
    """
    answer = await http.put("/v1/jobs", body={"Job": job_spec("reg-fields")})

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
    first = await register(http, job_spec("reg-changed", {"web": 1}))
    second = await register(http, job_spec("reg-changed", {"web": 2}))
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
    spec = job_spec("reg-same", {"web": 2}, Meta={"k": "v"})
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
        await http.put("/v1/jobs", body={"Job": job_spec("m-put-jobs")}),
        await http.post("/v1/jobs", body={"Job": job_spec("m-post-jobs")}),
        await http.put("/v1/job/m-put-job", body={"Job": job_spec("m-put-job")}),
        await http.post("/v1/job/m-post-job", body={"Job": job_spec("m-post-job")}),
    ]

    assert [a.status for a in answers] == [200, 200, 200, 200]
    listed = (await http.get("/v1/jobs")).json()
    assert [s["ID"] for s in listed] == ["m-post-job", "m-post-jobs", "m-put-job", "m-put-jobs"]


async def test_register_job_id_mismatch_is_400(http: NomadHttp) -> None:
    """Registering on /v1/job/:id with a different Job.ID is 400 `Job ID does not match name`.

    Source: command/agent/job_endpoint.go jobUpdate (CodedError(400, ...)).
    """
    answer = await http.put("/v1/job/other", body={"Job": job_spec("mismatch")})

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
    job = job_spec("ignored")
    del job["ID"]

    answer = await http.put("/v1/jobs", body={"Job": job})

    assert answer.status == 400
    assert answer.text == "Job ID hasn't been provided"


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
    await register(http, job_spec("count-default", {"web": None}))

    job = await read_job(http, "count-default")

    assert job["TaskGroups"][0]["Count"] == 1


# --- EnforceIndex -----------------------------------------------------------------------------


async def test_enforce_index_zero_registers_a_new_job(http: NomadHttp) -> None:
    """EnforceIndex with JobModifyIndex 0 registers a job that does not exist yet.

    Source: api-docs/jobs.mdx "Create Job" (EnforceIndex: "If the index is zero, the
    register only occurs if the job is new"); nomad/job_endpoint.go Job.Register.
    """
    answer = await http.put(
        "/v1/jobs", body={"Job": job_spec("cas-new"), "EnforceIndex": True, "JobModifyIndex": 0}
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
    await register(http, job_spec("cas-exists"))

    answer = await http.put(
        "/v1/jobs",
        body={"Job": job_spec("cas-exists", {"web": 4}), "EnforceIndex": True, "JobModifyIndex": 0},
    )

    assert answer.status == 500
    assert answer.text == "Enforcing job modify index 0: job already exists"
    assert (await read_job(http, "cas-exists"))["Version"] == 0


async def test_enforce_index_mismatch_is_500_conflicting_index(http: NomadHttp) -> None:
    """EnforceIndex with a stale index is 500 `Enforcing job modify index <given>: job exists
    with conflicting job modify index: <current>`, and nothing is written.

    Source: nomad/job_endpoint.go Job.Register (RegisterEnforceIndexErrPrefix).
    """
    current = (await register(http, job_spec("cas-stale")))["JobModifyIndex"]
    stale = current + 1000

    answer = await http.put(
        "/v1/jobs",
        body={
            "Job": job_spec("cas-stale", {"web": 4}),
            "EnforceIndex": True,
            "JobModifyIndex": stale,
        },
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
        "/v1/jobs", body={"Job": job_spec("cas-absent"), "EnforceIndex": True, "JobModifyIndex": 5}
    )

    assert answer.status == 500
    assert answer.text == f"{ENFORCE_PREFIX} 5: job does not exist"
    assert (await http.get("/v1/job/cas-absent")).status == 404


async def test_enforce_index_matching_registers_a_new_version(http: NomadHttp) -> None:
    """EnforceIndex with the current JobModifyIndex registers the change.

    Source: api-docs/jobs.mdx "Create Job" (check-and-set); nomad/job_endpoint.go.
    """
    current = (await register(http, job_spec("cas-ok")))["JobModifyIndex"]

    answer = await http.put(
        "/v1/jobs",
        body={
            "Job": job_spec("cas-ok", {"web": 3}),
            "EnforceIndex": True,
            "JobModifyIndex": current,
        },
    )

    assert answer.status == 200, answer.text
    job = await read_job(http, "cas-ok")
    assert job["Version"] == 1
    assert job["TaskGroups"][0]["Count"] == 3
    assert job["JobModifyIndex"] == answer.json()["JobModifyIndex"] > current


# --- round trips the bridge relies on ---------------------------------------------------------


async def test_reregistering_a_read_back_job_unchanged_is_no_spec_change(
    http: NomadHttp,
) -> None:
    """A job read back with GET and registered again as is (server fields included) is not a
    spec change: same Version and JobModifyIndex.

    Source: command/agent/job_endpoint.go jobUpdate (decodes api.Job, unknown and server
    fields are ignored or normalised); nomad/structs/structs.go Job.SpecChanged (ignores
    Status, Stable, Version, indexes, SubmitTime).
    """
    await register(http, job_spec("roundtrip", {"web": 2}, Meta={"k": "v"}))
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
    await register(http, job_spec("restart-cas"))
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
    await register(http, job_spec("preserve", {"web": 2}))

    await register(http, job_spec("preserve", {"web": 5}), PreserveCounts=True)

    assert (await read_job(http, "preserve"))["TaskGroups"][0]["Count"] == 2
