"""The scheduling objects Nomad keeps besides jobs, with the JSON Nomad encodes them as.

Jobs stay plain JSON-shaped dicts (their schema is large and open-ended); the objects the
scheduler reasons about (evaluations, allocations, deployments) are dataclasses whose
`to_json` produces Nomad's PascalCase field names. Summaries, scaling events and variables
are in `records`.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from typing import Any

Job = dict[str, Any]
JSON = dict[str, Any]

EVAL_PENDING = "pending"
EVAL_COMPLETE = "complete"
EVAL_TERMINAL = frozenset({"complete", "failed", "canceled"})

DESIRED_RUN = "run"
DESIRED_STOP = "stop"
DESIRED_EVICT = "evict"

CLIENT_PENDING = "pending"
CLIENT_RUNNING = "running"
CLIENT_COMPLETE = "complete"
CLIENT_FAILED = "failed"
CLIENT_LOST = "lost"
CLIENT_UNKNOWN = "unknown"
CLIENT_TERMINAL = frozenset({CLIENT_COMPLETE, CLIENT_FAILED, CLIENT_LOST})

DEPLOYMENT_RUNNING = "running"
DEPLOYMENT_SUCCESSFUL = "successful"
DEPLOYMENT_FAILED = "failed"
DEPLOYMENT_CANCELLED = "cancelled"
DEPLOYMENT_ACTIVE = frozenset(
    {"running", "paused", "pending", "blocked", "unblocking", "initializing"}
)


def now_ns() -> int:
    return time.time_ns()


def new_id() -> str:
    return str(uuid.uuid4())


def rfc3339(ns: int) -> str:
    """Go's time.Time JSON form (RFC 3339 with nanoseconds, UTC)."""
    if ns == 0:
        return "0001-01-01T00:00:00Z"
    seconds, nanos = divmod(ns, 1_000_000_000)
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))
    fraction = f"{nanos:09d}".rstrip("0")
    return f"{stamp}.{fraction}Z" if fraction else f"{stamp}Z"


@dataclass
class Evaluation:
    id: str
    namespace: str
    priority: int
    type: str
    triggered_by: str
    job_id: str
    status: str = EVAL_PENDING
    status_description: str = ""
    job_modify_index: int = 0
    deployment_id: str = ""
    queued_allocations: dict[str, int] | None = None
    snapshot_index: int = 0
    previous_eval: str = ""
    wait_until_ns: int = 0
    create_index: int = 0
    modify_index: int = 0
    create_time: int = field(default_factory=now_ns)
    modify_time: int = field(default_factory=now_ns)

    @property
    def terminal(self) -> bool:
        return self.status in EVAL_TERMINAL

    def to_json(self) -> JSON:
        return {
            "ID": self.id,
            "Namespace": self.namespace,
            "Priority": self.priority,
            "Type": self.type,
            "TriggeredBy": self.triggered_by,
            "JobID": self.job_id,
            "JobModifyIndex": self.job_modify_index,
            "NodeID": "",
            "NodeModifyIndex": 0,
            "DeploymentID": self.deployment_id,
            "Status": self.status,
            "StatusDescription": self.status_description,
            "Wait": 0,
            "WaitUntil": rfc3339(self.wait_until_ns),
            "NextEval": "",
            "PreviousEval": self.previous_eval,
            "BlockedEval": "",
            "RelatedEvals": None,
            "FailedTGAllocs": None,
            "ClassEligibility": None,
            "QuotaLimitReached": "",
            "EscapedComputedClass": False,
            "AnnotatePlan": False,
            "QueuedAllocations": self.queued_allocations,
            "LeaderACL": "",
            "SnapshotIndex": self.snapshot_index,
            "CreateIndex": self.create_index,
            "ModifyIndex": self.modify_index,
            "CreateTime": self.create_time,
            "ModifyTime": self.modify_time,
        }


