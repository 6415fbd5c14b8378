"""How raft entries change the tables: Nomad's state-store rules, one function per rule.

Each function takes the `Store` and the open `Txn` and mirrors a function of
nomad/state/state_store.go: `upsert_job` is `upsertJobImpl`, `set_job_status` is
`setJobStatus`/`getJobStatus`, `update_summary_with_alloc` is `updateSummaryWithAlloc`, and
so on. Keeping the rules here (and only here) is what makes indexes, statuses and summary
counters come out the way Nomad's do whichever endpoint or control caused the write.
"""

from __future__ import annotations

import copy

from nomad_bridge.sim.models import (
    CLIENT_COMPLETE,
    CLIENT_FAILED,
    CLIENT_LOST,
    CLIENT_PENDING,
    CLIENT_RUNNING,
    CLIENT_UNKNOWN,
    Allocation,
    Deployment,
    Evaluation,
    Job,
    now_ns,
    rfc3339,
)
from nomad_bridge.sim.records import JobSummary, TaskGroupSummary
from nomad_bridge.sim.state import (
    ALLOCS,
    DEPLOYMENT,
    EVALS,
    JOB_SUMMARY,
    JOB_VERSION,
    JOBS,
    SCALING_EVENT,
    Store,
    Txn,
)

STATUS_PENDING = "pending"
STATUS_RUNNING = "running"
STATUS_DEAD = "dead"


def is_periodic(job: Job) -> bool:
    return job.get("Periodic") is not None


def is_parameterized(job: Job) -> bool:
    return job.get("ParameterizedJob") is not None and not job.get("Dispatched", False)


def get_job_status(store: Store, job: Job, *, eval_delete: bool = False) -> str:
    """getJobStatus: system/periodic/parameterized by Stop; else allocs, then evals."""
    if job["Type"] == "system" or is_parameterized(job) or is_periodic(job):
        return STATUS_DEAD if job["Stop"] else STATUS_RUNNING
    allocs = store.allocs_by_job(job["Namespace"], job["ID"])
    if any(not a.terminal for a in allocs):
        return STATUS_RUNNING
    evals = store.evals_by_job(job["Namespace"], job["ID"])
    if any(not e.terminal for e in evals):
        return STATUS_PENDING
    if eval_delete or evals or allocs:
        return STATUS_DEAD
    return STATUS_PENDING


def _bump_children(summary: JobSummary, status: str, delta: int) -> None:
    if status == STATUS_PENDING:
        summary.children_pending += delta
    elif status == STATUS_RUNNING:
        summary.children_running += delta
    elif status == STATUS_DEAD:
        summary.children_dead += delta


def _update_parent_children(store: Store, tx: Txn, job: Job, old: str, new: str) -> None:
    """setJobSummary: a child job's status change moves one count in its parent's summary."""
    parent_id = job.get("ParentID") or ""
    if not parent_id:
        return
    parent = store.summaries.get((job["Namespace"], parent_id))
    if parent is None:
        return
    _bump_children(parent, old, -1)
    _bump_children(parent, new, +1)
    parent.modify_index = tx.index
    tx.touch(JOB_SUMMARY)


def set_job_status(store: Store, tx: Txn, job: Job, *, eval_delete: bool = False) -> Job:
    """setJobStatus: a status change rewrites the job row with ModifyIndex only."""
    old = job.get("Status", "")
    new = get_job_status(store, job, eval_delete=eval_delete)
    if old == new:
        return job
    updated = dict(job)
    updated["Status"] = new
    updated["ModifyIndex"] = tx.index
    store.jobs[(job["Namespace"], job["ID"])] = updated
    tx.changed(JOBS, updated)
    _update_parent_children(store, tx, updated, old, new)
    return updated


def set_job_statuses(store: Store, tx: Txn, keys: set[tuple[str, str]]) -> None:
    for key in sorted(keys):
        job = store.jobs.get(key)
        if job is not None:
            set_job_status(store, tx, job)


def _update_summary_with_job(store: Store, tx: Txn, job: Job) -> None:
    key = (job["Namespace"], job["ID"])
    summary = store.summaries.get(key)
    changed = False
    if summary is None:
        summary = JobSummary(job["ID"], job["Namespace"], create_index=tx.index)
        store.summaries[key] = summary
        changed = True
    for group in job["TaskGroups"]:
        if group["Name"] not in summary.summary:
            summary.summary[group["Name"]] = TaskGroupSummary()
            changed = True
    if changed:
        summary.modify_index = tx.index
        tx.touch(JOB_SUMMARY)


def _upsert_job_version(store: Store, tx: Txn, job: Job, tracked: int) -> None:
    key = (job["Namespace"], job["ID"])
    versions = [v for v in store.job_versions.get(key, []) if v["Version"] != job["Version"]]
    versions.append(copy.deepcopy(job))
    versions.sort(key=lambda v: int(v["Version"]), reverse=True)
    if len(versions) > tracked:
        stable = next((i for i, v in enumerate(versions) if v.get("Stable")), -1)
        if stable == tracked:
            versions[tracked - 1], versions[tracked] = versions[tracked], versions[tracked - 1]
        del versions[tracked]
    store.job_versions[key] = versions
    tx.touch(JOB_VERSION)


