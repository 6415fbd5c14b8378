"""Contract: what the simulator's event stream says of each change, as Nomad v1.9.x does:
topics, types, keys and payloads (a Job event carries the whole job, an Allocation event the
allocation without its job; summaries publish nothing), one line per Raft entry.
Sources are named in each test's docstring; the overview is in test_contract_http_events.
"""

from __future__ import annotations

from typing import Any

from nomad_bridge.sim import SimServer
from tests.sim.event_streams import (
    of,
    open_stream,
    running_on,
    started,
)
from tests.sim.harness import NomadHttp, register, wait_for_summary
from tests.support import job_spec


def _alloc(event: dict[str, Any]) -> dict[str, Any]:
    alloc: dict[str, Any] = event["Payload"]["Allocation"]
    return alloc


# --- payloads and types ------------------------------------------------------------------


async def test_register_emits_job_registered_with_the_whole_job(
    http: NomadHttp, sim_server: SimServer
) -> None:
    """A register produces a line {"Index": N, "Events": [{"Topic": "Job", "Type":
    "JobRegistered", "Key": <id>, "Namespace": "default", "FilterKeys": null, "Index": N,
    "Payload": {"Job": {...}}}]}: N is the register's JobModifyIndex and the payload is the
    whole job, as GET /v1/job/:id shows it.

    Source: api-docs/events.mdx (event shape); nomad/state/events.go eventFromChange ("jobs":
    Key job ID, no FilterKeys, structs.JobEvent{Job}); MsgTypeEvents (JobRegisterRequestType
    → JobRegistered).
    """
    async with open_stream(sim_server.url, [("topic", "Job")]) as stream:
        await started(stream)
        written = await register(http, job_spec("ev-reg", Meta={"autostart": "true"}))
        line, event = await stream.until(of("Job", "JobRegistered", "ev-reg"))
    job = (await http.get("/v1/job/ev-reg")).json()

    assert line["Index"] == event["Index"] == written["JobModifyIndex"]
    assert (event["Namespace"], event["FilterKeys"]) == ("default", None)
    assert list(event) == ["Topic", "Type", "Key", "Namespace", "FilterKeys", "Index", "Payload"]
    payload = event["Payload"]["Job"]
    assert payload["Meta"] == {"autostart": "true"}
    assert payload["TaskGroups"] == job["TaskGroups"]
    assert payload["JobModifyIndex"] == job["JobModifyIndex"]


async def test_stop_emits_job_deregistered_with_the_stopped_job(
    http: NomadHttp, sim_server: SimServer
) -> None:
    """A stop produces a JobDeregistered event whose payload is the job with Stop true, at the
    stop's index.

    Source: api-docs/events.mdx; nomad/state/events.go (JobDeregisterRequestType →
    JobDeregistered); nomad/fsm.go handleJobDeregister.
    """
    await register(http, job_spec("ev-stop"))
    async with open_stream(sim_server.url, [("topic", "Job:ev-stop")]) as stream:
        await started(stream)
        stopped = (await http.delete("/v1/job/ev-stop")).json()
        line, event = await stream.until(of("Job", "JobDeregistered", "ev-stop"))

    assert line["Index"] == stopped["JobModifyIndex"]
    assert event["Payload"]["Job"]["Stop"] is True


async def test_purge_emits_job_deregistered_with_the_last_job(
    http: NomadHttp, sim_server: SimServer
) -> None:
    """A purge deletes the job and still publishes JobDeregistered, the payload being the job
    as it was (1.7.x and later).

    Source: nomad/state/events.go eventFromChange (deleted rows of "jobs"), hashicorp/nomad
    PR #19903 "events: emit event when job is deleted".
    """
    await register(http, job_spec("ev-purge"))
    async with open_stream(sim_server.url, [("topic", "Job:ev-purge")]) as stream:
        await started(stream)
        await http.delete("/v1/job/ev-purge", params={"purge": "true"})
        _, event = await stream.until(of("Job", "JobDeregistered", "ev-purge"))

    assert event["Payload"]["Job"]["ID"] == "ev-purge"
    assert (await http.get("/v1/job/ev-purge")).status == 404


async def test_scale_emits_job_registered_with_the_new_count(
    http: NomadHttp, sim_server: SimServer
) -> None:
    """A scale re-registers the job, so the Job topic gets JobRegistered at the scale's
    JobModifyIndex with the new count in the payload.

    Source: nomad/job_endpoint.go Job.Scale (raftApply JobRegisterRequestType);
    nomad/state/events.go MsgTypeEvents (JobRegisterRequestType → JobRegistered).
    """
    await register(http, job_spec("ev-scale", Type="batch"))
    async with open_stream(sim_server.url, [("topic", "Job:ev-scale")]) as stream:
        await started(stream)
        scaled = await http.post(
            "/v1/job/ev-scale/scale", body={"Count": 3, "Target": {"Group": "web"}}
        )
        at = scaled.json()["JobModifyIndex"]
        line, event = await stream.until(
            lambda e: of("Job", "JobRegistered", "ev-scale")(e) and e["Index"] >= at
        )

    assert line["Index"] == at
    assert event["Payload"]["Job"]["TaskGroups"][0]["Count"] == 3