@dataclass
class Allocation:
    id: str
    namespace: str
    eval_id: str
    name: str
    node_id: str
    node_name: str
    job: Job
    task_group: str
    desired_status: str = DESIRED_RUN
    desired_description: str = ""
    client_status: str = CLIENT_PENDING
    client_description: str = ""
    task_states: dict[str, JSON] | None = None
    deployment_id: str = ""
    deployment_status: JSON | None = None
    previous_allocation: str = ""
    next_allocation: str = ""
    followup_eval_id: str = ""
    reschedule_events: list[JSON] = field(default_factory=list)
    node_down: bool = False
    """The node under this allocation went away (sim control); the scheduler marks it lost."""
    create_index: int = 0
    modify_index: int = 0
    alloc_modify_index: int = 0
    create_time: int = field(default_factory=now_ns)
    modify_time: int = field(default_factory=now_ns)

    @property
    def job_id(self) -> str:
        return str(self.job["ID"])

    @property
    def job_version(self) -> int:
        return int(self.job["Version"])

    @property
    def job_create_index(self) -> int:
        return int(self.job["CreateIndex"])

    @property
    def terminal(self) -> bool:
        """Nomad's Allocation.TerminalStatus: desired stop/evict or client-terminal."""
        return (
            self.desired_status in (DESIRED_STOP, DESIRED_EVICT)
            or self.client_status in CLIENT_TERMINAL
        )

    @property
    def index(self) -> int:
        """The `[n]` in the allocation name."""
        return int(self.name.rsplit("[", 1)[1].rstrip("]"))

    def _common(self) -> JSON:
        return {
            "ID": self.id,
            "EvalID": self.eval_id,
            "Name": self.name,
            "Namespace": self.namespace,
            "NodeID": self.node_id,
            "NodeName": self.node_name,
            "JobID": self.job_id,
        }

    def _state(self) -> JSON:
        return {
            "DesiredStatus": self.desired_status,
            "DesiredDescription": self.desired_description,
            "ClientStatus": self.client_status,
            "ClientDescription": self.client_description,
            "DesiredTransition": {"Migrate": None, "Reschedule": None, "ForceReschedule": None},
            "TaskStates": self.task_states,
            "DeploymentStatus": self.deployment_status,
            "FollowupEvalID": self.followup_eval_id,
            "NextAllocation": self.next_allocation,
            "RescheduleTracker": (
                {"Events": self.reschedule_events} if self.reschedule_events else None
            ),
            "PreemptedAllocations": None,
            "PreemptedByAllocation": "",
        }

    def _indexes(self) -> JSON:
        return {
            "CreateIndex": self.create_index,
            "ModifyIndex": self.modify_index,
            "CreateTime": self.create_time,
            "ModifyTime": self.modify_time,
        }

    def stub(self) -> JSON:
        """Nomad's AllocListStub, as GET /v1/job/:id/allocations lists it."""
        return {
            **self._common(),
            "JobType": self.job["Type"],
            "JobVersion": self.job_version,
            "TaskGroup": self.task_group,
            **self._state(),
            **self._indexes(),
        }

    def to_json(self, *, with_job: bool) -> JSON:
        """The full Allocation; event payloads leave the embedded Job out, as Nomad does."""
        return {
            **self._common(),
            "Job": self.job if with_job else None,
            "TaskGroup": self.task_group,
            "Resources": None,
            "AllocatedResources": None,
            "Metrics": None,
            **self._state(),
            "AllocStates": None,
            "PreviousAllocation": self.previous_allocation,
            "DeploymentID": self.deployment_id,
            "NetworkStatus": None,
            "AllocModifyIndex": self.alloc_modify_index,
            **self._indexes(),
        }


@dataclass
class DeploymentState:
    desired_total: int
    auto_revert: bool = False
    auto_promote: bool = False
    progress_deadline_ns: int = 0
    require_progress_by_ns: int = 0
    placed_allocs: int = 0
    healthy_allocs: int = 0
    unhealthy_allocs: int = 0

    def to_json(self) -> JSON:
        return {
            "AutoRevert": self.auto_revert,
            "AutoPromote": self.auto_promote,
            "ProgressDeadline": self.progress_deadline_ns,
            "RequireProgressBy": rfc3339(self.require_progress_by_ns),
            "Promoted": False,
            "PlacedCanaries": None,
            "DesiredCanaries": 0,
            "DesiredTotal": self.desired_total,
            "PlacedAllocs": self.placed_allocs,
            "HealthyAllocs": self.healthy_allocs,
            "UnhealthyAllocs": self.unhealthy_allocs,
        }


@dataclass
class Deployment:
    id: str
    namespace: str
    job_id: str
    job_version: int
    job_modify_index: int
    job_spec_modify_index: int
    job_create_index: int
    task_groups: dict[str, DeploymentState]
    eval_priority: int = 50
    status: str = DEPLOYMENT_RUNNING
    status_description: str = "Deployment is running"
    create_index: int = 0
    modify_index: int = 0
    create_time: int = field(default_factory=now_ns)
    modify_time: int = field(default_factory=now_ns)

    @property
    def active(self) -> bool:
        return self.status in DEPLOYMENT_ACTIVE

    def to_json(self) -> JSON:
        return {
            "ID": self.id,
            "Namespace": self.namespace,
            "JobID": self.job_id,
            "JobVersion": self.job_version,
            "JobModifyIndex": self.job_modify_index,
            "JobSpecModifyIndex": self.job_spec_modify_index,
            "JobCreateIndex": self.job_create_index,
            "IsMultiregion": False,
            "TaskGroups": {name: s.to_json() for name, s in self.task_groups.items()},
            "Status": self.status,
            "StatusDescription": self.status_description,
            "EvalPriority": self.eval_priority,
            "CreateIndex": self.create_index,
            "ModifyIndex": self.modify_index,
            "CreateTime": self.create_time,
            "ModifyTime": self.modify_time,
        }
