"""The simulator for synchronous clients: served from a thread, and as `nomad-bridge sim`."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
from pathlib import Path

import aiohttp
import nomad
import pytest
from nomad.api.exceptions import (
    URLNotFoundNomadException,
    VariableConflict,
)

from nomad_bridge.sim import SimServer, Simulator, ThreadHandle
from nomad_bridge.sim.testing import service_job

REPO = Path(__file__).resolve().parents[2]
SEED_DIR = REPO / "deploy" / "jobs"
SEEDED = ["cache", "game-server", "metrics-agent", "nightly-report", "web"]
STARTUP_TIMEOUT_S = 20.0


def client_for(url: str) -> nomad.Nomad:
    return nomad.Nomad(address=url, timeout=5)


def test_python_nomad_lists_registers_and_reads(threaded_sim: ThreadHandle) -> None:
    """python-nomad (a synchronous `requests` client) works against the threaded server:
    register, list, read the summary, stop; a missing job raises its 404 exception."""
    client = client_for(threaded_sim.url)
    response = client.jobs.register_job({"Job": service_job("web", web=2)})
    assert response["JobModifyIndex"] == response["EvalCreateIndex"] > 0
    assert [j["ID"] for j in client.jobs.get_jobs()] == ["web"]
    assert client.job.get_summary("web")["Summary"]["web"]["Queued"] == 0
    client.job.deregister_job("web")
    assert client.job.get_job("web")["Stop"] is True
    with pytest.raises(URLNotFoundNomadException):
        client.job.get_job("missing")


def test_python_nomad_variables_and_cas_conflict(threaded_sim: ThreadHandle) -> None:
    """Variables with `cas`: a stale index is a 409, which python-nomad raises as
    VariableConflict."""
    client = client_for(threaded_sim.url)
    created = client.variable.create_variable("app/config", {"Items": {"k": "v"}}, cas=0)
    assert created["Items"] == {"k": "v"}
    with pytest.raises(VariableConflict):
        client.variable.create_variable("app/config", {"Items": {"k": "w"}}, cas=0)
    assert client.variable.get_variable("app/config")["Items"] == {"k": "v"}


def test_handle_call_runs_on_the_simulator_loop(threaded_sim: ThreadHandle) -> None:
    """`handle.call(fn)` runs `fn(sim)` on the simulator's own loop and returns its result
    (awaiting it when it is a coroutine)."""

    def register(sim: Simulator) -> int:
        return int(sim.register_job_spec(service_job("web"))["Index"])

    async def jobs(sim: Simulator) -> list[str]:
        return sorted(job_id for _, job_id in sim.store.jobs)

    assert threaded_sim.call(register) > 0
    assert threaded_sim.call(jobs) == ["web"]
    threaded_sim.call(lambda sim: sim.controls.set_outage("unavailable"))
    client = client_for(threaded_sim.url)
    with pytest.raises(nomad.api.exceptions.BaseNomadException):
        client.jobs.get_jobs()
    threaded_sim.call(lambda sim: sim.controls.set_outage(None))
    assert len(client.jobs.get_jobs()) == 1


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_listening(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        assert process.poll() is None, "simulator exited early"
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listening on {port}")


def test_cli_sim_serves_seeded_jobs_to_python_nomad() -> None:
    """`nomad-bridge sim --host 127.0.0.1 --port P --seed deploy/jobs` is a Nomad API that
    ordinary clients use; SIGTERM stops it cleanly (exit 0)."""
    port = _free_port()
    command = [
        sys.executable,
        "-m",
        "nomad_bridge",
        "sim",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--seed",
        str(SEED_DIR),
    ]
    process = subprocess.Popen(
        command,
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        _wait_listening(port, process)
        client = nomad.Nomad(host="127.0.0.1", port=port, timeout=5)
        assert [job["ID"] for job in client.jobs.get_jobs()] == SEEDED
        assert client.job.get_job("web")["TaskGroups"][0]["Name"] == "frontend"
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=STARTUP_TIMEOUT_S)
    assert process.returncode == 0, output.decode(errors="replace")


@pytest.fixture
def tls_files(tmp_path: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and its key."""
    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl CLI")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


async def test_sim_server_speaks_https_with_an_ssl_context(
    simulator: Simulator, tls_files: tuple[Path, Path]
) -> None:
    """With `ssl_context`, SimServer serves HTTPS (as a Nomad with `tls.http = true`)."""
    cert, key = tls_files
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_ctx.load_cert_chain(cert, key)
    client_ctx = ssl.create_default_context(cafile=str(cert))
    server = SimServer(simulator)
    await server.start(ssl_context=server_ctx)
    try:
        assert server.url.startswith("https://127.0.0.1:")
        async with (
            aiohttp.ClientSession() as http,
            http.get(f"{server.url}/v1/regions", ssl=client_ctx) as resp,
        ):
            assert (resp.status, await resp.json()) == (200, ["global"])
    finally:
        await server.stop()