async def test_allocation_topic_filters_by_job_id_and_omits_the_job(
    http: NomadHttp, sim_server: SimServer
) -> None:
    """`topic=Allocation:<job>` matches allocations through their FilterKeys [JobID,
    DeploymentID]; placement arrives as PlanResult, client progress as AllocationUpdated,
    and the payload {"Allocation": {...}} carries `"Job": null`.

    Source: nomad/structs/event.go AllocationEvent ("The Allocs embedded Job has been removed
    to reduce size"); nomad/state/events.go eventFromChange (alloc.Job = nil; FilterKeys) and
    MsgTypeEvents (ApplyPlanResultsRequestType → PlanResult, AllocClientUpdateRequestType →
    AllocationUpdated); api-docs/events.mdx ("Allocation (no job information)").
    """
    async with open_stream(sim_server.url, [("topic", "Allocation:ev-alloc")]) as stream:
        await started(stream)
        await register(http, job_spec("ev-alloc", {"web": 1}))
        await register(http, job_spec("ev-noise", {"web": 1}))
        await stream.until(
            lambda e: e["Type"] == "AllocationUpdated" and _alloc(e)["ClientStatus"] == "running"
        )

    events = stream.events()
    assert {e["Topic"] for e in events} == {"Allocation"}
    assert {_alloc(e)["JobID"] for e in events} == {"ev-alloc"}
    assert all(e["FilterKeys"] == ["ev-alloc", _alloc(e)["DeploymentID"]] for e in events)
    assert all("Job" in _alloc(e) and _alloc(e)["Job"] is None for e in events)
    assert events[0]["Type"] == "PlanResult"
    assert _alloc(events[0])["ClientStatus"] == "pending"


async def test_evaluation_events_carry_the_evaluation_keyed_by_its_job(
    http: NomadHttp, sim_server: SimServer
) -> None:
    """An Evaluation event's Key is the evaluation ID, its FilterKeys [JobID, DeploymentID],
    its payload {"Evaluation": {...}}; the register's eval is written in the register's own
    raft entry, so its Type is JobRegistered, and the scheduler's update is
    EvaluationUpdated.

    Source: nomad/state/events.go eventFromChange ("evals") and MsgTypeEvents;
    nomad/job_endpoint.go Job.Register (the eval goes in the JobRegisterRequest).
    """
    async with open_stream(sim_server.url, [("topic", "Evaluation:ev-eval")]) as stream:
        await started(stream)
        written = await register(http, job_spec("ev-eval", Type="batch"))
        _, done = await stream.until(lambda e: e["Payload"]["Evaluation"]["Status"] == "complete")

    first = stream.events()[0]
    assert (first["Type"], first["Key"], first["Index"]) == (
        "JobRegistered",
        written["EvalID"],
        written["JobModifyIndex"],
    )
    assert first["FilterKeys"] == ["ev-eval", ""]
    assert (done["Type"], done["Key"]) == ("EvaluationUpdated", written["EvalID"])


async def test_deployment_events_carry_the_deployment_keyed_by_its_job(
    http: NomadHttp, sim_server: SimServer
) -> None:
    """A service job's deployment is published on the Deployment topic with FilterKeys
    [JobID]: created by the scheduler's plan (PlanResult), finished by the deployment
    watcher (DeploymentStatusUpdate).

    Source: nomad/state/events.go eventFromChange ("deployment": Key ID, FilterKeys
    [JobID], structs.DeploymentEvent) and MsgTypeEvents (DeploymentStatusUpdateRequestType →
    DeploymentStatusUpdate).
    """
    async with open_stream(sim_server.url, [("topic", "Deployment:ev-deploy")]) as stream:
        await started(stream)
        await register(http, job_spec("ev-deploy", {"web": 1}))
        _, done = await stream.until(of("Deployment", "DeploymentStatusUpdate"))

    first = stream.events()[0]
    assert first["Type"] == "PlanResult"
    assert first["FilterKeys"] == ["ev-deploy"]
    assert first["Key"] == first["Payload"]["Deployment"]["ID"] == done["Key"]
    assert done["Payload"]["Deployment"]["Status"] == "successful"


async def test_summaries_publish_nothing_and_have_no_topic(
    http: NomadHttp, sim_server: SimServer
) -> None:
    """Job summaries are not published: everything a job's life writes arrives on the Job,
    Evaluation, Allocation and Deployment topics, and `topic=JobSummary` (accepted: topics are
    not validated) never carries an event.

    Source: nomad/state/events.go eventFromChange (no case for "job_summary");
    nomad/structs/event.go (the Topic constants); command/agent/event_endpoint.go
    parseEventTopics (no validation).
    """
    async with (
        open_stream(sim_server.url, [("namespace", "*")]) as everything,
        open_stream(sim_server.url, [("topic", "JobSummary")]) as summaries,
    ):
        await started(everything)
        await started(summaries)
        await register(http, job_spec("ev-summary", {"web": 2}))
        await wait_for_summary(http, "ev-summary", "web", Running=2)
        await everything.until(lambda e: running_on(e, "ev-summary"))
        nothing = await summaries.lines_for()

    assert nothing == []
    assert {e["Topic"] for e in everything.events()} <= {
        "Job",
        "Evaluation",
        "Allocation",
        "Deployment",
    }


async def test_lines_are_raft_entries_in_index_order(
    http: NomadHttp, sim_server: SimServer
) -> None:
    """Data lines carry strictly increasing Index values, one line per Raft entry, and every
    event in a line carries that line's Index.

    Source: nomad/stream/event_buffer.go (one bufferItem per raft index, appended in order);
    nomad/state/events.go eventsFromChanges (event.Index = changes.Index).
    """
    async with open_stream(sim_server.url, [("topic", "*")]) as stream:
        await started(stream)
        for n in range(3):
            await register(http, job_spec(f"ev-order-{n}"))
        await http.delete("/v1/job/ev-order-0")
        await stream.until(of("Job", "JobDeregistered", "ev-order-0"))
        await stream.lines_for()

    lines = stream.data
    indexes = [line["Index"] for line in lines]
    assert indexes == sorted(set(indexes))
    assert all(e["Index"] == line["Index"] for line in lines for e in line["Events"])
