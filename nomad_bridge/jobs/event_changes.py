"""What Nomad's events say about each listed job, and what is left to read.

- Job: the event carries the whole job; a new job's summary is all zero (Nomad creates it
  in the same entry). A deregistration is a stop or a purge: the job is to be read.
- Allocation: a new allocation, or one whose client status changed, moves the job's
  summary by Nomad's rule (`jobs.summaries`); client statuses are remembered from earlier
  events. One the bridge never heard of has an unknown old status: the summary is read.
- Evaluation: its `QueuedAllocations` set queued counts (Nomad's `nestedUpsertEval`):
  the summary is read when they differ from the one held.

An event at or below the index of the summary held is already counted in it (a read
answered with Nomad's state after it): it moves nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from nomad_bridge.jobs.listing import ListedJob, is_listed
from nomad_bridge.jobs.summaries import after_allocation, after_registration
from nomad_bridge.nomad.models import Event, Job, JobSummary

log = logging.getLogger(__name__)

DEREGISTERED = frozenset({"JobDeregistered", "JobBatchDeregistered"})
ALLOCATIONS_REMEMBERED = 100_000
"""Client statuses kept (one small entry per allocation heard of); past this many they are
forgotten at once, which only costs summary reads."""

Held = Callable[[str], ListedJob | None]
"""The job as the bridge holds it (None: not listed)."""


@dataclass
class JobChange:
    """What one job's events in a step say, and what they leave to read."""

    job: Job | None = None  # the newest job an event carried
    summary: JobSummary | None = None  # the summary as the events moved it
    verify: bool = False  # deregistered: stopped or purged? read the job
    read_after: int = 0  # an event at this index moved the summary beyond the rules


class EventDigest:
    """Turns events into `JobChange`s, remembering allocations' client statuses."""

    def __init__(self) -> None:
        self._statuses: dict[str, str] = {}  # allocation ID -> ClientStatus

    def forget(self) -> None:
        """A new stream: allocations may have moved while none was open."""
        self._statuses.clear()

    def take(self, changes: dict[str, JobChange], event: Event, index: int, held: Held) -> None:
        """Take in one event of the raft entry `index`. Events of jobs the view does not
        list are ignored (child jobs; jobs it will hear of through their Job event)."""
        payload: dict[str, Any] = event.payload.get(event.topic) or {}
        if event.topic == "Job":
            self._take_job(changes, event, payload, index, held)
            return
        job_id = payload.get("JobID")
        listed = held(job_id) if isinstance(job_id, str) else None
        if not isinstance(job_id, str) or (listed is None and job_id not in changes):
            return
        change = changes.setdefault(job_id, JobChange())
        job = change.job or (listed.job if listed is not None else None)
        summary = change.summary or (listed.summary if listed is not None else None)
        if event.topic == "Allocation":
            moved = self._allocation_moved(payload, job, summary, index)
        elif summary is not None and summary.modify_index >= index:
            moved = summary
        else:
            moved = summary if not _queued_moved(payload, summary) else None
        _record(change, moved, index)

    def _take_job(
        self,
        changes: dict[str, JobChange],
        event: Event,
        payload: dict[str, Any],
        index: int,
        held: Held,
    ) -> None:
        try:
            job = Job.model_validate(payload)
        except ValidationError:
            log.warning("event_unusable", extra={"topic": event.topic, "index": index})
            return
        if not is_listed(job):
            return
        change = changes.setdefault(job.id, JobChange())
        change.job = job
        if event.type in DEREGISTERED:
            change.verify = True
            return
        listed = held(job.id)
        summary = change.summary or (listed.summary if listed is not None else None)
        if summary is None or summary.modify_index < index:
            summary = after_registration(summary, job, index)
        _record(change, summary, index)

    def _allocation_moved(
        self, allocation: dict[str, Any], job: Job | None, summary: JobSummary | None, index: int
    ) -> JobSummary | None:
        """The summary once this allocation update is counted (None: read it instead)."""
        alloc_id, status = allocation.get("ID"), allocation.get("ClientStatus")
        group, created = allocation.get("TaskGroup"), allocation.get("CreateIndex")
        if not (isinstance(alloc_id, str) and isinstance(status, str) and isinstance(group, str)):
            return None
        if len(self._statuses) >= ALLOCATIONS_REMEMBERED:
            self._statuses.clear()
        before = self._statuses.get(alloc_id)
        self._statuses[alloc_id] = status
        if summary is None or not isinstance(created, int):
            return None
        if summary.modify_index >= index:
            return summary  # already counted
        if job is not None and created < job.create_index:
            return summary  # an earlier incarnation's: not counted in this summary
        if before is None and created != index:
            return None  # existed before the bridge heard of it: its old status is unknown
        return after_allocation(summary, group, before, status, index)


def _record(change: JobChange, summary: JobSummary | None, index: int) -> None:
    if summary is None:
        change.read_after = index
    elif not change.read_after:
        change.summary = summary


def _queued_moved(evaluation: dict[str, Any], summary: JobSummary | None) -> bool:
    """Whether an evaluation's queued allocations differ from the summary held."""
    queued = evaluation.get("QueuedAllocations") or {}
    if summary is None:
        return bool(queued)
    groups = summary.summary
    return any(
        isinstance(count, int) and (groups[g].queued if g in groups else 0) != count
        for g, count in queued.items()
    )
