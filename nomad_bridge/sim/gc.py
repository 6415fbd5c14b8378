"""Forced garbage collection, as `PUT /v1/system/gc` makes Nomad's core scheduler run it.

A forced GC uses a 1 ms threshold, so age never protects anything; what remains are
Nomad's eligibility rules (nomad/core_sched.go, `jobIsGCable` in nomad/state/schema.go):
a job goes if it is dead and stopped (or a dead batch job, or a stopped periodic or
parameterized parent), has no tagged version, all its evaluations are terminal and none of
its allocations is still running on a client. Terminal evaluations of other jobs, with
their allocations, and finished deployments nobody references are collected too.
"""

from __future__ import annotations

from nomad_bridge.sim import fsm
from nomad_bridge.sim.models import CLIENT_RUNNING, Allocation, Job
from nomad_bridge.sim.scheduler import Scheduler, new_eval
from nomad_bridge.sim.state import ALLOCS, DEPLOYMENT, EVALS, Msg, Store


def job_is_gcable(store: Store, job: Job) -> bool:
    versions = store.job_versions.get((job["Namespace"], job["ID"]), [])
    if any(v.get("VersionTag") is not None for v in versions):
        return False
    periodic = job.get("Periodic") is not None and job["Periodic"].get("Enabled")
    if periodic or fsm.is_parameterized(job):
        return bool(job["Stop"])
    if job["Status"] != fsm.STATUS_DEAD:
        return False
    return bool(job["Stop"]) or job["Type"] in ("batch", "sysbatch")


def alloc_gc_eligible(alloc: Allocation) -> bool:
    return alloc.terminal and alloc.client_status != CLIENT_RUNNING


def _collectable_jobs(store: Store) -> list[Job]:
    chosen = []
    for job in store.jobs.values():
        if not job_is_gcable(store, job):
            continue
        evals = store.evals_by_job(job["Namespace"], job["ID"])
        allocs = store.allocs_by_job(job["Namespace"], job["ID"])
        if all(e.terminal for e in evals) and all(alloc_gc_eligible(a) for a in allocs):
            chosen.append(job)
    return chosen


def _collectable_evals(store: Store, jobs: list[Job]) -> tuple[set[str], set[str]]:
    gone = {(j["Namespace"], j["ID"]) for j in jobs}
    evals: set[str] = set()
    allocs: set[str] = set()
    by_eval: dict[str, list[Allocation]] = {}
    for alloc in store.allocs.values():
        by_eval.setdefault(alloc.eval_id, []).append(alloc)
        if (alloc.namespace, alloc.job_id) in gone:
            allocs.add(alloc.id)
    for evaluation in store.evals.values():
        key = (evaluation.namespace, evaluation.job_id)
        if key in gone:
            evals.add(evaluation.id)
            continue
        if not evaluation.terminal:
            continue
        job = store.jobs.get(key)
        live_batch = (
            job is not None
            and job["Type"] in ("batch", "sysbatch")
            and not job["Stop"]
            and job["Status"] != fsm.STATUS_DEAD
        )
        mine = by_eval.get(evaluation.id, [])
        if live_batch or not all(alloc_gc_eligible(a) for a in mine):
            continue
        evals.add(evaluation.id)
        allocs.update(a.id for a in mine)
    return evals, allocs


def garbage_collect(store: Store, scheduler: Scheduler) -> list[str]:
    """Collect everything collectable now; returns the IDs of the jobs removed."""
    jobs = _collectable_jobs(store)
    evals, allocs = _collectable_evals(store, jobs)
    if evals or allocs:
        with store.txn(Msg.EVAL_DELETE) as tx:
            for eval_id in evals:
                store.evals.pop(eval_id, None)
            for alloc_id in allocs:
                store.allocs.pop(alloc_id, None)
            tx.touch(EVALS)
            tx.touch(ALLOCS)
    referenced = {a.deployment_id for a in store.allocs.values()}
    stale = [d.id for d in store.deployments.values() if not d.active and d.id not in referenced]
    if stale:
        with store.txn("_DeploymentDelete") as tx:
            for deployment_id in stale:
                store.deployments.pop(deployment_id, None)
            tx.touch(DEPLOYMENT)
    if not jobs:
        return []
    created = []
    with store.txn(Msg.JOB_BATCH_DEREGISTER) as tx:
        for job in jobs:
            fsm.delete_job(store, tx, job["Namespace"], job["ID"])
            if not (fsm.is_periodic(job) or fsm.is_parameterized(job)):
                evaluation = new_eval(job, "job-deregister")
                evaluation.job_modify_index = tx.index
                created.append(evaluation)
        fsm.upsert_evals(store, tx, created)
    for evaluation in created:
        scheduler.enqueue_eval(evaluation)
    return [job["ID"] for job in jobs]
