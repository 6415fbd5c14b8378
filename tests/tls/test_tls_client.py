"""TLS to Nomad with the real client against the simulator serving HTTPS, as Nomad's Go client
(`api.ConfigureTLS`) does it: CA file or directory, server name, mTLS, skip-verify."""

from __future__ import annotations

import shutil

import pytest
import trustme
from pydantic import SecretStr

from nomad_bridge.nomad import NomadSettings, Unavailable
from nomad_bridge.nomad.errors import TLSFailure
from nomad_bridge.sim import SimServer
from tests.tls.harness import NOMAD_SERVER_NAME, Pki, ServeHttps, job_ids, record_server_names

TOKEN = "5f0c9d3e-acl-secret-never-shown"


async def test_with_nomads_ca_the_client_lists_jobs_over_https(
    pki: Pki, serve_https: ServeHttps, web_job: str
) -> None:
    server = await serve_https(pki.server_context("127.0.0.1"))
    assert server.url.startswith("https://127.0.0.1:")

    assert await job_ids(NomadSettings(addr=server.url, cacert=pki.ca_file)) == [web_job]


async def test_a_certificate_from_another_ca_is_refused_as_not_verified(
    pki: Pki, serve_https: ServeHttps, web_job: str
) -> None:
    server = await serve_https(pki.server_context("127.0.0.1"))
    settings = NomadSettings(addr=server.url, cacert=pki.wrong_ca_file, token=SecretStr(TOKEN))

    with pytest.raises(Unavailable) as refused:
        await job_ids(settings)

    error = refused.value
    assert isinstance(error, TLSFailure)
    assert error.outcome == "tls_failure"
    assert "TLS certificate could not be verified" in str(error)
    assert "unable to get local issuer certificate" in str(error)
    assert "NOMAD_CACERT" in str(error)
    assert error.request_sent is False  # never reached Nomad: safe to repeat, even a write
    assert TOKEN not in str(error)
    assert TOKEN not in repr(error)


async def test_the_system_cas_do_not_trust_a_private_nomad_ca(
    pki: Pki, serve_https: ServeHttps
) -> None:
    server = await serve_https(pki.server_context("127.0.0.1"))

    with pytest.raises(TLSFailure, match="could not be verified"):
        await job_ids(NomadSettings(addr=server.url))


async def test_the_tls_server_name_is_verified_and_sent_while_connecting_to_the_address(
    pki: Pki, serve_https: ServeHttps, web_job: str
) -> None:
    context = pki.server_context(NOMAD_SERVER_NAME)  # no IP in the certificate, as Nomad's
    sent_names = record_server_names(context)
    server = await serve_https(context)
    settings = NomadSettings(addr=server.url, cacert=pki.ca_file, tls_server_name=NOMAD_SERVER_NAME)

    assert await job_ids(settings) == [web_job]
    assert sent_names == [NOMAD_SERVER_NAME]


async def test_without_the_tls_server_name_nomads_certificate_does_not_match_the_address(
    pki: Pki, serve_https: ServeHttps
) -> None:
    server = await serve_https(pki.server_context(NOMAD_SERVER_NAME))

    with pytest.raises(TLSFailure, match="could not be verified") as refused:
        await job_ids(NomadSettings(addr=server.url, cacert=pki.ca_file))
    assert "not valid for '127.0.0.1'" in str(refused.value)
    assert "NOMAD_TLS_SERVER_NAME" in str(refused.value)


async def test_a_wrong_tls_server_name_is_refused(pki: Pki, serve_https: ServeHttps) -> None:
    server = await serve_https(pki.server_context(NOMAD_SERVER_NAME))
    settings = NomadSettings(
        addr=server.url, cacert=pki.ca_file, tls_server_name="client.global.nomad"
    )

    with pytest.raises(TLSFailure, match="could not be verified"):
        await job_ids(settings)


