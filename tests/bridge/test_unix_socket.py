"""The bridge in front of a Nomad reached over a unix socket (`NOMAD_ADDR=unix:///...`), as
deploy/nomad runs it: through the Task API socket of its own task."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from nomad_bridge.nomad import NomadSettings
from nomad_bridge.sim import SimServer, Simulator
from tests.support import BridgeClient, NomadProbe, in_sync, job_spec


@pytest.fixture
def nomad_settings(unix_sim_server: SimServer) -> NomadSettings:
    return NomadSettings(addr=unix_sim_server.url)


@pytest.fixture
async def nomad_probe(nomad_settings: NomadSettings) -> AsyncIterator[NomadProbe]:
    """What Nomad ended up with, read over the same socket by another client."""
    assert nomad_settings.unix_socket is not None
    connector = aiohttp.UnixConnector(nomad_settings.unix_socket)
    async with aiohttp.ClientSession(connector=connector) as session:
        yield NomadProbe(session, str(nomad_settings.base_url))


async def test_the_bridge_lists_and_changes_jobs_through_nomads_unix_socket(
    bridge: BridgeClient, simulator: Simulator, nomad_probe: NomadProbe
) -> None:
    simulator.register_job_spec(job_spec("web", {"frontend": 2}))
    await in_sync(bridge, nomad_probe)

    listed = await bridge.get("/jobs")
    scaled = await bridge.post(
        "/jobs/updatecounts", json={"jobID": "web", "taskGroup": "frontend", "count": 1}
    )
    stopped = await bridge.post("/jobs/stop/web")

    assert listed.status == 200
    assert [job["name"] for job in await listed.json()] == ["web"]
    assert scaled.status == 200
    assert await nomad_probe.group_count("web", "frontend") == 3
    assert stopped.status == 200
    assert (await nomad_probe.job("web"))["Stop"] is True
    assert (await bridge.get("/ready")).status == 200