def upsert_job(store: Store, tx: Txn, job: Job, *, tracked: int, keep_version: bool = False) -> Job:
    """upsertJobImpl: indexes, Version, Status, summary groups and the version history."""
    key = (job["Namespace"], job["ID"])
    existing = store.jobs.get(key)
    job = copy.deepcopy(job)
    if existing is not None:
        job["CreateIndex"] = existing["CreateIndex"]
        job["ModifyIndex"] = tx.index
        if not keep_version:
            job["JobModifyIndex"] = tx.index
            if job.get("Version", 0) <= existing["Version"]:
                job["Version"] = existing["Version"] + 1
        job["Status"] = get_job_status(store, job)
    else:
        job["CreateIndex"] = job["ModifyIndex"] = job["JobModifyIndex"] = tx.index
        job["Status"] = get_job_status(store, job)
        _update_parent_children(store, tx, job, "", job["Status"])
    for group in job["TaskGroups"]:
        if group.get("Scaling") is not None:
            group["Scaling"]["CreateIndex"] = group["Scaling"].get("CreateIndex") or tx.index
            group["Scaling"]["ModifyIndex"] = tx.index
    _update_summary_with_job(store, tx, job)
    _upsert_job_version(store, tx, job, tracked)
    store.jobs[key] = job
    tx.changed(JOBS, job)
    return job


def update_job_stability(store: Store, tx: Txn, namespace: str, job_id: str, version: int) -> None:
    """UpdateJobStability: mark a version stable (ModifyIndex moves, JobModifyIndex does not)."""
    key = (namespace, job_id)
    for stored in store.job_versions.get(key, []):
        if stored["Version"] == version and not stored.get("Stable"):
            stored["Stable"] = True
            stored["ModifyIndex"] = tx.index
            tx.touch(JOB_VERSION)
    current = store.jobs.get(key)
    if current is not None and current["Version"] == version and not current.get("Stable"):
        updated = dict(current, Stable=True, ModifyIndex=tx.index)
        updated["Status"] = get_job_status(store, updated)
        store.jobs[key] = updated
        tx.changed(JOBS, updated)


def delete_job(store: Store, tx: Txn, namespace: str, job_id: str) -> bool:
    """DeleteJobTxn: job, versions, summary and scaling events go; a child counts as dead."""
    key = (namespace, job_id)
    job = store.jobs.pop(key, None)
    if job is None:
        return False
    tx.changed(JOBS, job, deleted=True)
    parent_id = job.get("ParentID") or ""
    parent = store.summaries.get((namespace, parent_id)) if parent_id else None
    if parent is not None and job.get("Status") in (STATUS_PENDING, STATUS_RUNNING):
        _bump_children(parent, job["Status"], -1)
        parent.children_dead += 1
        parent.modify_index = tx.index
    if store.job_versions.pop(key, None) is not None:
        tx.touch(JOB_VERSION)
    store.summaries.pop(key, None)
    tx.touch(JOB_SUMMARY)
    if store.scaling_events.pop(key, None) is not None:
        tx.touch(SCALING_EVENT)
    return True


def upsert_evals(store: Store, tx: Txn, evals: list[Evaluation]) -> None:
    """nestedUpsertEval: indexes, Queued from QueuedAllocations, then job statuses."""
    jobs: set[tuple[str, str]] = set()
    for ev in evals:
        existing = store.evals.get(ev.id)
        ev.create_index = existing.create_index if existing else tx.index
        ev.modify_index = tx.index
        summary = store.summaries.get((ev.namespace, ev.job_id))
        if summary is not None and ev.queued_allocations:
            changed = False
            for group, queued in ev.queued_allocations.items():
                tg = summary.summary.get(group)
                if tg is not None and tg.queued != queued:
                    tg.queued = queued
                    changed = True
            if changed:
                summary.modify_index = tx.index
                tx.touch(JOB_SUMMARY)
        store.evals[ev.id] = ev
        tx.changed(EVALS, ev)
        jobs.add((ev.namespace, ev.job_id))
    set_job_statuses(store, tx, jobs)


_COUNTER_BY_STATUS = {
    CLIENT_PENDING: "starting",
    CLIENT_RUNNING: "running",
    CLIENT_COMPLETE: "complete",
    CLIENT_FAILED: "failed",
    CLIENT_LOST: "lost",
    CLIENT_UNKNOWN: "unknown",
}
_GAUGES = frozenset({CLIENT_PENDING, CLIENT_RUNNING, CLIENT_LOST, CLIENT_UNKNOWN})


