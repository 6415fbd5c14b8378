"""The Cluster API's job view, composed by pure functions from what Nomad says.

Pure so that the request path and the live view build exactly the same bytes from the same
Nomad objects, and so that the SPEC's rules (section 2) are testable without any I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field

from nomad_bridge.nomad.models import AllocationCounters, Job, JobSummary, TaskGroupSummary

TRUE_FLAG_VALUES = frozenset({"true", "1", "yes"})


@dataclass(frozen=True, slots=True)
class FlagKeys:
    """The Meta keys that hold the Cluster API's two flags (configurable per deployment)."""

    autostart: str
    by_cluster: str


class GroupSummary(AllocationCounters):
    """Nomad's task group summary, lower-cased; a counter Nomad does not report is 0."""

    model_config = ConfigDict(frozen=True)


class TaskGroupView(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    count: int = Field(description="The group's count in the job spec.")
    summary: GroupSummary


class JobView(BaseModel):
    """Exactly the key set of the Cluster API's job object."""

    model_config = ConfigDict(frozen=True, populate_by_name=True)

    name: str = Field(description="The Nomad job ID.")
    status: str = Field(description="Nomad's job status: pending, running or dead.")
    autostart: bool
    by_cluster: bool = Field(alias="byCluster")
    task_groups: list[TaskGroupView] = Field(alias="taskGroups")

    def to_json_dict(self) -> dict[str, object]:
        return self.model_dump(by_alias=True, mode="json")


ZERO_SUMMARY = GroupSummary()
COUNTER_NAMES = tuple(GroupSummary.model_fields)


def flag(meta: Mapping[str, str] | None, key: str) -> bool:
    """`"true"`, `"1"`, `"yes"` in any case are true; absent or anything else is false."""
    value = (meta or {}).get(key)
    return isinstance(value, str) and value.strip().lower() in TRUE_FLAG_VALUES


def group_summary(counters: TaskGroupSummary | None) -> GroupSummary:
    if counters is None:
        return ZERO_SUMMARY
    return GroupSummary(**{name: getattr(counters, name) for name in COUNTER_NAMES})


def job_view(job: Job, summary: JobSummary | None, keys: FlagKeys) -> JobView:
    """The view of a job Nomad knows; groups in spec order, counters from its summary."""
    counters = summary.summary if summary is not None else {}
    return JobView(
        name=job.id,
        status=job.status,
        autostart=flag(job.meta, keys.autostart),
        by_cluster=flag(job.meta, keys.by_cluster),
        task_groups=[
            TaskGroupView(
                name=group.name,
                count=group.count,
                summary=group_summary(counters.get(group.name)),
            )
            for group in job.groups
        ],
    )


def collected_job_view(definition: Job, keys: FlagKeys) -> JobView:
    """A job Nomad garbage-collected but the bridge kept a definition of: dead, all zero."""
    view = job_view(definition, None, keys)
    return view.model_copy(update={"status": "dead"})


def sorted_views(views: Iterable[JobView]) -> list[JobView]:
    return sorted(views, key=lambda view: view.name)
