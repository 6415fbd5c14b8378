"""Job writes as Nomad's Job RPC endpoint performs them (nomad/job_endpoint.go).

Register, Deregister and Scale run their checks in Nomad's order and write the same raft
entries: a changed register writes job and eval in one entry, an unchanged one writes only
an eval; a stop writes the stopped job (a new version) and its eval; a scale writes the job,
then the eval, then the scaling event. Each method runs without awaiting, so its
check-and-set (EnforceIndex, JobModifyIndex) is atomic, as Nomad 2.x makes it.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from typing import Any

from nomad_bridge.sim import fsm, jobspec, validation
from nomad_bridge.sim.config import SimConfig
from nomad_bridge.sim.errors import ENFORCE_INDEX_PREFIX, NomadError, multierror
from nomad_bridge.sim.models import Evaluation, new_id, now_ns
from nomad_bridge.sim.records import JobScalingEvents, ScalingEvent
from nomad_bridge.sim.scheduler import Scheduler, new_eval
from nomad_bridge.sim.state import SCALING_EVENT, Msg, Store

TRACKED_SCALING_EVENTS = 20
Authorize = Callable[[], object]


def _allow() -> None:
    return None


def _query_meta(index: int, *, leader: bool) -> dict[str, Any]:
    """structs.QueryMeta, embedded in every write response."""
    return {"Index": index, "LastContact": 0, "KnownLeader": leader, "NextToken": ""}


def _response(
    eval_id: str, eval_index: int, jmi: int, index: int, *, leader: bool
) -> dict[str, Any]:
    """structs.JobRegisterResponse (register and scale answer it)."""
    return {
        "EvalID": eval_id,
        "EvalCreateIndex": eval_index,
        "JobModifyIndex": jmi,
        "Warnings": "",
        **_query_meta(index, leader=leader),
    }


def _deregister_response(eval_id: str, index: int) -> dict[str, Any]:
    """structs.JobDeregisterResponse: no Warnings; all zero when there was no job."""
    return {
        "EvalID": eval_id,
        "EvalCreateIndex": index,
        "JobModifyIndex": index,
        "VolumeEvalID": "",
        "VolumeEvalIndex": 0,
        **_query_meta(index, leader=False),
    }


def _check_transition(old: dict[str, Any] | None, new: dict[str, Any]) -> None:
    """validateJobUpdate: type and periodic/parameterized nature are fixed for a job's life."""
    if old is None:
        return
    if old["Type"] != new["Type"]:
        raise NomadError(500, f'cannot update job from type "{old["Type"]}" to "{new["Type"]}"')
    pairs = (("periodic", fsm.is_periodic), ("parameterized", fsm.is_parameterized))
    for name, test in pairs:
        if test(old) and not test(new):
            raise NomadError(500, f"cannot update {name} job to being non-{name}")
        if test(new) and not test(old):
            raise NomadError(500, f"cannot update non-{name} job to being {name}")


