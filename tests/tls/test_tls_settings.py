"""TLS settings read as Nomad's Go client reads them, and refused clearly when unusable."""

from __future__ import annotations

from pathlib import Path

import pytest
import trustme
from cryptography.hazmat.primitives import serialization
from pydantic import ValidationError

from nomad_bridge.nomad import NomadSettings
from tests.tls.harness import Pki

HTTPS = "https://nomad.example:4646"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        *[(value, True) for value in ["1", "t", "T", "TRUE", "true", "True"]],
        *[(value, False) for value in ["0", "f", "F", "FALSE", "false", "False"]],
    ],
)
def test_nomad_skip_verify_is_read_as_gos_parse_bool(
    monkeypatch: pytest.MonkeyPatch, value: str, expected: bool
) -> None:
    monkeypatch.setenv("NOMAD_SKIP_VERIFY", value)
    assert NomadSettings().skip_verify is expected


@pytest.mark.parametrize("value", ["yes", "on", "y", "enabled", " true"])
def test_a_nomad_skip_verify_go_cannot_parse_is_refused_rather_than_guessed(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    # Nomad ignores such a value and keeps verifying; the bridge says so instead of guessing.
    monkeypatch.setenv("NOMAD_SKIP_VERIFY", value)
    with pytest.raises(ValidationError, match="NOMAD_SKIP_VERIFY must be true or false"):
        NomadSettings()


def test_a_missing_ca_file_is_refused_naming_nomad_cacert(tmp_path: Path) -> None:
    settings = NomadSettings(addr=HTTPS, cacert=tmp_path / "absent.pem")
    with pytest.raises(ValueError, match=r"NOMAD_CACERT: .*absent\.pem: No such file"):
        settings.ssl_context()


def test_a_ca_file_without_a_certificate_is_refused(pki: Pki) -> None:
    settings = NomadSettings(addr=HTTPS, cacert=pki.client_key)
    with pytest.raises(ValueError, match="NOMAD_CACERT: no usable CA certificate in"):
        settings.ssl_context()


def test_a_ca_directory_with_a_file_that_is_not_a_certificate_is_refused(pki: Pki) -> None:
    capath = pki.directory / "cas"
    capath.mkdir()
    (capath / "agent-ca.pem").write_bytes(pki.ca_file.read_bytes())
    (capath / "README").write_text("not a certificate\n")
    settings = NomadSettings(addr=HTTPS, capath=capath)
    with pytest.raises(ValueError, match=r"NOMAD_CAPATH: no usable CA certificate in .*README"):
        settings.ssl_context()


@pytest.mark.parametrize(("make", "problem"), [(True, "holds no"), (False, "not a directory")])
def test_an_empty_or_missing_ca_directory_is_refused(
    tmp_path: Path, make: bool, problem: str
) -> None:
    capath = tmp_path / "cas"
    if make:
        capath.mkdir()
    with pytest.raises(ValueError, match=f"NOMAD_CAPATH: .*{problem}"):
        NomadSettings(addr=HTTPS, capath=capath).ssl_context()


def test_an_encrypted_client_key_is_refused_not_prompted_for(pki: Pki) -> None:
    key = serialization.load_pem_private_key(pki.client_key.read_bytes(), password=None)
    encrypted = pki.directory / "encrypted-key.pem"
    encrypted.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"passphrase"),
        )
    )
    settings = NomadSettings(addr=HTTPS, client_cert=pki.client_cert, client_key=encrypted)
    with pytest.raises(ValueError, match=r"NOMAD_CLIENT_KEY: .*unencrypted PEM key"):
        settings.ssl_context()


def test_a_client_key_that_is_not_the_certificates_is_refused(pki: Pki) -> None:
    other = trustme.CA().issue_cert("someone-else")
    other_key = pki.directory / "other-key.pem"
    other.private_key_pem.write_to_path(other_key)
    settings = NomadSettings(addr=HTTPS, client_cert=pki.client_cert, client_key=other_key)
    with pytest.raises(ValueError, match="NOMAD_CLIENT_CERT / NOMAD_CLIENT_KEY: cannot load"):
        settings.ssl_context()
