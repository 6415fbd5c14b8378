"""The CLI reaches Nomad as Nomad's own CLI would from the same NOMAD_* environment,
including the TLS settings python-nomad does not read itself."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme

from nomad_bridge.nomad.settings import NomadSettings
from nomad_bridge.operator.connect import connect, tls_options
from nomad_bridge.operator.errors import UsageError
from nomad_bridge.sim import SimConfig, Simulator, ThreadHandle, serve_in_thread
from tests.cli.harness import RunCli

SERVER_NAME = "server.global.nomad"  # what `nomad tls cert create -server` issues


def settings(**env: str) -> NomadSettings:
    return NomadSettings(**env)  # type: ignore[arg-type]


def test_https_verifies_with_the_system_cas_by_default() -> None:
    assert tls_options(settings(addr="https://nomad:4646")) == (True, ())


def test_nomad_cacert_is_the_ca_bundle_to_verify_with() -> None:
    assert tls_options(settings(cacert="/etc/nomad/ca.pem")) == ("/etc/nomad/ca.pem", ())


def test_nomad_skip_verify_turns_verification_off_even_with_a_ca() -> None:
    verify, _ = tls_options(settings(cacert="/etc/nomad/ca.pem", skip_verify="true"))
    assert verify is False


def test_the_client_certificate_and_key_go_together() -> None:
    both = settings(client_cert="/c.pem", client_key="/k.pem")
    assert tls_options(both) == (True, ("/c.pem", "/k.pem"))
    with pytest.raises(UsageError, match="must be given together"):
        tls_options(settings(client_cert="/c.pem"))


def test_the_client_carries_address_namespace_region_and_timeout() -> None:
    api = connect(settings(addr="http://nomad:4646/", namespace="apps", region="eu"), timeout_s=7.5)
    requester = api.jobs
    assert (requester.address, requester.namespace, requester.region) == (
        "http://nomad:4646",
        "apps",
        "eu",
    )
    assert (requester.timeout, requester.verify) == (7.5, True)


@pytest.fixture
def https_sim(sim_config: SimConfig, tmp_path: Path) -> Iterator[tuple[ThreadHandle, Path]]:
    """Another simulator, over HTTPS, with a certificate for Nomad's server name only."""
    ca = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(SERVER_NAME).configure_cert(context)
    ca_file = tmp_path / "nomad-ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    with serve_in_thread(Simulator(sim_config), ssl_context=context) as handle:
        yield handle, ca_file


def test_tls_with_nomad_cacert_and_tls_server_name(
    https_sim: tuple[ThreadHandle, Path], monkeypatch: pytest.MonkeyPatch, run_cli: RunCli
) -> None:
    handle, ca_file = https_sim
    monkeypatch.setenv("NOMAD_ADDR", handle.url)
    monkeypatch.setenv("NOMAD_CACERT", str(ca_file))
    monkeypatch.setenv("NOMAD_TLS_SERVER_NAME", SERVER_NAME)

    assert run_cli("ls").code == 0


def test_tls_server_name_is_the_name_verified(
    https_sim: tuple[ThreadHandle, Path], monkeypatch: pytest.MonkeyPatch, run_cli: RunCli
) -> None:
    """The certificate names server.global.nomad, not 127.0.0.1: without
    NOMAD_TLS_SERVER_NAME the right CA is not enough."""
    handle, ca_file = https_sim
    monkeypatch.setenv("NOMAD_ADDR", handle.url)
    monkeypatch.setenv("NOMAD_CACERT", str(ca_file))

    result = run_cli("ls")

    assert result.code == 1
    assert "CERTIFICATE_VERIFY_FAILED" in result.err


def test_tls_without_the_ca_fails_with_a_certificate_error(
    https_sim: tuple[ThreadHandle, Path], monkeypatch: pytest.MonkeyPatch, run_cli: RunCli
) -> None:
    handle, _ = https_sim
    monkeypatch.setenv("NOMAD_ADDR", handle.url)
    monkeypatch.setenv("NOMAD_TLS_SERVER_NAME", SERVER_NAME)

    result = run_cli("ls")

    assert result.code == 1
    assert "CERTIFICATE_VERIFY_FAILED" in result.err


def test_tls_with_nomad_skip_verify(
    https_sim: tuple[ThreadHandle, Path], monkeypatch: pytest.MonkeyPatch, run_cli: RunCli
) -> None:
    handle, _ = https_sim
    monkeypatch.setenv("NOMAD_ADDR", handle.url)
    monkeypatch.setenv("NOMAD_SKIP_VERIFY", "1")

    assert run_cli("ls").code == 0
