"""Nomad's job-summary arithmetic, applied to the summary the view holds.

Nomad has no job-summary event: it moves a job's summary in the same raft entry as the
allocation or job that moved it (nomad/state/state_store.go). The rules are few and
stable, so the watch applies them to the summary it holds rather than reading it again;
where it cannot be sure it reads the summary (`None` below):

- `updateSummaryWithAlloc`: a new allocation (pending) counts as starting and takes one
  from queued (never below 0); an allocation whose client status changed moves from the
  old status's counter (never below 0; complete and failed are never taken from) to the
  new one's. The summary's `ModifyIndex` becomes the entry's index.
- `updateSummaryWithJob`: registering a job creates its summary (all zero) in the same
  entry, and adds a zero entry for a task group it did not have.
- Queued counts are set from evaluations (`nestedUpsertEval`): those the watch reads.
"""

from __future__ import annotations

from nomad_bridge.nomad.models import Job, JobSummary, TaskGroupSummary

COUNTERS = {
    "pending": "starting",
    "running": "running",
    "failed": "failed",
    "complete": "complete",
    "lost": "lost",
    "unknown": "unknown",
}
NEVER_TAKEN_FROM = frozenset({"failed", "complete"})


def after_allocation(
    summary: JobSummary, group: str, before: str | None, after: str, index: int
) -> JobSummary | None:
    """The summary once one allocation of `group` went from client status `before` (None:
    it is new) to `after` in the raft entry `index`; None when the rule cannot tell."""
    counters = summary.summary.get(group)
    if counters is None or after not in COUNTERS or (before is not None and before not in COUNTERS):
        return None
    values = counters.model_dump()
    if before is None:
        if after != "pending":
            return summary  # Nomad refuses to count it (and logs an error)
        values["starting"] += 1
        values["queued"] = max(values["queued"] - 1, 0)
    elif before == after:
        return summary
    else:
        values[COUNTERS[after]] += 1
        if before not in NEVER_TAKEN_FROM:
            values[COUNTERS[before]] = max(values[COUNTERS[before]] - 1, 0)
    groups = {**summary.summary, group: TaskGroupSummary.model_validate(values)}
    return summary.model_copy(update={"summary": groups, "modify_index": index})


def after_registration(summary: JobSummary | None, job: Job, index: int) -> JobSummary | None:
    """The summary once `job` was registered in the raft entry `index`; None when the rule
    cannot tell (a job first seen after its creation, without a summary held)."""
    if summary is None or summary.create_index != job.create_index:
        if job.create_index != index:
            return None
        summary = JobSummary(
            job_id=job.id, namespace=job.namespace, create_index=index, modify_index=index
        )
    missing = [g.name for g in job.groups if g.name not in summary.summary]
    if not missing:
        return summary
    groups = {**summary.summary, **{name: TaskGroupSummary() for name in missing}}
    return summary.model_copy(update={"summary": groups, "modify_index": index})
