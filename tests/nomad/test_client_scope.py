"""Namespace and region: from the settings, on every call."""

from __future__ import annotations

import pytest

from nomad_bridge.nomad import NomadClient, NomadSettings, errors
from nomad_bridge.sim import SimConfig, SimServer
from tests.nomad.harness import ClientFactory
from tests.support import job_spec


@pytest.fixture
def sim_config(sim_config: SimConfig) -> SimConfig:
    sim_config.namespaces = ["default", "games"]
    sim_config.region = "eu"
    return sim_config


async def test_a_client_sees_only_its_namespace(
    client: NomadClient, make_client: ClientFactory, sim_server: SimServer
) -> None:
    games = await make_client(NomadSettings(addr=sim_server.url, namespace="games"))
    await games.register_job(job_spec("web"))

    assert (await client.list_jobs()).value == []
    with pytest.raises(errors.NotFound):
        await client.read_job("web")
    assert (await games.read_job("web")).value.namespace == "games"


async def test_the_settings_namespace_is_the_default(
    make_client: ClientFactory, sim_server: SimServer
) -> None:
    games = await make_client(NomadSettings(addr=sim_server.url, namespace="games"))
    await games.register_job(job_spec("web"))
    await games.put_variable("bridge/web", {"k": "v"})

    assert [s.id for s in (await games.list_jobs()).value] == ["web"]
    assert (await games.read_variable("bridge/web")).value.namespace == "games"
    assert [v.path for v in await games.list_variables("bridge/")] == ["bridge/web"]


async def test_the_settings_region_is_sent_and_an_unknown_one_is_refused(
    make_client: ClientFactory, sim_server: SimServer
) -> None:
    eu = await make_client(NomadSettings(addr=sim_server.url, region="eu"))
    assert (await eu.list_jobs()).value == []

    mars = await make_client(NomadSettings(addr=sim_server.url, region="mars"))
    with pytest.raises(errors.UnexpectedAnswer) as refused:
        await mars.list_jobs()
    assert "No path to region" in refused.value.message