class JobEndpoint:
    def __init__(self, store: Store, config: SimConfig, scheduler: Scheduler) -> None:
        self._store = store
        self._config = config
        self._scheduler = scheduler

    def _tracked(self) -> int:
        return self._config.job_tracked_versions

    def register(
        self,
        given: dict[str, Any],
        *,
        namespace: str,
        enforce_index: bool = False,
        job_modify_index: int = 0,
        preserve_counts: bool = False,
        eval_priority: int = 0,
        authorize: Authorize = _allow,
    ) -> dict[str, Any]:
        """Job.Register; `given` is the decoded API job, namespace/region already resolved."""
        store = self._store
        job = jobspec.canonicalize(
            given, namespace=namespace, region=self._config.region, submit_time=now_ns()
        )
        errors = validation.validate(job)
        if errors:
            raise NomadError(500, multierror(errors))
        if namespace not in self._config.namespaces:
            raise NomadError(500, f'job "{job["ID"]}" is in nonexistent namespace "{namespace}"')
        authorize()
        existing = store.jobs.get((namespace, job["ID"]))
        if enforce_index:
            if existing is not None and job_modify_index == 0:
                raise NomadError(500, f"{ENFORCE_INDEX_PREFIX} 0: job already exists")
            if existing is not None and job_modify_index != existing["JobModifyIndex"]:
                raise NomadError(
                    500,
                    f"{ENFORCE_INDEX_PREFIX} {job_modify_index}: job exists with conflicting "
                    f"job modify index: {existing['JobModifyIndex']}",
                )
            if existing is None and job_modify_index != 0:
                raise NomadError(
                    500, f"{ENFORCE_INDEX_PREFIX} {job_modify_index}: job does not exist"
                )
        _check_transition(existing, job)
        jobspec.carry_scaling_ids(existing, job)
        if existing is not None and preserve_counts:
            counts = {g["Name"]: g["Count"] for g in existing["TaskGroups"]}
            for group in job["TaskGroups"]:
                group["Count"] = counts.get(group["Name"], group["Count"])
        wants_eval = not (fsm.is_periodic(job) or fsm.is_parameterized(job))
        if existing is None or jobspec.spec_changed(existing, job):
            with store.txn(Msg.JOB_REGISTER) as tx:
                stored = fsm.upsert_job(store, tx, job, tracked=self._tracked())
                evaluation = (
                    self._eval(stored, "job-register", eval_priority, tx.index)
                    if wants_eval
                    else None
                )
                if evaluation is not None:
                    fsm.upsert_evals(store, tx, [evaluation])
            index = tx.index
            return _response(
                evaluation.id if evaluation else "",
                index if evaluation else 0,
                index,
                index,
                leader=False,
            )
        if not wants_eval:
            return _response("", 0, existing["JobModifyIndex"], 0, leader=False)
        with store.txn(Msg.EVAL_UPDATE) as tx:
            evaluation = self._eval(
                existing, "job-register", eval_priority, existing["JobModifyIndex"]
            )
            fsm.upsert_evals(store, tx, [evaluation])
        return _response(
            evaluation.id, tx.index, existing["JobModifyIndex"], tx.index, leader=False
        )

    def _eval(self, job: dict[str, Any], trigger: str, priority: int, jmi: int) -> Evaluation:
        evaluation = new_eval(job, trigger, priority=priority)
        evaluation.job_modify_index = jmi
        self._scheduler.enqueue_eval(evaluation)
        return evaluation

    def deregister(
        self,
        job_id: str,
        *,
        namespace: str,
        purge: bool,
        eval_priority: int = 0,
        authorize: Authorize = _allow,
    ) -> dict[str, Any]:
        """Job.Deregister: stop (a new version with Stop=true) or purge, plus an eval."""
        authorize()
        store = self._store
        job = store.jobs.get((namespace, job_id))
        if job is None:
            return _deregister_response("", 0)
        wants_eval = not (fsm.is_periodic(job) or fsm.is_parameterized(job))
        evaluation = None
        with store.txn(Msg.JOB_DEREGISTER) as tx:
            if purge:
                fsm.delete_job(store, tx, namespace, job_id)
            else:
                stopped = dict(copy.deepcopy(job), Stop=True, SubmitTime=now_ns())
                fsm.upsert_job(store, tx, stopped, tracked=self._tracked())
            if wants_eval:
                evaluation = self._eval(job, "job-deregister", eval_priority, tx.index)
                evaluation.type = "service"
                fsm.upsert_evals(store, tx, [evaluation])
        return _deregister_response(evaluation.id if evaluation else "", tx.index)

    def scale(
        self,
        job_id: str,
        *,
        namespace: str,
        group_name: str,
        count: int | None,
        message: str = "",
        error: bool = False,
        meta: dict[str, Any] | None = None,
        job_modify_index: int = 0,
        target_namespace: str = "",
        authorize: Authorize = _allow,
    ) -> dict[str, Any]:
        """Job.Scale: bounds, deployment and index checks, then job, eval and event entries."""
        authorize()
        if target_namespace and target_namespace != namespace:
            raise NomadError(400, "namespace in payload did not match header")
        if not group_name:
            raise NomadError(400, "missing task group name for scaling action")
        if count is not None and count < 0:
            raise NomadError(400, "scaling action count can't be negative")
        if count is not None and error:
            raise NomadError(400, "scaling action should not contain count if error is true")
        store = self._store
        current = store.jobs.get((namespace, job_id))
        if current is None:
            raise NomadError(404, f'job "{job_id}" not found')
        if current["Type"] == "system" and count is not None and count > 1:
            raise NomadError(400, 'jobs of type "system" can only be scaled between 0 and 1')
        job = copy.deepcopy(current)
        group = jobspec.group(job, group_name)
        if group is None:
            raise NomadError(
                400, f'task group "{group_name}" specified for scaling does not exist in job'
            )
        previous = group["Count"]
        jmi = current["ModifyIndex"]
        evaluation: Evaluation | None = None
        if count is not None:
            self._check_scale(current, group, count, job_modify_index)
            group["Count"] = count
            job["SubmitTime"] = now_ns()
            with store.txn(Msg.JOB_REGISTER) as tx:
                fsm.upsert_job(store, tx, job, tracked=self._tracked())
            jmi = tx.index
            if not (fsm.is_periodic(job) or fsm.is_parameterized(job)):
                with store.txn(Msg.EVAL_UPDATE) as tx:
                    evaluation = self._eval(store.jobs[(namespace, job_id)], "scaling", 0, jmi)
                    fsm.upsert_evals(store, tx, [evaluation])
        event = ScalingEvent(
            time_ns=now_ns(),
            previous_count=previous,
            count=count,
            message=message,
            error=error,
            meta=meta,
            eval_id=evaluation.id if evaluation else None,
            create_index=0,
        )
        with store.txn(Msg.SCALING_EVENT) as tx:
            event.create_index = tx.index
            events = store.scaling_events.setdefault((namespace, job_id), JobScalingEvents())
            history = [event, *events.events.get(group_name, [])]
            events.events[group_name] = history[:TRACKED_SCALING_EVENTS]
            events.modify_index = tx.index
            tx.touch(SCALING_EVENT)
        return _response(
            evaluation.id if evaluation else "",
            evaluation.create_index if evaluation else 0,
            jmi,
            tx.index,
            leader=True,
        )

    def _check_scale(
        self, job: dict[str, Any], group: dict[str, Any], count: int, job_modify_index: int
    ) -> None:
        scaling = group.get("Scaling")
        if scaling is not None:
            if count < scaling["Min"]:
                raise NomadError(
                    400,
                    f"group count was less than scaling policy minimum: {count} < {scaling['Min']}",
                )
            if scaling["Max"] < count:
                raise NomadError(
                    400,
                    "group count was greater than scaling policy maximum: "
                    f"{count} > {scaling['Max']}",
                )
        deployment = self._store.latest_deployment(job["Namespace"], job["ID"])
        if (
            deployment is not None
            and deployment.active
            and deployment.job_create_index == job["CreateIndex"]
        ):
            raise NomadError(400, "job scaling blocked due to active deployment")
        if job_modify_index > 0 and job_modify_index != job["JobModifyIndex"]:
            raise NomadError(
                500,
                f"{ENFORCE_INDEX_PREFIX} {job_modify_index}: job exists with conflicting job "
                f"modify index: {job['JobModifyIndex']}",
            )

    def add_child(
        self, parent_id: str, *, namespace: str = "default", kind: str = "periodic"
    ) -> str:
        """Launch a periodic or dispatched instance of `parent_id`, as Nomad's dispatcher does."""
        store = self._store
        parent = store.jobs.get((namespace, parent_id))
        if parent is None:
            raise KeyError(f"job {parent_id!r} not found in namespace {namespace!r}")
        if not (fsm.is_periodic(parent) or fsm.is_parameterized(parent)):
            raise ValueError(f"job {parent_id!r} is neither periodic nor parameterized")
        if kind not in ("periodic", "dispatch"):
            raise ValueError(f"unknown child kind {kind!r}")
        launch = int(time.time())
        while True:
            suffix = (
                f"periodic-{launch}" if kind == "periodic" else f"dispatch-{launch}-{new_id()[:8]}"
            )
            child_id = f"{parent_id}/{suffix}"
            if (namespace, child_id) not in store.jobs:
                break
            launch += 1
        child = copy.deepcopy(parent)
        child.update(
            ID=child_id,
            Name=child_id,
            ParentID=parent_id,
            Status="",
            Stop=False,
            Version=0,
            Stable=False,
            SubmitTime=now_ns(),
            CreateIndex=0,
            ModifyIndex=0,
            JobModifyIndex=0,
        )
        if kind == "periodic":
            child["Periodic"] = None
        else:
            child["Dispatched"] = True
        trigger = "periodic-job" if kind == "periodic" else "job-register"
        with store.txn(Msg.JOB_REGISTER) as tx:
            stored = fsm.upsert_job(store, tx, child, tracked=self._tracked())
            fsm.upsert_evals(store, tx, [self._eval(stored, trigger, 0, tx.index)])
        return child_id
