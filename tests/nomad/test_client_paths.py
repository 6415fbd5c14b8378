"""Hostile job IDs and variable paths reach only their own Nomad path."""

from __future__ import annotations

import pytest

from nomad_bridge.nomad import NomadClient, errors
from nomad_bridge.nomad.endpoints import encode_segment
from nomad_bridge.sim import Simulator
from tests.support import job_spec

HOSTILE = ["..%2F..%2Fv1%2Facl", "a b", "café", "a/b", "x?y#z", "%2E%2E"]
# Nomad routes the decoded path: these would reach another job or endpoint whatever the encoding.
UNROUTABLE = ["../../v1/acl", "..", ".", "jobs/../acl", "web/summary", "a//b", "x/periodic/force"]


@pytest.mark.parametrize("job_id", HOSTILE)
async def test_a_hostile_job_id_reaches_only_its_own_path(
    client: NomadClient, simulator: Simulator, job_id: str
) -> None:
    simulator.controls.reset_request_counts()

    with pytest.raises(errors.NotFound):
        await client.job_summary(job_id)

    own_path = f"/v1/job/{encode_segment(job_id)}/summary"
    assert simulator.controls.request_counts == {f"GET {own_path}": 1}


@pytest.mark.parametrize("job_id", UNROUTABLE)
async def test_a_job_id_nomad_would_misroute_is_never_sent(
    client: NomadClient, simulator: Simulator, job_id: str
) -> None:
    simulator.controls.reset_request_counts()
    with pytest.raises(errors.UnroutableID):
        await client.job_summary(job_id)
    with pytest.raises(errors.UnroutableID):
        await client.stop_job(job_id)
    assert simulator.controls.request_counts == {}


@pytest.mark.parametrize("job_id", ["café", "web.v2", "a/b", "50%"])
async def test_an_unusual_job_id_round_trips(client: NomadClient, job_id: str) -> None:
    await client.register_job(job_spec(job_id))
    assert (await client.read_job(job_id)).value.id == job_id
    assert (await client.job_summary(job_id)).value.job_id == job_id


async def test_a_variable_path_with_slashes_is_one_variable(client: NomadClient) -> None:
    await client.put_variable("nomad-bridge/jobs/web", {"spec": "{}"})
    read = await client.read_variable("nomad-bridge/jobs/web")
    assert read.value.path == "nomad-bridge/jobs/web"
