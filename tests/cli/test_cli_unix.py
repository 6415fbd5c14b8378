"""`NOMAD_ADDR=unix:///path/api.sock` for the operator CLI, as Nomad's own CLI takes it, and
`nomad-bridge sim --unix PATH`, the simulator listening there."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from nomad_bridge.sim import Simulator, ThreadHandle, serve_in_thread
from nomad_bridge.sim.testing import service_job
from tests.cli.harness import RunCli, wait_running

REPO = Path(__file__).resolve().parents[2]
SIM_START_TIMEOUT_S = 30.0


@pytest.fixture
def threaded_sim(simulator: Simulator, unix_socket_path: Path) -> Iterator[ThreadHandle]:
    """The simulator on a unix socket, in its own thread: `nomad_env` sets NOMAD_ADDR to it."""
    with serve_in_thread(simulator, unix=unix_socket_path) as handle:
        yield handle


def test_jobs_ls_reads_nomad_over_its_unix_socket(run_cli: RunCli, nomad_env: ThreadHandle) -> None:
    assert nomad_env.url.startswith("unix:///")
    nomad_env.call(lambda sim: sim.register_job_spec(service_job("web", frontend=2)))
    wait_running(nomad_env, "web")

    result = run_cli("ls")

    assert result.code == 0, result.err
    assert result.out.splitlines()[1].split(maxsplit=4) == [
        "web",
        "running",
        "false",
        "false",
        "frontend=2 (2 running)",
    ]


def test_jobs_flags_writes_to_nomad_over_its_unix_socket(
    run_cli: RunCli, nomad_env: ThreadHandle
) -> None:
    nomad_env.call(lambda sim: sim.register_job_spec(service_job("web")))

    result = run_cli("flags", "web", "autostart=yes")

    assert result.code == 0, result.err
    meta = nomad_env.call(lambda sim: sim.store.jobs[("default", "web")])["Meta"]
    assert meta["autostart"] == "true"


def test_a_socket_nobody_listens_on_is_reported_with_its_address(
    run_cli: RunCli, unix_socket_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    gone = f"unix://{unix_socket_path.parent}/gone.sock"
    monkeypatch.setenv("NOMAD_ADDR", gone)

    result = run_cli("ls")

    assert result.code == 1
    assert f"cannot reach Nomad at {gone}" in result.err


@pytest.fixture
def sim_process(unix_socket_path: Path) -> Iterator[str]:
    """`nomad-bridge sim --unix PATH` as its own process; its NOMAD_ADDR once it listens."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NOMAD_", "BRIDGE_"))}
    process = subprocess.Popen(
        [sys.executable, "-m", "nomad_bridge", "sim", "--unix", str(unix_socket_path)],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        stdout = process.stdout
        assert stdout is not None
        first_line: list[str] = []
        reader = threading.Thread(target=lambda: first_line.append(stdout.readline()), daemon=True)
        reader.start()
        reader.join(SIM_START_TIMEOUT_S)
        assert first_line, "the simulator did not start in time"
        assert first_line[0].strip() == f"Nomad simulator listening on unix://{unix_socket_path}"
        yield f"unix://{unix_socket_path}"
    finally:
        process.terminate()
        process.wait(SIM_START_TIMEOUT_S)


def test_nomad_bridge_sim_listens_on_a_unix_socket_for_the_cli(
    sim_process: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from nomad_bridge.cli import main

    monkeypatch.setenv("NOMAD_ADDR", sim_process)

    code = main(["jobs", "ls", "--json"])

    assert code == 0, capsys.readouterr().err
    assert capsys.readouterr().out.strip() == "[]"
