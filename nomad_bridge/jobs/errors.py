"""What can go wrong in the domain, independent of HTTP.

    BridgeError
    ├── JobNotFound           the job is not listed (unknown, a child job, another namespace)
    ├── TaskGroupNotFound     the job has no such task group
    ├── CountOutOfRange       the resulting count would be below 0 or above BRIDGE_MAX_COUNT
    ├── CountChangeConflict   check-and-set kept losing to other writers; retries ran out
    └── DefinitionTooLarge    a spec a Nomad variable cannot hold (`jobs.definitions`)

Nomad's own failures (`nomad_bridge.nomad.errors`) pass through the domain unchanged; the
API maps both families to problem+json in one place (`nomad_bridge.api.problems`).
"""

from __future__ import annotations


class BridgeError(Exception):
    """Base of the domain's errors; `str()` is the detail a client may read."""


class JobNotFound(BridgeError):
    """The job is not one the Cluster API lists."""

    def __init__(self, job_id: str) -> None:
        super().__init__(f"job {job_id!r} not found")
        self.job_id = job_id


class TaskGroupNotFound(BridgeError):
    """The job exists but has no task group of that name."""

    def __init__(self, job_id: str, group: str) -> None:
        super().__init__(f"job {job_id!r} has no task group {group!r}")
        self.job_id = job_id
        self.group = group


class CountOutOfRange(BridgeError):
    """The count asked for would be below zero or above `BRIDGE_MAX_COUNT` (Nomad itself
    refuses counts outside the group's scaling policy, with a 400 the client gets as is)."""


class CountChangeConflict(BridgeError):
    """Other writers changed the job on every attempt; nothing was changed by this request."""
