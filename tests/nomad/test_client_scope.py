"""Namespace and region: from the settings on every call, overridable per call."""

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


async def test_a_call_can_name_another_namespace(client: NomadClient) -> None:
    await client.register_job(job_spec("web"), namespace="games")

    assert [s.id for s in (await client.list_jobs(namespace="games")).value] == ["web"]
    assert (await client.list_jobs()).value == []
    with pytest.raises(errors.NotFound):
        await client.read_job("web")
    assert (await client.read_job("web", namespace="games")).value.namespace == "games"


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
    assert await eu.regions() == ["eu"]
    assert (await eu.list_jobs()).value == []

    with pytest.raises(errors.UnexpectedAnswer) as refused:
        await eu.list_jobs(region="mars")
    assert "No path to region" in refused.value.message
