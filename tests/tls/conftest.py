"""Fixtures for TLS to Nomad: a private CA (trustme), the simulator serving HTTPS on loopback,
and the real client configured the way an operator configures it (PEM files, NOMAD_*)."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import trustme

from nomad_bridge.nomad import NomadClient, NomadSettings, RetryPolicy
from nomad_bridge.sim import SimServer, Simulator

NOMAD_SERVER_NAME = "server.global.nomad"  # what `nomad tls cert create -server` issues
TIMEOUT_S = 5.0
WAIT_TIMEOUT_S = 10.0
POLL_INTERVAL_S = 0.02
ONE_TRY = RetryPolicy(attempts=1)
NOMAD_VARIABLES = (
    "ADDR",
    "TOKEN",
    "REGION",
    "NAMESPACE",
    "CACERT",
    "CAPATH",
    "CLIENT_CERT",
    "CLIENT_KEY",
    "SKIP_VERIFY",
    "TLS_SERVER_NAME",
)


@pytest.fixture(autouse=True)
def clean_nomad_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """NomadSettings reads NOMAD_*: the environment running the tests must not leak in."""
    for name in NOMAD_VARIABLES:
        monkeypatch.delenv(f"NOMAD_{name}", raising=False)


@dataclass(frozen=True)
class Pki:
    """Nomad's CA, a CA that signed nothing here, and a client certificate, as PEM files."""

    ca: trustme.CA
    ca_file: Path
    wrong_ca_file: Path
    client_cert: Path
    client_key: Path
    directory: Path

    def server_context(self, *names: str, client_ca: trustme.CA | None = None) -> ssl.SSLContext:
        """Nomad's side: a certificate for `names`; with `client_ca`, mTLS is required."""
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.ca.issue_cert(*names).configure_cert(context)
        if client_ca is not None:
            context.verify_mode = ssl.CERT_REQUIRED
            client_ca.configure_trust(context)
        return context


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


ServeHttps = Callable[[ssl.SSLContext], Awaitable[SimServer]]


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
    simulator.register_job_spec(
        {
            "ID": "web",
            "Name": "web",
            "Type": "service",
            "Datacenters": ["dc1"],
            "TaskGroups": [
                {
                    "Name": "main",
                    "Count": 1,
                    "Tasks": [{"Name": "main", "Driver": "docker", "Config": {"image": "busybox"}}],
                }
            ],
        }
    )
    return "web"


async def wait_until(
    condition: Callable[[], Awaitable[bool]], timeout_s: float = WAIT_TIMEOUT_S
) -> None:
    """Poll a condition until it holds; fail the test if it does not within the timeout."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while not await condition():
        if loop.time() > deadline:
            pytest.fail(f"condition not met within {timeout_s} s")
        await asyncio.sleep(POLL_INTERVAL_S)


async def job_ids(settings: NomadSettings, **options: Any) -> list[str]:
    """List jobs with a fresh client on `settings`, one try per request."""
    merged: dict[str, Any] = {"timeout_s": TIMEOUT_S, "retry": ONE_TRY, **options}
    async with NomadClient(settings, **merged) as nomad:
        listing = await nomad.list_jobs()
    return [job.id for job in listing.value]


def record_server_names(context: ssl.SSLContext) -> list[str]:
    """The server names (SNI) clients send to `context`, as its handshakes see them."""
    seen: list[str] = []

    def note(_sock: Any, name: str | None, _context: ssl.SSLContext) -> None:
        seen.append(name or "")

    context.sni_callback = note
    return seen