def update_summary_with_alloc(
    store: Store, tx: Txn, alloc: Allocation, old_client_status: str | None
) -> None:
    """updateSummaryWithAlloc: only the current incarnation counts; Complete/Failed only grow."""
    summary = store.summaries.get((alloc.namespace, alloc.job_id))
    if summary is None or summary.create_index != alloc.job_create_index:
        return
    tg = summary.summary.get(alloc.task_group)
    if tg is None:
        return
    if old_client_status is None:
        if alloc.client_status != CLIENT_PENDING:
            return
        tg.starting += 1
        if tg.queued > 0:
            tg.queued -= 1
    elif old_client_status != alloc.client_status:
        new_counter = _COUNTER_BY_STATUS.get(alloc.client_status)
        if new_counter:
            setattr(tg, new_counter, getattr(tg, new_counter) + 1)
        old_counter = _COUNTER_BY_STATUS.get(old_client_status)
        if old_counter and old_client_status in _GAUGES:
            setattr(tg, old_counter, max(0, getattr(tg, old_counter) - 1))
    else:
        return
    summary.modify_index = tx.index
    tx.touch(JOB_SUMMARY)


def update_deployment_with_alloc(
    store: Store,
    tx: Txn,
    alloc: Allocation,
    *,
    old_deployment_id: str | None,
    old_healthy: bool | None,
) -> None:
    """updateDeploymentWithAlloc: count placements and health reports into the deployment."""
    deployment = store.deployments.get(alloc.deployment_id) if alloc.deployment_id else None
    if deployment is None:
        return
    state = deployment.task_groups.get(alloc.task_group)
    if state is None:
        return
    healthy_now = alloc.deployment_status.get("Healthy") if alloc.deployment_status else None
    placed = healthy = unhealthy = 0
    if old_deployment_id is None or old_deployment_id != alloc.deployment_id:
        placed = 1
    elif old_healthy is None and healthy_now is not None:
        healthy, unhealthy = (1, 0) if healthy_now else (0, 1)
    elif old_healthy is True and healthy_now is False:
        healthy, unhealthy = -1, 1
    if not (placed or healthy or unhealthy):
        return
    if alloc.deployment_status is not None and (healthy or unhealthy):
        alloc.deployment_status["ModifyIndex"] = tx.index
    state.placed_allocs += placed
    state.healthy_allocs += healthy
    state.unhealthy_allocs += unhealthy
    upsert_deployment(store, tx, deployment)


def upsert_deployment(store: Store, tx: Txn, deployment: Deployment) -> None:
    if deployment.id not in store.deployments:
        deployment.create_index = tx.index
    deployment.modify_index = tx.index
    store.deployments[deployment.id] = deployment
    tx.changed(DEPLOYMENT, deployment)


def upsert_plan_allocs(store: Store, tx: Txn, allocs: list[Allocation]) -> None:
    """UpsertPlanResults' alloc part: new and updated allocations, summary, deployment, status."""
    """Each alloc is a new object; the stored one (if any) is the state before the plan."""
    jobs: set[tuple[str, str]] = set()
    for alloc in allocs:
        existing = store.allocs.get(alloc.id)
        old_status = existing.client_status if existing is not None else None
        if existing is None:
            alloc.create_index = tx.index
        alloc.modify_index = alloc.alloc_modify_index = tx.index
        store.allocs[alloc.id] = alloc
        update_deployment_with_alloc(
            store,
            tx,
            alloc,
            old_deployment_id=existing.deployment_id if existing is not None else None,
            old_healthy=None,
        )
        update_summary_with_alloc(store, tx, alloc, old_status)
        tx.changed(ALLOCS, alloc)
        jobs.add((alloc.namespace, alloc.job_id))
    set_job_statuses(store, tx, jobs)


def update_alloc_from_client(
    store: Store,
    tx: Txn,
    alloc: Allocation,
    *,
    client_status: str,
    client_description: str = "",
    task_states: dict[str, dict[str, object]] | None = None,
    healthy: bool | None = None,
) -> None:
    """nestedUpdateAllocFromClient: client fields, summary counters, deployment health."""
    old_status = alloc.client_status
    old_healthy = alloc.deployment_status.get("Healthy") if alloc.deployment_status else None
    alloc.client_status = client_status
    alloc.client_description = client_description
    if task_states is not None:
        alloc.task_states = task_states
    if healthy is not None and alloc.deployment_id:
        alloc.deployment_status = {
            "Healthy": healthy,
            "Timestamp": rfc3339(now_ns()),
            "Canary": False,
            "ModifyIndex": tx.index,
        }
    alloc.modify_index = tx.index
    update_summary_with_alloc(store, tx, alloc, old_status)
    if healthy is not None:
        update_deployment_with_alloc(
            store, tx, alloc, old_deployment_id=alloc.deployment_id, old_healthy=old_healthy
        )
    tx.changed(ALLOCS, alloc)
    set_job_statuses(store, tx, {(alloc.namespace, alloc.job_id)})
