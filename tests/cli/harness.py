"""What the operator CLI tests share besides tests/support.py: what a command did, and how
the simulator behind it (in its own thread) is set up and inspected."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import nomad

from nomad_bridge.sim import ThreadHandle
from nomad_bridge.sim.testing import job_status, summary_of, wait_until


@dataclass(frozen=True)
class Result:
    """What the command did: its exit code and what it printed."""

    code: int
    out: str
    err: str


RunCli = Callable[..., Result]
"""The `run_cli` fixture: `run_cli("ls", "--json")` runs `nomad-bridge jobs ls --json`."""


def register(client: nomad.Nomad, job: dict[str, Any], **meta: str) -> None:
    if meta:
        job = {**job, "Meta": meta}
    client.jobs.register_job({"Job": job})


def wait_running(handle: ThreadHandle, job_id: str) -> None:
    """Wait until every allocation of the job is running (none queued or starting)."""

    def settled(sim: Any) -> bool:
        if job_status(sim, job_id) != "running":
            return False
        groups = summary_of(sim, job_id).values()
        return all(g["Starting"] == 0 and g["Queued"] == 0 for g in groups)

    handle.call(lambda sim: wait_until(sim, lambda: settled(sim)))


def garbage_collect(handle: ThreadHandle, job_id: str) -> None:
    """Stop the job and force GC until Nomad has forgotten it (its allocations finished)."""
    handle.call(lambda sim: sim.jobs.deregister(job_id, namespace="default", purge=False))
    handle.call(lambda sim: wait_until(sim, lambda: job_id in sim.controls.garbage_collect()))
