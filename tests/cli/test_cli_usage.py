"""The `jobs` command group as a command line: help everywhere, clear exit codes, and one
line on stderr for every failure (0 ok, 1 Nomad/operation error, 2 usage, 3 not found)."""

from __future__ import annotations

import socket
import subprocess
import sys

import pytest

from nomad_bridge.cli import main
from nomad_bridge.sim import ThreadHandle
from tests.cli.harness import RunCli

COMMANDS = ["ls", "flags", "import", "save-definitions", "forget"]


def test_python_m_nomad_bridge_jobs_help_lists_every_command() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "nomad_bridge", "jobs", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("usage: nomad-bridge jobs")
    for command in COMMANDS:
        assert command in done.stdout
    assert "3 job not found" in done.stdout.replace("\n", " ")


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["jobs", command, "--help"]) == 0
    assert capsys.readouterr().out.startswith(f"usage: nomad-bridge jobs {command}")


@pytest.mark.parametrize(
    "args",
    [["jobs"], ["jobs", "flags", "web"], ["jobs", "frobnicate"], ["jobs", "ls", "--yaml"]],
)
def test_bad_command_lines_exit_2(args: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(args) == 2
    assert "usage: nomad-bridge" in capsys.readouterr().err


def test_an_unreachable_nomad_exits_1_naming_the_address(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("NOMAD_ADDR", f"http://127.0.0.1:{port}")

    assert main(["jobs", "ls"]) == 1

    err = capsys.readouterr().err
    assert err.startswith(f"nomad-bridge: list jobs: cannot reach Nomad at http://127.0.0.1:{port}")
    assert err.count("\n") == 1


def test_a_nomad_error_exits_1_with_nomads_answer(run_cli: RunCli, nomad_env: ThreadHandle) -> None:
    nomad_env.call(lambda sim: sim.controls.set_outage("unavailable"))
    result = run_cli("ls")
    assert (result.code, result.err) == (
        1,
        "nomad-bridge: list jobs: Nomad answered 503: No cluster leader\n",
    )


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("NOMAD_ADDR", "ftp://nomad:4646", "NOMAD_ADDR: Value error, NOMAD_ADDR must be an http"),
        ("NOMAD_SKIP_VERIFY", "perhaps", "NOMAD_SKIP_VERIFY: Value error"),
        ("BRIDGE_NOMAD_TIMEOUT_S", "-1", "BRIDGE_NOMAD_TIMEOUT_S: Input should be greater"),
    ],
)
def test_unusable_settings_exit_2_naming_the_variable_not_its_value(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    name: str,
    value: str,
    message: str,
) -> None:
    monkeypatch.setenv(name, value)
    assert main(["jobs", "ls"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"nomad-bridge: {message}")
    assert value not in err.replace(f"{name}:", "")
