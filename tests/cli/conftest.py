"""Fixtures for the operator CLI: the simulator in its own thread, the NOMAD_* environment
pointing at it, and `run_cli`, which runs `nomad-bridge jobs ...` in-process."""

from __future__ import annotations

import nomad
import pytest

from nomad_bridge.cli import main
from nomad_bridge.sim import ThreadHandle
from tests.cli.harness import Result, RunCli
from tests.support import clear_environment


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI reads NOMAD_* and BRIDGE_*: nothing from the machine running the tests."""
    clear_environment(monkeypatch, "NOMAD_", "BRIDGE_")


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
