"""Moving every raft index backwards, as clients see after a snapshot restore.

After `nomad operator snapshot restore` the state store's table indexes and every
object's Create/ModifyIndex come from the snapshot, so X-Nomad-Index values go back.
`shift_indexes(store, to)` models that while keeping today's objects: every index `v`
stored anywhere becomes `max(1, v - (latest - to))`, so the newest write lands on `to`,
recent writes keep their spacing and older ones collapse onto 1. Zero stays zero (it
means "unset"). The next write gets `to + 1`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from nomad_bridge.sim.models import Job
from nomad_bridge.sim.state import Store

JOB_INDEX_FIELDS = ("CreateIndex", "ModifyIndex", "JobModifyIndex")


def _shift_job(job: Job, move: Callable[[int], int]) -> Job:
    out = dict(job)
    for key in JOB_INDEX_FIELDS:
        out[key] = move(int(job.get(key) or 0))
    groups = []
    for group in job.get("TaskGroups", []):
        scaling = group.get("Scaling")
        if scaling is not None:
            scaling = {
                **scaling,
                "CreateIndex": move(scaling["CreateIndex"]),
                "ModifyIndex": move(scaling["ModifyIndex"]),
            }
        groups.append({**group, "Scaling": scaling})
    out["TaskGroups"] = groups
    return out


def shift_indexes(store: Store, to: int) -> int:
    """Renumber the whole state so the latest index becomes `to`; returns `to`."""
    if to < 1 or to >= store.latest_index:
        raise ValueError(f"index can only move back: 1 <= to < {store.latest_index}")
    offset = store.latest_index - to

    def move(value: int) -> int:
        return 0 if value <= 0 else max(1, value - offset)

    store.jobs = {k: _shift_job(j, move) for k, j in store.jobs.items()}
    store.job_versions = {
        k: [_shift_job(v, move) for v in versions] for k, versions in store.job_versions.items()
    }
    for summary in store.summaries.values():
        summary.create_index = move(summary.create_index)
        summary.modify_index = move(summary.modify_index)
    for ev in store.evals.values():
        ev.create_index, ev.modify_index = move(ev.create_index), move(ev.modify_index)
        ev.job_modify_index, ev.snapshot_index = move(ev.job_modify_index), move(ev.snapshot_index)
    shifted_jobs: dict[int, Job] = {}
    originals = [alloc.job for alloc in store.allocs.values()]  # keeps ids unique while we go
    for alloc in store.allocs.values():
        alloc.create_index, alloc.modify_index = move(alloc.create_index), move(alloc.modify_index)
        alloc.alloc_modify_index = move(alloc.alloc_modify_index)
        if alloc.deployment_status is not None:
            status: dict[str, Any] = dict(alloc.deployment_status)
            status["ModifyIndex"] = move(int(status.get("ModifyIndex") or 0))
            alloc.deployment_status = status
        if id(alloc.job) not in shifted_jobs:
            shifted_jobs[id(alloc.job)] = _shift_job(alloc.job, move)
        alloc.job = shifted_jobs[id(alloc.job)]
    for d in store.deployments.values():
        d.create_index, d.modify_index = move(d.create_index), move(d.modify_index)
        d.job_modify_index = move(d.job_modify_index)
        d.job_spec_modify_index = move(d.job_spec_modify_index)
        d.job_create_index = move(d.job_create_index)
    for history in store.scaling_events.values():
        history.modify_index = move(history.modify_index)
        for events in history.events.values():
            for event in events:
                event.create_index = move(event.create_index)
    for var in store.variables.values():
        var.create_index, var.modify_index = move(var.create_index), move(var.modify_index)
    del originals
    store.table_index = {t: move(i) for t, i in store.table_index.items()}
    store.latest_index = to
    return to
