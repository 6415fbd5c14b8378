"""Which jobs the Cluster API lists (SPEC section 2), decided here for the live view, the
mutations and the operator CLI alike.

A job is listed when Nomad has it in the configured namespace, it is not a child job
(a periodic or dispatched instance), and Nomad routes its ID to it (see
`nomad.endpoints.routable_job_id`); or when Nomad has no job of that ID any more but the
bridge kept its saved definition: then it is listed as collected (dead, all-zero summaries).
"""

from __future__ import annotations

from collections.abc import Container, Iterable, Mapping
from dataclasses import dataclass
from typing import Protocol, TypeVar

from nomad_bridge.jobs.definitions import SavedDefinition
from nomad_bridge.jobs.view import FlagKeys, JobView, collected_job_view, job_view
from nomad_bridge.nomad.endpoints import routable_job_id
from nomad_bridge.nomad.models import Job, JobStub, JobSummary

T = TypeVar("T")


class NomadJob(Protocol):
    """A job or a job's list entry: what the rule looks at."""

    @property
    def id(self) -> str: ...

    @property
    def parent_id(self) -> str | None: ...


def is_listed(job: NomadJob) -> bool:
    """Whether a job Nomad has is one the Cluster API lists."""
    return not job.parent_id and routable_job_id(job.id)


def listed(stubs: Iterable[JobStub]) -> dict[str, JobStub]:
    """The listed entries of Nomad's job list, by job ID."""
    return {stub.id: stub for stub in stubs if is_listed(stub)}


def collected(saved: Mapping[str, T], in_nomad: Container[str]) -> dict[str, T]:
    """The saved definitions listed as collected: those of jobs Nomad no longer has."""
    return {job_id: value for job_id, value in saved.items() if job_id not in in_nomad}


@dataclass(frozen=True, slots=True)
class ListedJob:
    """A listed job: Nomad's job (and summary), or, once Nomad collected it, its saved
    definition (`saved`, whose index a change of it is checked against)."""

    job: Job
    summary: JobSummary | None
    saved: SavedDefinition | None = None

    @classmethod
    def in_nomad(cls, job: Job, stub: JobStub) -> ListedJob:
        """A job as Nomad has it, with the status, counters and `ModifyIndex` of its (newer)
        list entry."""
        update = {"status": stub.status, "stop": stub.stop, "modify_index": stub.modify_index}
        return cls(job.model_copy(update=update), stub.job_summary)

    @classmethod
    def from_definition(cls, saved: SavedDefinition) -> ListedJob:
        """A job Nomad collected, as its saved definition has it."""
        return cls(saved.job, None, saved)

    @property
    def id(self) -> str:
        return self.job.id

    @property
    def collected(self) -> bool:
        return self.saved is not None

    @property
    def stopped(self) -> bool:
        return self.collected or self.job.stop

    def view(self, keys: FlagKeys) -> JobView:
        if self.collected:
            return collected_job_view(self.job, keys)
        return job_view(self.job, self.summary, keys)
