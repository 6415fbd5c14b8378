"""The bridge in front of a Nomad served over TLS: it works with the right CA, and when it
cannot verify Nomad it says so (503 problem+json naming the certificate, and a log line)."""

from __future__ import annotations

import logging

import pytest
from aiohttp.test_utils import TestClient, TestServer
from pydantic import SecretStr

from nomad_bridge.app import create_app
from nomad_bridge.nomad import NomadClient, NomadSettings
from nomad_bridge.settings import BridgeSettings
from tests.support import BridgeClient, wait_until
from tests.tls.harness import Pki, ServeHttps

TOKEN = "7d41e2aa-acl-secret-never-shown"
PROBLEM = "application/problem+json"
# Reads wait this long for the first sync before answering 503.
SYNC_WAIT_S = 0.5


def bridge_for(nomad: NomadSettings) -> BridgeClient:
    app = create_app(BridgeSettings(nomad_timeout_s=SYNC_WAIT_S), nomad)
    return TestClient(TestServer(app))


async def test_with_nomads_ca_the_bridge_syncs_and_serves_jobs(
    pki: Pki, serve_https: ServeHttps, web_job: str
) -> None:
    server = await serve_https(pki.server_context("127.0.0.1"))

    async with bridge_for(NomadSettings(addr=server.url, cacert=pki.ca_file)) as bridge:

        async def ready() -> bool:
            return (await bridge.get("/ready")).status == 200

        await wait_until(ready)
        listing = await bridge.get("/jobs")
        assert listing.status == 200
        assert web_job in (await listing.text())


async def test_a_bridge_that_cannot_verify_nomad_answers_503_naming_the_certificate(
    pki: Pki, serve_https: ServeHttps, web_job: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="nomad_bridge")
    server = await serve_https(pki.server_context("127.0.0.1"))
    nomad = NomadSettings(addr=server.url, cacert=pki.wrong_ca_file, token=SecretStr(TOKEN))
    bodies: list[str] = []

    async with bridge_for(nomad) as bridge:
        stop = await bridge.post(f"/jobs/stop/{web_job}")
        bodies.append(await stop.text())
        assert (stop.status, stop.content_type) == (503, PROBLEM)
        assert "TLS certificate could not be verified" in (await stop.json())["detail"]

        async def ready_names_the_certificate() -> bool:
            ready = await bridge.get("/ready")
            assert (ready.status, ready.content_type) == (503, PROBLEM)
            bodies.append(await ready.text())
            return "TLS certificate could not be verified" in (await ready.json())["detail"]

        await wait_until(ready_names_the_certificate)

        listing = await bridge.get("/jobs")  # never synced: nothing to answer from
        bodies.append(await listing.text())
        assert (listing.status, listing.content_type) == (503, PROBLEM)

    watch_failures = [
        record for record in caplog.records if record.getMessage() == "nomad_watch_failed"
    ]
    assert watch_failures
    assert "TLS certificate could not be verified" in watch_failures[-1].__dict__["error"]
    assert all(TOKEN not in body for body in bodies)
    assert TOKEN not in caplog.text
    assert all(TOKEN not in str(record.__dict__) for record in caplog.records)
    async with NomadClient(NomadSettings(addr=server.url, cacert=pki.ca_file)) as probe:
        assert (await probe.read_job(web_job)).value.stop is False  # the stop never reached it