async def test_mtls_with_the_client_certificate_lists_jobs(
    pki: Pki, serve_https: ServeHttps, web_job: str
) -> None:
    server = await serve_https(pki.server_context("127.0.0.1", client_ca=pki.ca))
    settings = NomadSettings(
        addr=server.url,
        cacert=pki.ca_file,
        client_cert=pki.client_cert,
        client_key=pki.client_key,
    )

    assert await job_ids(settings) == [web_job]


async def test_mtls_without_a_client_certificate_is_refused_clearly(
    pki: Pki, serve_https: ServeHttps
) -> None:
    server = await serve_https(pki.server_context("127.0.0.1", client_ca=pki.ca))

    with pytest.raises(Unavailable) as refused:
        await job_ids(NomadSettings(addr=server.url, cacert=pki.ca_file))

    error = refused.value
    assert isinstance(error, TLSFailure)
    assert "Nomad refused the TLS handshake" in str(error)
    assert "certificate required" in str(error)
    assert "NOMAD_CLIENT_CERT" in str(error)
    assert error.request_sent is False


async def test_mtls_with_a_certificate_nomad_does_not_trust_is_refused(
    pki: Pki, serve_https: ServeHttps
) -> None:
    server = await serve_https(pki.server_context("127.0.0.1", client_ca=trustme.CA()))
    settings = NomadSettings(
        addr=server.url,
        cacert=pki.ca_file,
        client_cert=pki.client_cert,
        client_key=pki.client_key,
    )

    with pytest.raises(TLSFailure, match=r"Nomad refused the TLS handshake: .*unknown ca"):
        await job_ids(settings)


async def test_skip_verify_accepts_a_certificate_no_configured_ca_signed(
    pki: Pki, serve_https: ServeHttps, web_job: str
) -> None:
    server = await serve_https(pki.server_context(NOMAD_SERVER_NAME))  # wrong CA, wrong name
    settings = NomadSettings(addr=server.url, cacert=pki.wrong_ca_file, skip_verify=True)

    assert await job_ids(settings) == [web_job]


async def test_skip_verify_still_presents_the_client_certificate(
    pki: Pki, serve_https: ServeHttps, web_job: str
) -> None:
    server = await serve_https(pki.server_context("127.0.0.1", client_ca=pki.ca))
    settings = NomadSettings(
        addr=server.url,
        skip_verify=True,
        client_cert=pki.client_cert,
        client_key=pki.client_key,
    )

    assert await job_ids(settings) == [web_job]


async def test_a_ca_directory_trusts_every_certificate_file_under_it(
    pki: Pki, serve_https: ServeHttps, web_job: str
) -> None:
    # Plain file names and a subdirectory, as go-rootcerts reads them (no OpenSSL hash names).
    capath = pki.directory / "cas"
    (capath / "nomad").mkdir(parents=True)
    shutil.copy(pki.wrong_ca_file, capath / "other.pem")
    shutil.copy(pki.ca_file, capath / "nomad" / "agent-ca.pem")
    server = await serve_https(pki.server_context("127.0.0.1"))

    assert await job_ids(NomadSettings(addr=server.url, capath=capath)) == [web_job]


async def test_the_ca_file_wins_over_the_ca_directory(pki: Pki, serve_https: ServeHttps) -> None:
    capath = pki.directory / "cas"
    capath.mkdir()
    shutil.copy(pki.ca_file, capath / "agent-ca.pem")
    server = await serve_https(pki.server_context("127.0.0.1"))
    settings = NomadSettings(addr=server.url, cacert=pki.wrong_ca_file, capath=capath)

    with pytest.raises(TLSFailure, match="could not be verified"):
        await job_ids(settings)


async def test_https_to_a_nomad_without_tls_fails_as_tls(pki: Pki, sim_server: SimServer) -> None:
    settings = NomadSettings(addr=sim_server.url.replace("http://", "https://"))

    with pytest.raises(TLSFailure, match="TLS with Nomad failed") as failed:
        await job_ids(settings)
    assert failed.value.request_sent is False
