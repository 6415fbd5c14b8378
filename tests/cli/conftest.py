"""Fixtures for the operator CLI: the simulator in its own thread, the NOMAD_* environment
pointing at it, and `run_cli`, which runs `nomad-bridge jobs ...` in-process."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import nomad
import pytest

from nomad_bridge.cli import main
from nomad_bridge.sim import ThreadHandle
from nomad_bridge.sim.testing import job_status, service_job, summary_of, wait_until

ENVIRONMENT_PREFIXES = ("NOMAD_", "BRIDGE_")


@dataclass(frozen=True)
class Result:
    """What the command did: its exit code and what it printed."""

    code: int
    out: str
    err: str


RunCli = Callable[..., Result]


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI reads NOMAD_* and BRIDGE_*: nothing from the machine running the tests."""
    for name in list(os.environ):
        if name.startswith(ENVIRONMENT_PREFIXES):
            monkeypatch.delenv(name)


@pytest.fixture
def nomad_env(threaded_sim: ThreadHandle, monkeypatch: pytest.MonkeyPatch) -> ThreadHandle:
    monkeypatch.setenv("NOMAD_ADDR", threaded_sim.url)
    return threaded_sim


@pytest.fixture
def run_cli(nomad_env: ThreadHandle, capsys: pytest.CaptureFixture[str]) -> RunCli:
    """`run_cli("ls", "--json")` runs `nomad-bridge jobs ls --json` against the simulator."""

    def run(*args: str) -> Result:
        capsys.readouterr()
        code = main(["jobs", *args])
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return run


@pytest.fixture
def client(nomad_env: ThreadHandle) -> nomad.Nomad:
    """python-nomad on the simulator, to set up and inspect what the CLI did."""
    return nomad.Nomad(address=nomad_env.url, timeout=5)


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


__all__ = ["Result", "RunCli", "register", "service_job", "wait_running"]
