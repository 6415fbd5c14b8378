"""NomadClient job calls against the simulator: reads, registers, stops, scaling."""

from __future__ import annotations

from typing import Any

import pytest

from nomad_bridge.nomad import NomadClient, errors
from nomad_bridge.sim import Simulator
from tests.support import job_spec, wait_until

STATE_FIELDS = {"Status", "StatusDescription", "ModifyIndex", "Stable"}


def without_state(spec: dict[str, Any]) -> dict[str, Any]:
    """A spec without the fields that follow allocations rather than the spec."""
    return {key: value for key, value in spec.items() if key not in STATE_FIELDS}


async def test_register_then_read_gives_the_job_and_query_metadata(client: NomadClient) -> None:
    spec = job_spec("web", {"frontend": 2, "api": 1}, Meta={"autostart": "true"})
    registered = await client.register_job(spec)
    read = await client.read_job("web")

    assert read.value.id == "web"
    assert [(g.name, g.count) for g in read.value.groups] == [("frontend", 2), ("api", 1)]
    assert read.value.meta == {"autostart": "true"}
    assert read.value.job_modify_index == registered.job_modify_index
    assert read.index >= registered.job_modify_index > 0
    assert read.known_leader is True


async def test_list_jobs_gives_stubs_with_meta_and_summary(client: NomadClient) -> None:
    await client.register_job(job_spec("b-job"))
    await client.register_job(job_spec("a-job", Meta={"autostart": "true"}))

    listed = await client.list_jobs()

    ids = [stub.id for stub in listed.value]
    assert ids == sorted(ids)
    assert {"a-job", "b-job"} <= set(ids)
    stub = next(s for s in listed.value if s.id == "a-job")
    assert stub.meta == {"autostart": "true"}
    assert stub.job_summary is not None
    assert "web" in stub.job_summary.summary
    assert listed.index > 0
    assert [s.id for s in (await client.list_jobs(prefix="b-")).value] == ["b-job"]


async def test_job_summary_has_a_counter_set_per_group(client: NomadClient) -> None:
    await client.register_job(job_spec("web", {"frontend": 2, "api": 1}))
    summary = await client.job_summary("web")
    assert set(summary.value.summary) == {"frontend", "api"}
    assert summary.value.job_id == "web"


async def test_reregistering_the_job_as_read_creates_no_new_version(client: NomadClient) -> None:
    await client.register_job(job_spec("web", {"frontend": 2}))
    before = (await client.read_job("web")).value

    await client.register_job(before, enforce_index=before.job_modify_index)

    after = (await client.read_job("web")).value
    assert (after.version, after.job_modify_index) == (before.version, before.job_modify_index)
    assert without_state(after.spec()) == without_state(before.spec())


async def test_a_changed_count_registered_with_enforce_index_is_a_new_version(
    client: NomadClient,
) -> None:
    await client.register_job(job_spec("web", {"frontend": 2, "api": 1}))
    job = (await client.read_job("web")).value

    answer = await client.register_job(
        job.with_group_count("api", 3), enforce_index=job.job_modify_index
    )

    after = (await client.read_job("web")).value
    assert after.version == job.version + 1
    assert after.job_modify_index == answer.job_modify_index > job.job_modify_index
    assert [(g.name, g.count) for g in after.groups] == [("frontend", 2), ("api", 3)]


async def test_stop_then_start_by_registering_with_stop_false(client: NomadClient) -> None:
    await client.register_job(job_spec("web"))

    stopped = await client.stop_job("web")
    job = (await client.read_job("web")).value
    assert job.stop is True
    assert stopped.job_modify_index == job.job_modify_index

    await client.register_job(job.with_stop(False), enforce_index=job.job_modify_index)
    assert (await client.read_job("web")).value.stop is False


async def test_purge_removes_the_job(client: NomadClient) -> None:
    await client.register_job(job_spec("web"))
    await client.stop_job("web", purge=True)
    with pytest.raises(errors.NotFound):
        await client.read_job("web")


async def test_stopping_an_unknown_job_answers_a_zeroed_body(client: NomadClient) -> None:
    answer = await client.stop_job("never-registered")
    assert (answer.eval_id, answer.job_modify_index) == ("", 0)


async def test_scale_sets_a_group_count_as_a_new_version(client: NomadClient) -> None:
    await client.register_job(job_spec("web", {"frontend": 2}, Type="batch"))
    job = (await client.read_job("web")).value

    await client.scale_job(
        "web", "frontend", 5, message="more", job_modify_index=job.job_modify_index
    )

    after = (await client.read_job("web")).value
    assert after.group("frontend") is not None
    assert after.groups[0].count == 5
    assert after.version == job.version + 1


async def test_scale_with_a_stale_index_is_a_cas_conflict(client: NomadClient) -> None:
    # A batch job has no deployments, which Nomad checks before the index.
    await client.register_job(job_spec("web", {"frontend": 2}, Type="batch"))
    stale = (await client.read_job("web")).value.job_modify_index
    await client.register_job(job_spec("web", {"frontend": 3}, Type="batch"))

    with pytest.raises(errors.CasConflict):
        await client.scale_job("web", "frontend", 5, message="m", job_modify_index=stale)


async def test_scale_during_an_active_deployment_is_deployment_active(
    client: NomadClient, simulator: Simulator
) -> None:
    simulator.controls.hold_deployments(True)
    await client.register_job(job_spec("web", {"frontend": 2}))

    async def placed() -> bool:  # the deployment is created with the first allocations
        counters = (await client.job_summary("web")).value.summary["frontend"]
        return counters.starting + counters.running > 0

    await wait_until(placed)

    with pytest.raises(errors.DeploymentActive) as refused:
        await client.scale_job("web", "frontend", 3, message="m")

    assert refused.value.status == 400
    assert isinstance(refused.value, errors.BadRequest)


async def test_scaling_an_unknown_group_is_a_bad_request(client: NomadClient) -> None:
    await client.register_job(job_spec("web", {"frontend": 2}, Type="batch"))
    with pytest.raises(errors.BadRequest):
        await client.scale_job("web", "nope", 3, message="m")
