"""The same TLS behaviours, configured only through the NOMAD_* environment, as an operator
configures the bridge (and Nomad's own CLI)."""

from __future__ import annotations

import shutil

import pytest

from nomad_bridge.nomad import NomadSettings
from nomad_bridge.nomad.errors import TLSFailure
from tests.tls.harness import NOMAD_SERVER_NAME, Pki, ServeHttps, job_ids


def use_environment(monkeypatch: pytest.MonkeyPatch, **variables: object) -> None:
    for name, value in variables.items():
        monkeypatch.setenv(f"NOMAD_{name}", str(value))


async def test_nomad_cacert_from_the_environment_verifies_nomad(
    pki: Pki, serve_https: ServeHttps, web_job: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = await serve_https(pki.server_context("127.0.0.1"))
    use_environment(monkeypatch, ADDR=server.url, CACERT=pki.ca_file)

    assert await job_ids(NomadSettings()) == [web_job]


async def test_a_wrong_nomad_cacert_from_the_environment_is_refused(
    pki: Pki, serve_https: ServeHttps, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = await serve_https(pki.server_context("127.0.0.1"))
    use_environment(monkeypatch, ADDR=server.url, CACERT=pki.wrong_ca_file)

    with pytest.raises(TLSFailure, match="could not be verified"):
        await job_ids(NomadSettings())


async def test_nomad_capath_from_the_environment_verifies_nomad(
    pki: Pki, serve_https: ServeHttps, web_job: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    capath = pki.directory / "cas"
    capath.mkdir()
    shutil.copy(pki.ca_file, capath / "agent-ca.pem")
    server = await serve_https(pki.server_context("127.0.0.1"))
    use_environment(monkeypatch, ADDR=server.url, CAPATH=capath)

    assert await job_ids(NomadSettings()) == [web_job]


async def test_nomad_tls_server_name_from_the_environment_names_nomads_certificate(
    pki: Pki, serve_https: ServeHttps, web_job: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = await serve_https(pki.server_context(NOMAD_SERVER_NAME))
    use_environment(
        monkeypatch, ADDR=server.url, CACERT=pki.ca_file, TLS_SERVER_NAME=NOMAD_SERVER_NAME
    )

    assert await job_ids(NomadSettings()) == [web_job]


async def test_without_nomad_tls_server_name_the_address_must_match_the_certificate(
    pki: Pki, serve_https: ServeHttps, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = await serve_https(pki.server_context(NOMAD_SERVER_NAME))
    use_environment(monkeypatch, ADDR=server.url, CACERT=pki.ca_file)

    with pytest.raises(TLSFailure, match="could not be verified"):
        await job_ids(NomadSettings())


async def test_nomad_client_cert_and_key_from_the_environment_satisfy_mtls(
    pki: Pki, serve_https: ServeHttps, web_job: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = await serve_https(pki.server_context("127.0.0.1", client_ca=pki.ca))
    use_environment(
        monkeypatch,
        ADDR=server.url,
        CACERT=pki.ca_file,
        CLIENT_CERT=pki.client_cert,
        CLIENT_KEY=pki.client_key,
    )

    assert await job_ids(NomadSettings()) == [web_job]


async def test_without_nomad_client_cert_an_mtls_nomad_refuses_the_handshake(
    pki: Pki, serve_https: ServeHttps, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = await serve_https(pki.server_context("127.0.0.1", client_ca=pki.ca))
    use_environment(monkeypatch, ADDR=server.url, CACERT=pki.ca_file)

    with pytest.raises(TLSFailure, match="refused the TLS handshake"):
        await job_ids(NomadSettings())


@pytest.mark.parametrize("value", ["true", "1", "TRUE", "t"])
async def test_nomad_skip_verify_from_the_environment_trusts_any_certificate(
    pki: Pki,
    serve_https: ServeHttps,
    web_job: str,
    monkeypatch: pytest.MonkeyPatch,
    value: str,
) -> None:
    server = await serve_https(pki.server_context("127.0.0.1"))
    use_environment(monkeypatch, ADDR=server.url, CACERT=pki.wrong_ca_file, SKIP_VERIFY=value)

    assert await job_ids(NomadSettings()) == [web_job]


@pytest.mark.parametrize("value", ["false", "0", "", "False"])
async def test_nomad_skip_verify_false_or_empty_keeps_verifying(
    pki: Pki, serve_https: ServeHttps, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    server = await serve_https(pki.server_context("127.0.0.1"))
    use_environment(monkeypatch, ADDR=server.url, CACERT=pki.wrong_ca_file, SKIP_VERIFY=value)

    with pytest.raises(TLSFailure, match="could not be verified"):
        await job_ids(NomadSettings())


async def test_mtls_with_every_variable_from_the_environment(
    pki: Pki, serve_https: ServeHttps, web_job: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = await serve_https(pki.server_context(NOMAD_SERVER_NAME, client_ca=pki.ca))
    use_environment(
        monkeypatch,
        ADDR=server.url,
        CACERT=pki.ca_file,
        CLIENT_CERT=pki.client_cert,
        CLIENT_KEY=pki.client_key,
        TLS_SERVER_NAME=NOMAD_SERVER_NAME,
        SKIP_VERIFY="false",
    )

    assert await job_ids(NomadSettings()) == [web_job]
