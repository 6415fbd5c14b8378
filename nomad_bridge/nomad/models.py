"""Nomad's objects as the bridge reads them: Go field names (PascalCase) on the wire.

Nomad adds fields often, so every model ignores fields it does not declare, except the job
spec (`Job`, `TaskGroup`, `ScalingPolicy`), which keeps every field Nomad returned: the bridge
re-registers jobs it read, and `Job.spec()` must give back the same job.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


def _go_name(name: str) -> str:
    """`job_modify_index` → `JobModifyIndex`; `id` parts spell `ID` as Go does (`ParentID`)."""
    return "".join("ID" if part == "id" else part.capitalize() for part in name.split("_"))


class NomadModel(BaseModel):
    """Base of Nomad's objects: PascalCase aliases, unknown fields ignored."""

    model_config = ConfigDict(alias_generator=_go_name, populate_by_name=True, extra="ignore")


class SpecModel(NomadModel):
    """Base of the job spec's parts: unknown fields are kept so that a spec round-trips."""

    model_config = ConfigDict(extra="allow")

    def spec(self) -> dict[str, Any]:
        """The fields exactly as Nomad sent them (plus changes made through the helpers)."""
        return self.model_dump(by_alias=True, exclude_unset=True)


# --- Jobs ---------------------------------------------------------------------------------


class ScalingPolicy(SpecModel):
    """A task group's `Scaling` block; Nomad refuses counts outside [Min, Max]."""

    min: int | None = None
    max: int | None = None
    enabled: bool | None = None


class TaskGroup(SpecModel):
    """One task group of a job spec."""

    name: str
    count: int = 1
    scaling: ScalingPolicy | None = None


class Job(SpecModel):
    """A full job as `GET /v1/job/:id` returns it; `spec()` is what to register again."""

    id: str
    name: str = ""
    namespace: str = "default"
    region: str | None = None
    type: str = "service"
    status: str = ""
    stop: bool = False
    parent_id: str | None = None
    meta: dict[str, str] | None = None
    task_groups: list[TaskGroup] | None = None
    version: int = 0
    create_index: int = 0
    modify_index: int = 0
    job_modify_index: int = 0
    submit_time: int | None = None

    @property
    def groups(self) -> list[TaskGroup]:
        """Task groups in spec order (Nomad sends `null` for a job without any)."""
        return list(self.task_groups or [])

    def group(self, name: str) -> TaskGroup | None:
        return next((group for group in self.groups if group.name == name), None)

    def with_stop(self, stop: bool) -> Job:
        """A copy with `Stop` set; registering it with `stop=False` starts a stopped job."""
        return self.model_copy(update={"stop": stop})

    def with_group_count(self, group: str, count: int) -> Job:
        """A copy with one group's `Count` set; `KeyError` if the job has no such group."""
        if self.group(group) is None:
            raise KeyError(group)
        groups = [
            g.model_copy(update={"count": count}) if g.name == group else g for g in self.groups
        ]
        return self.model_copy(update={"task_groups": groups})


class AllocationCounters(BaseModel):
    """A task group's allocations counted by state, as the Cluster API shows them (its job
    view's `summary`, `jobs.view.GroupSummary`); a counter left out is 0."""

    queued: int = 0
    complete: int = 0
    failed: int = 0
    running: int = 0
    starting: int = 0
    lost: int = 0


class TaskGroupSummary(NomadModel, AllocationCounters):
    """Allocation counters of one task group as Nomad reports them (PascalCase)."""

    unknown: int = 0


class JobChildrenSummary(NomadModel):
    """Counts of a periodic or parameterized job's children."""

    pending: int = 0
    running: int = 0
    dead: int = 0


class JobSummary(NomadModel):
    """`GET /v1/job/:id/summary`: per-group counters of the job's current incarnation."""

    job_id: str
    namespace: str = "default"
    summary: dict[str, TaskGroupSummary] = Field(default_factory=dict)
    children: JobChildrenSummary | None = None
    create_index: int = 0
    modify_index: int = 0


class JobStub(NomadModel):
    """One entry of `GET /v1/jobs` (`Meta` only when listed with `meta=true`)."""

    id: str
    name: str = ""
    namespace: str = "default"
    type: str = ""
    status: str = ""
    stop: bool = False
    parent_id: str = ""
    periodic: bool = False
    parameterized_job: bool = False
    job_summary: JobSummary | None = None
    meta: dict[str, str] | None = None
    create_index: int = 0
    modify_index: int = 0
    job_modify_index: int = 0
    submit_time: int | None = None
    version: int | None = None


class RegisterResponse(NomadModel):
    """Answer to a register or scale: the eval created and the job's new modify index."""

    eval_id: str = ""
    eval_create_index: int = 0
    job_modify_index: int = 0
    warnings: str = ""
    index: int = 0


class DeregisterResponse(NomadModel):
    """Answer to a stop or purge; all zero when the job did not exist (Nomad ≥ 1.5.6)."""

    eval_id: str = ""
    eval_create_index: int = 0
    job_modify_index: int = 0
    index: int = 0


# --- Variables ----------------------------------------------------------------------------


class VariableMeta(NomadModel):
    """A variable without its items, as `GET /v1/vars` lists it."""

    namespace: str = "default"
    path: str
    create_index: int = 0
    modify_index: int = 0
    create_time: int = 0
    modify_time: int = 0


class Variable(VariableMeta):
    """A variable with its items. In a check-and-set conflict for an absent variable Nomad
    sends only `Namespace` and `Path`: `Items` is then empty and `ModifyIndex` 0."""

    items: dict[str, str] = Field(default_factory=dict)


# --- Event stream -------------------------------------------------------------------------


class Event(NomadModel):
    """One event of `GET /v1/event/stream`; `Payload` holds the object named by `Topic`."""

    topic: str
    type: str
    key: str = ""
    namespace: str = ""
    filter_keys: list[str] | None = None
    index: int = 0
    payload: dict[str, Any] = Field(default_factory=dict)


class EventBatch(NomadModel):
    """The events of one Raft entry; resume a stream after it with `index + 1`."""

    index: int
    events: list[Event] = Field(default_factory=list)
