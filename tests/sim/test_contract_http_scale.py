"""Contract: the simulator's scale endpoints answer like Nomad v1.9.x.

`POST /v1/job/:id/scale` and `GET /v1/job/:id/scale`. The jobs here are batch jobs: real Nomad
refuses a count change while a deployment is active, and a fresh service job has one until its
allocations are healthy; batch jobs never have deployments, so these facts hold on a real
cluster at any moment. Sources: api-docs/jobs.mdx ("Scale Task Group", "Read Job Scale
Status"); command/agent/job_endpoint.go (jobScaleAction, jobScaleStatus); nomad/job_endpoint.go
(Job.Scale, Job.ScaleStatus); nomad/structs/structs.go (JobScaleRequest.Validate).
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.sim.harness import (
    ENFORCE_PREFIX,
    NomadHttp,
    config_with,
    read_job,
    register,
    wait_for_summary,
)
from tests.support import job_spec

GROUP = "work"


def _batch(job_id: str, count: int = 1) -> dict[str, Any]:
    return job_spec(job_id, {GROUP: count}, Type="batch")


def _scale_body(count: int | None, group: str | None = GROUP, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"Message": "contract test", **extra}
    if count is not None:
        body["Count"] = count
    if group is not None:
        body["Target"] = {"Group": group}
    return body


async def test_scale_sets_the_group_count_as_a_new_version(http: NomadHttp) -> None:
    """POST scale with Count and Target.Group re-registers the job with that count: a new
    Version whose JobModifyIndex is the answer's, plus an eval.

    Source: api-docs/jobs.mdx "Scale Task Group"; nomad/job_endpoint.go Job.Scale (group.Count
    = Count; raftApply JobRegisterRequestType; eval with TriggeredBy "scaling").
    """
    await register(http, _batch("scale-up", count=1))

    answer = await http.post("/v1/job/scale-up/scale", body=_scale_body(4))

    assert answer.status == 200, answer.text
    body = answer.json()
    assert body["EvalID"]
    job = await read_job(http, "scale-up")
    assert job["TaskGroups"][0]["Count"] == 4
    assert job["Version"] == 1
    assert job["JobModifyIndex"] == body["JobModifyIndex"]


async def test_scale_answer_indexes_follow_job_then_eval_then_scaling_event(
    http: NomadHttp,
) -> None:
    """A count change is three Raft writes (job, eval, scaling event): JobModifyIndex <
    EvalCreateIndex < Index, and X-Nomad-Index is Index.

    Source: nomad/job_endpoint.go Job.Scale (reply.JobModifyIndex, reply.EvalCreateIndex,
    reply.Index = eventIndex); command/agent/job_endpoint.go jobScaleAction (setIndex).
    """
    await register(http, _batch("scale-idx"))

    answer = await http.post("/v1/job/scale-idx/scale", body=_scale_body(2))

    body = answer.json()
    assert body["JobModifyIndex"] < body["EvalCreateIndex"] < body["Index"]
    assert answer.index == body["Index"]


async def test_scale_to_the_same_count_still_writes_a_new_version(http: NomadHttp) -> None:
    """Scaling to the current count is not a no-op: Version + 1 and a new JobModifyIndex.

    Source: nomad/job_endpoint.go Job.Scale (no unchanged-count shortcut; always
    raftApply JobRegisterRequestType); nomad/state/state_store.go upsertJobImpl.
    """
    first = await register(http, _batch("scale-same", count=2))

    answer = await http.post("/v1/job/scale-same/scale", body=_scale_body(2))

    assert answer.status == 200, answer.text
    job = await read_job(http, "scale-same")
    assert job["Version"] == 1
    assert job["JobModifyIndex"] > first["JobModifyIndex"]


async def test_scale_accepts_put_as_well_as_post(http: NomadHttp) -> None:
    """The scale action takes PUT as well as POST.

    Source: command/agent/job_endpoint.go jobScale (case http.MethodPut, http.MethodPost).
    """
    await register(http, _batch("scale-put"))

    answer = await http.put("/v1/job/scale-put/scale", body=_scale_body(3))

    assert answer.status == 200, answer.text
    assert (await read_job(http, "scale-put"))["TaskGroups"][0]["Count"] == 3


async def test_scale_unknown_group_is_400(http: NomadHttp) -> None:
    """A Target.Group the job lacks is 400
    `task group "<g>" specified for scaling does not exist in job`.

    Source: nomad/job_endpoint.go Job.Scale (NewErrRPCCoded(400, ...)).
    """
    await register(http, _batch("scale-nogroup"))

    answer = await http.post("/v1/job/scale-nogroup/scale", body=_scale_body(2, group="nope"))

    assert answer.status == 400
    assert answer.text == 'task group "nope" specified for scaling does not exist in job'
    assert (await read_job(http, "scale-nogroup"))["Version"] == 0


async def test_scale_negative_count_is_400(http: NomadHttp) -> None:
    """A negative Count is 400 `scaling action count can't be negative`.

    Source: nomad/structs/structs.go JobScaleRequest.Validate.
    """
    await register(http, _batch("scale-neg"))

    answer = await http.post("/v1/job/scale-neg/scale", body=_scale_body(-1))

    assert answer.status == 400
    assert answer.text == "scaling action count can't be negative"
    assert (await read_job(http, "scale-neg"))["TaskGroups"][0]["Count"] == 1


async def test_scale_without_target_group_is_400(http: NomadHttp) -> None:
    """A scale request without Target.Group is 400
    `missing task group name for scaling action`.

    Source: nomad/structs/structs.go JobScaleRequest.Validate.
    """
    await register(http, _batch("scale-missing"))

    answer = await http.post("/v1/job/scale-missing/scale", body=_scale_body(2, group=None))

    assert answer.status == 400
    assert answer.text == "missing task group name for scaling action"


async def test_scale_unknown_job_is_404(http: NomadHttp) -> None:
    """Scaling a job that does not exist is 404 `job "<id>" not found`.

    Source: nomad/job_endpoint.go Job.Scale (NewErrRPCCoded(404, fmt.Sprintf("job %q not
    found", ...))).
    """
    answer = await http.post("/v1/job/scale-ghost/scale", body=_scale_body(2))

    assert answer.status == 404
    assert answer.text == 'job "scale-ghost" not found'


async def test_scale_with_stale_job_modify_index_is_500_enforcing(http: NomadHttp) -> None:
    """A scale whose JobModifyIndex is not the job's is 500 `Enforcing job modify index <n>:
    job exists with conflicting job modify index: <m>`, and the count stays.

    Source: nomad/job_endpoint.go Job.Scale ("If JobModifyIndex set, check it before trying
    to apply"; fmt.Errorf → 500); api/scaling.go ScalingRequest.JobModifyIndex (PR #23457,
    backported to 1.8.x).
    """
    current = (await register(http, _batch("scale-cas")))["JobModifyIndex"]
    stale = current + 1000

    answer = await http.post("/v1/job/scale-cas/scale", body=_scale_body(5, JobModifyIndex=stale))

    assert answer.status == 500
    assert answer.text == (
        f"{ENFORCE_PREFIX} {stale}: job exists with conflicting job modify index: {current}"
    )
    job = await read_job(http, "scale-cas")
    assert job["TaskGroups"][0]["Count"] == 1
    assert job["Version"] == 0


async def test_scale_with_current_job_modify_index_succeeds(http: NomadHttp) -> None:
    """A scale carrying the job's current JobModifyIndex is applied.

    Source: nomad/job_endpoint.go Job.Scale (check passes when equal).
    """
    current = (await register(http, _batch("scale-cas-ok")))["JobModifyIndex"]

    answer = await http.post(
        "/v1/job/scale-cas-ok/scale", body=_scale_body(5, JobModifyIndex=current)
    )

    assert answer.status == 200, answer.text
    assert (await read_job(http, "scale-cas-ok"))["TaskGroups"][0]["Count"] == 5


async def test_scale_status_shape(http: NomadHttp) -> None:
    """GET scale answers {JobID, Namespace, JobCreateIndex, JobModifyIndex, JobStopped,
    TaskGroups{g:{Desired, Placed, Running, Healthy, Unhealthy, Events}}}, Desired = Count.

    Source: api-docs/jobs.mdx "Read Job Scale Status"; nomad/structs/structs.go
    JobScaleStatus, TaskGroupScaleStatus.
    """
    await register(http, _batch("scale-status", count=2))

    answer = await http.get("/v1/job/scale-status/scale")

    assert answer.status == 200, answer.text
    body = answer.json()
    assert body["JobID"] == "scale-status"
    assert body["Namespace"] == "default"
    assert body["JobStopped"] is False
    assert set(body["TaskGroups"]) == {GROUP}
    group = body["TaskGroups"][GROUP]
    assert set(group) >= {"Desired", "Placed", "Running", "Healthy", "Unhealthy", "Events"}
    assert group["Desired"] == 2
    assert group["Events"] is None


async def test_scale_status_job_modify_index_is_the_jobs_modify_index(http: NomadHttp) -> None:
    """In scale status, JobCreateIndex is the job's CreateIndex and the field JobModifyIndex
    is filled from the job's ModifyIndex (not its JobModifyIndex).

    Source: nomad/job_endpoint.go Job.ScaleStatus (JobModifyIndex: job.ModifyIndex).
    """
    await register(http, _batch("scale-quirk"))
    await http.delete("/v1/job/scale-quirk")

    job = await read_job(http, "scale-quirk")
    status = (await http.get("/v1/job/scale-quirk/scale")).json()

    assert status["JobCreateIndex"] == job["CreateIndex"]
    assert status["JobModifyIndex"] == job["ModifyIndex"]
    assert status["JobStopped"] is True


async def test_scale_status_records_the_scaling_event(http: NomadHttp) -> None:
    """A count change records a scaling event (Count, PreviousCount, Message, EvalID), listed
    newest first in the group's Events.

    Source: nomad/job_endpoint.go Job.Scale (ScalingEventRequest); nomad/structs/structs.go
    ScalingEvent.
    """
    await register(http, _batch("scale-events", count=1))
    scaled = (await http.post("/v1/job/scale-events/scale", body=_scale_body(3))).json()

    status = (await http.get("/v1/job/scale-events/scale")).json()

    events = status["TaskGroups"][GROUP]["Events"]
    assert len(events) == 1
    event = events[0]
    assert event["Count"] == 3
    assert event["PreviousCount"] == 1
    assert event["Message"] == "contract test"
    assert event["Error"] is False
    assert event["EvalID"] == scaled["EvalID"]
    assert status["TaskGroups"][GROUP]["Desired"] == 3


async def test_scale_status_of_unknown_job_is_404(http: NomadHttp) -> None:
    """Scale status of a job that does not exist is 404 `job not found`.

    Source: command/agent/job_endpoint.go jobScaleStatus (CodedError(404, "job not found")).
    """
    answer = await http.get("/v1/job/scale-ghost/scale")

    assert answer.status == 404
    assert answer.text == "job not found"


async def test_scaling_a_stopped_job_changes_its_count_without_starting_it(
    http: NomadHttp,
) -> None:
    """Nomad has no stopped-job check in Scale: the count changes as a new Version and the job
    stays stopped.

    Source: nomad/job_endpoint.go Job.Scale (no Stop check; the job copy keeps Stop=true).
    """
    await register(http, _batch("scale-stopped", count=1))
    await http.delete("/v1/job/scale-stopped")

    answer = await http.post("/v1/job/scale-stopped/scale", body=_scale_body(3))

    assert answer.status == 200, answer.text
    job = await read_job(http, "scale-stopped")
    assert job["Stop"] is True
    assert job["TaskGroups"][0]["Count"] == 3
    assert job["Version"] == 2


class TestDuringActiveDeployment:
    """Allocations take long to become healthy, so a service job's first deployment stays
    active (real Nomad: min_healthy_time 10s by default)."""

    @pytest.fixture
    def sim_config(self, sim_config: Any) -> Any:
        return config_with(sim_config, deployment_min_healthy_s=60.0)

    async def test_scale_is_400_while_a_deployment_is_active(self, http: NomadHttp) -> None:
        """Changing a count through the scale endpoint is refused with 400
        `job scaling blocked due to active deployment` while the job's deployment runs.

        Source: nomad/job_endpoint.go Job.Scale (deployment.Active() &&
        deployment.JobCreateIndex == job.CreateIndex); api-docs/jobs.mdx "Scale Task Group"
        ("This will return a 400 error if the job has an active deployment").
        """
        await register(http, job_spec("deploying", {"web": 1}))
        await wait_for_summary(http, "deploying", "web", Running=1)

        answer = await http.post("/v1/job/deploying/scale", body=_scale_body(2, group="web"))

        assert answer.status == 400
        assert answer.text == "job scaling blocked due to active deployment"
        assert (await read_job(http, "deploying"))["TaskGroups"][0]["Count"] == 1

    async def test_enforce_index_register_still_works_during_a_deployment(
        self, http: NomadHttp
    ) -> None:
        """A check-and-set register is not blocked by an active deployment (it replaces it).

        Source: nomad/job_endpoint.go Job.Register (no deployment check; EnforceIndex only).
        """
        written = await register(http, job_spec("deploying-cas", {"web": 1}))
        await wait_for_summary(http, "deploying-cas", "web", Running=1)

        answer = await http.put(
            "/v1/jobs",
            body={
                "Job": job_spec("deploying-cas", {"web": 2}),
                "EnforceIndex": True,
                "JobModifyIndex": written["JobModifyIndex"],
            },
        )

        assert answer.status == 200, answer.text
        assert (await read_job(http, "deploying-cas"))["TaskGroups"][0]["Count"] == 2


async def test_scale_with_count_and_error_true_is_400(http: NomadHttp) -> None:
    """A scale request carrying both Count and Error=true is 400
    `scaling action should not contain count if error is true`.

    Source: nomad/structs/structs.go JobScaleRequest.Validate.
    """
    await register(http, _batch("scale-err"))

    answer = await http.post("/v1/job/scale-err/scale", body=_scale_body(2, Error=True))

    assert answer.status == 400
    assert answer.text == "scaling action should not contain count if error is true"


async def test_scale_target_job_must_match_the_url(http: NomadHttp) -> None:
    """A Target.Job different from the URL's job is 400 `job ID in payload did not match URL`.

    Source: command/agent/job_endpoint.go jobScaleAction.
    """
    await register(http, _batch("scale-url"))
    body = _scale_body(2)
    body["Target"]["Job"] = "someone-else"

    answer = await http.post("/v1/job/scale-url/scale", body=body)

    assert answer.status == 400
    assert answer.text == "job ID in payload did not match URL"


async def test_scale_without_count_only_records_an_event(http: NomadHttp) -> None:
    """Without Count, a scale request records a scaling event only: no new Version, no eval
    (EvalID "", EvalCreateIndex 0), and JobModifyIndex in the answer is the job's ModifyIndex.

    Source: nomad/job_endpoint.go Job.Scale (args.Count == nil → reply.JobModifyIndex =
    job.ModifyIndex; only the ScalingEventRegisterRequestType write).
    """
    await register(http, _batch("scale-note"))
    await wait_for_summary(http, "scale-note", GROUP, Complete=1)  # settled: its index holds
    before = await read_job(http, "scale-note")

    answer = await http.post("/v1/job/scale-note/scale", body=_scale_body(None))

    assert answer.status == 200, answer.text
    body = answer.json()
    assert body["EvalID"] == ""
    assert body["EvalCreateIndex"] == 0
    after = await read_job(http, "scale-note")
    assert after["Version"] == before["Version"]
    assert body["JobModifyIndex"] == after["ModifyIndex"]
    events = (await http.get("/v1/job/scale-note/scale")).json()["TaskGroups"][GROUP]["Events"]
    assert len(events) == 1
    assert events[0]["Count"] is None
