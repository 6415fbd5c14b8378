"""Fixtures for TLS to Nomad: a private CA (trustme), the simulator serving HTTPS on loopback,
and the real client configured the way an operator configures it (PEM files, NOMAD_*)."""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import trustme

from nomad_bridge.sim import SimServer, Simulator
from tests.support import clear_environment, job_spec
from tests.tls.harness import Pki, ServeHttps


@pytest.fixture(autouse=True)
def clean_nomad_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """NomadSettings reads NOMAD_*: the environment running the tests must not leak in."""
    clear_environment(monkeypatch)


@pytest.fixture
def pki(tmp_path: Path) -> Pki:
    ca, wrong_ca = trustme.CA(), trustme.CA()
    client = ca.issue_cert("nomad-bridge.client.global.nomad")
    ca.cert_pem.write_to_path(tmp_path / "nomad-agent-ca.pem")
    wrong_ca.cert_pem.write_to_path(tmp_path / "other-ca.pem")
    client.cert_chain_pems[0].write_to_path(tmp_path / "cli.pem")
    client.private_key_pem.write_to_path(tmp_path / "cli-key.pem")
    return Pki(
        ca=ca,
        ca_file=tmp_path / "nomad-agent-ca.pem",
        wrong_ca_file=tmp_path / "other-ca.pem",
        client_cert=tmp_path / "cli.pem",
        client_key=tmp_path / "cli-key.pem",
        directory=tmp_path,
    )


@pytest.fixture
async def serve_https(simulator: Simulator) -> AsyncIterator[ServeHttps]:
    """Serve the simulator over HTTPS on 127.0.0.1 with a server context (once per test)."""
    servers: list[SimServer] = []

    async def serve(context: ssl.SSLContext) -> SimServer:
        assert not servers, "one simulator, one server"
        server = SimServer(simulator)
        await server.start("127.0.0.1", 0, ssl_context=context)
        servers.append(server)
        return server

    yield serve
    for server in servers:
        await server.stop()


@pytest.fixture
def web_job(simulator: Simulator) -> str:
    """A job in Nomad, so that listing over TLS has something to show."""
    simulator.register_job_spec(job_spec("web"))
    return "web"
