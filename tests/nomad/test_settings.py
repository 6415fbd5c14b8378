"""NomadSettings: read from the standard NOMAD_* environment, token kept secret."""

from __future__ import annotations

import ssl
from pathlib import Path

import pytest
from pydantic import ValidationError

from nomad_bridge.nomad import NomadSettings
from tests.support import clear_environment

TOKEN = "8c1b2a5e-secret-token-value"


@pytest.fixture(autouse=True)
def clean_nomad_env(monkeypatch: pytest.MonkeyPatch) -> None:
    clear_environment(monkeypatch)


def test_defaults_are_nomads_own() -> None:
    settings = NomadSettings()
    assert settings.addr == "http://127.0.0.1:4646"
    assert settings.token is None
    assert settings.region is None
    assert settings.namespace == "default"
    assert settings.skip_verify is False
    assert settings.ssl_context() is None


def test_settings_come_from_the_nomad_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NOMAD_ADDR", "https://nomad.example:4646")
    monkeypatch.setenv("NOMAD_TOKEN", TOKEN)
    monkeypatch.setenv("NOMAD_REGION", "eu")
    monkeypatch.setenv("NOMAD_NAMESPACE", "games")
    monkeypatch.setenv("NOMAD_CACERT", "/etc/nomad/ca.pem")
    monkeypatch.setenv("NOMAD_CLIENT_CERT", "/etc/nomad/cli.pem")
    monkeypatch.setenv("NOMAD_CLIENT_KEY", "/etc/nomad/cli-key.pem")
    monkeypatch.setenv("NOMAD_SKIP_VERIFY", "true")
    monkeypatch.setenv("NOMAD_TLS_SERVER_NAME", "server.global.nomad")

    settings = NomadSettings()

    assert settings.addr == "https://nomad.example:4646"
    assert settings.token is not None
    assert settings.token.get_secret_value() == TOKEN
    assert settings.region == "eu"
    assert settings.namespace == "games"
    assert settings.cacert == Path("/etc/nomad/ca.pem")
    assert settings.client_cert == Path("/etc/nomad/cli.pem")
    assert settings.client_key == Path("/etc/nomad/cli-key.pem")
    assert settings.skip_verify is True
    assert settings.tls_server_name == "server.global.nomad"


def test_an_empty_token_variable_means_no_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NOMAD_TOKEN", "")
    assert NomadSettings().token is None


def test_token_never_in_repr_or_str(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NOMAD_TOKEN", TOKEN)
    settings = NomadSettings()
    assert TOKEN not in repr(settings)
    assert TOKEN not in str(settings)
    assert TOKEN not in repr(settings.model_dump())


@pytest.mark.parametrize("addr", ["nomad:4646", "ftp://nomad"])
def test_an_address_that_is_not_http_or_a_unix_socket_is_refused(addr: str) -> None:
    with pytest.raises(ValidationError):
        NomadSettings(addr=addr)


def test_https_gets_a_verifying_context() -> None:
    context = NomadSettings(addr="https://nomad.example").ssl_context()
    assert isinstance(context, ssl.SSLContext)
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname is True


def test_skip_verify_turns_verification_off() -> None:
    context = NomadSettings(addr="https://nomad.example", skip_verify=True).ssl_context()
    assert context is not None
    assert context.verify_mode == ssl.CERT_NONE
    assert context.check_hostname is False


def test_a_client_certificate_needs_its_key() -> None:
    settings = NomadSettings(addr="https://nomad.example", client_cert=Path("/x/cert.pem"))
    with pytest.raises(ValueError, match="together"):
        settings.ssl_context()
