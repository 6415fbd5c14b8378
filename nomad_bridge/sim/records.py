"""The records Nomad keeps next to jobs: summaries, scaling events, and variables."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from nomad_bridge.sim.models import JSON


@dataclass
class TaskGroupSummary:
    queued: int = 0
    complete: int = 0
    failed: int = 0
    running: int = 0
    starting: int = 0
    lost: int = 0
    unknown: int = 0

    def to_json(self) -> JSON:
        return {
            "Queued": self.queued,
            "Complete": self.complete,
            "Failed": self.failed,
            "Running": self.running,
            "Starting": self.starting,
            "Lost": self.lost,
            "Unknown": self.unknown,
        }


@dataclass
class JobSummary:
    job_id: str
    namespace: str
    summary: dict[str, TaskGroupSummary] = field(default_factory=dict)
    children_pending: int = 0
    children_running: int = 0
    children_dead: int = 0
    create_index: int = 0
    modify_index: int = 0

    def to_json(self) -> JSON:
        return {
            "JobID": self.job_id,
            "Namespace": self.namespace,
            "Summary": {name: s.to_json() for name, s in self.summary.items()},
            "Children": {
                "Pending": self.children_pending,
                "Running": self.children_running,
                "Dead": self.children_dead,
            },
            "CreateIndex": self.create_index,
            "ModifyIndex": self.modify_index,
        }


@dataclass
class ScalingEvent:
    time_ns: int
    previous_count: int
    count: int | None
    message: str
    error: bool
    meta: dict[str, Any] | None
    eval_id: str | None
    create_index: int

    def to_json(self) -> JSON:
        return {
            "Time": self.time_ns,
            "Count": self.count,
            "PreviousCount": self.previous_count,
            "Message": self.message,
            "Error": self.error,
            "Meta": self.meta,
            "EvalID": self.eval_id,
            "CreateIndex": self.create_index,
        }


@dataclass
class JobScalingEvents:
    events: dict[str, list[ScalingEvent]] = field(default_factory=dict)
    modify_index: int = 0


@dataclass
class Variable:
    namespace: str
    path: str
    items: dict[str, str]
    create_index: int = 0
    modify_index: int = 0
    create_time: int = 0
    modify_time: int = 0

    def metadata(self) -> JSON:
        return {
            "Namespace": self.namespace,
            "Path": self.path,
            "CreateIndex": self.create_index,
            "ModifyIndex": self.modify_index,
            "CreateTime": self.create_time,
            "ModifyTime": self.modify_time,
        }

    def to_json(self) -> JSON:
        return {**self.metadata(), "Items": dict(self.items)}
