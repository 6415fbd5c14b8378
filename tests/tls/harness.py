"""What the TLS tests share besides tests/support.py: the PKI they build, how the simulator
is served over HTTPS, and a client that lists jobs with one try per request."""

from __future__ import annotations

import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import trustme

from nomad_bridge.nomad import NomadClient, NomadSettings, RetryPolicy
from nomad_bridge.sim import SimServer

NOMAD_SERVER_NAME = "server.global.nomad"  # what `nomad tls cert create -server` issues
TIMEOUT_S = 5.0
ONE_TRY = RetryPolicy(attempts=1)

ServeHttps = Callable[[ssl.SSLContext], Awaitable[SimServer]]
"""The `serve_https` fixture: serve the simulator over HTTPS with a server context."""


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
