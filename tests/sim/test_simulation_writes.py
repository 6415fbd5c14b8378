"""Writes as Nomad applies them: versions, evals, check-and-set, scale, ACL, namespaces."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

import aiohttp
import pytest

from nomad_bridge.sim import SimConfig, SimServer, Simulator
from nomad_bridge.sim.errors import NomadError
from nomad_bridge.sim.testing import deployment_settled, service_job, wait_until


async def call(
    server: SimServer, method: str, path: str, body: Any = None, **headers: str
) -> tuple[int, str, dict[str, str]]:
    async with (
        aiohttp.ClientSession() as http,
        http.request(method, server.url + path, json=body, headers=headers) as resp,
    ):
        return resp.status, await resp.text(), dict(resp.headers)


def job(sim: Simulator, job_id: str = "web") -> dict[str, Any]:
    return sim.store.jobs[("default", job_id)]


def test_identical_register_writes_an_eval_but_no_version(simulator: Simulator) -> None:
    """Job.Register: an unchanged spec (SpecChanged ignores status, version, indexes and
    SubmitTime) writes no job, only a new eval: EvalCreateIndex == Index > JobModifyIndex."""
    first = simulator.register_job_spec(service_job("web"))
    second = simulator.register_job_spec(service_job("web"))
    assert second["JobModifyIndex"] == first["JobModifyIndex"]
    assert second["EvalCreateIndex"] == second["Index"] > second["JobModifyIndex"]
    assert second["EvalID"] != first["EvalID"]
    assert job(simulator)["Version"] == 0


def test_changed_register_is_one_entry_for_job_and_eval(simulator: Simulator) -> None:
    """A changed spec: job and eval in one raft entry, so all three indexes are equal and
    the version goes up by one."""
    simulator.register_job_spec(service_job("web"))
    changed = simulator.register_job_spec(service_job("web", main=2))
    assert changed["JobModifyIndex"] == changed["EvalCreateIndex"] == changed["Index"]
    assert job(simulator)["Version"] == 1


def test_enforce_index_texts(simulator: Simulator) -> None:
    """The three EnforceIndex refusals (nomad/job_endpoint.go), all plain errors (500)."""
    spec = service_job("web")
    with pytest.raises(NomadError) as absent:
        simulator.jobs.register(spec, namespace="default", enforce_index=True, job_modify_index=7)
    assert (absent.value.status, absent.value.message) == (
        500,
        "Enforcing job modify index 7: job does not exist",
    )
    created = simulator.jobs.register(spec, namespace="default", enforce_index=True)
    with pytest.raises(NomadError) as exists:
        simulator.jobs.register(spec, namespace="default", enforce_index=True)
    assert exists.value.message == "Enforcing job modify index 0: job already exists"
    with pytest.raises(NomadError) as stale:
        simulator.jobs.register(
            spec, namespace="default", enforce_index=True, job_modify_index=created["Index"] + 5
        )
    assert stale.value.message == (
        f"Enforcing job modify index {created['Index'] + 5}: job exists with conflicting "
        f"job modify index: {created['JobModifyIndex']}"
    )


async def test_concurrent_check_and_set_registers_never_both_win(
    simulator: Simulator, sim_server: SimServer
) -> None:
    """The simulator applies EnforceIndex atomically (as Nomad 2.x does): of many
    concurrent registers carrying the same JobModifyIndex, exactly one succeeds."""
    created = simulator.register_job_spec(service_job("web"))
    bodies = [
        {
            "Job": service_job("web", main=n + 2),
            "EnforceIndex": True,
            "JobModifyIndex": created["JobModifyIndex"],
        }
        for n in range(20)
    ]
    answers = await asyncio.gather(*(call(sim_server, "PUT", "/v1/job/web", b) for b in bodies))
    statuses = sorted(status for status, _, _ in answers)
    assert statuses == [200] + [500] * 19
    assert all(
        text.startswith("Enforcing job modify index")
        for status, text, _ in answers
        if status == 500
    )
    assert job(simulator)["Version"] == 1


def test_type_change_is_refused(simulator: Simulator) -> None:
    """validateJobUpdate: a job's type is fixed for its life (500)."""
    simulator.register_job_spec(service_job("web"))
    batch = service_job("web")
    batch["Type"] = "batch"
    with pytest.raises(NomadError) as refused:
        simulator.register_job_spec(batch)
    assert (refused.value.status, refused.value.message) == (
        500,
        'cannot update job from type "service" to "batch"',
    )


def test_preserve_counts_keeps_existing_group_counts(simulator: Simulator) -> None:
    """PreserveCounts: groups that already exist keep their stored Count."""
    simulator.register_job_spec(service_job("web", web=3))
    simulator.jobs.register(
        service_job("web", web=1, api=2), namespace="default", preserve_counts=True
    )
    counts = {g["Name"]: g["Count"] for g in job(simulator)["TaskGroups"]}
    assert counts == {"web": 3, "api": 2}


async def test_scale_always_writes_a_version_and_records_events(
    simulator: Simulator, sim_server: SimServer
) -> None:
    """Job.Scale with a Count re-registers the job even when the count is unchanged
    (Version+1), writes a `scaling` eval, then the scaling event (whose index is the
    reply's Index); events are newest first."""
    simulator.register_job_spec(service_job("web", web=1))
    await wait_until(
        simulator, lambda: simulator.store.latest_deployment("default", "web") is not None
    )
    await wait_until(simulator, lambda: deployment_settled(simulator, "web"))
    reply = simulator.jobs.scale(
        "web", namespace="default", group_name="web", count=1, message="same"
    )
    assert job(simulator)["Version"] == 1
    assert reply["JobModifyIndex"] < reply["EvalCreateIndex"] < reply["Index"]
    assert simulator.store.evals[reply["EvalID"]].triggered_by == "scaling"
    await wait_until(simulator, lambda: deployment_settled(simulator, "web"))
    simulator.jobs.scale(
        "web", namespace="default", group_name="web", count=None, message="note only"
    )
    assert job(simulator)["Version"] == 1
    status, body, _ = await call(sim_server, "GET", "/v1/job/web/scale")
    assert status == 200
    assert '"Message":"note only"' in body.split('"Events":[', 1)[1].split("}", 1)[0]


def test_scaling_a_stopped_job_keeps_it_stopped(simulator: Simulator) -> None:
    """Job.Scale has no stopped-job check: the version goes up and Stop stays true."""
    simulator.register_job_spec(service_job("web", web=1))
    simulator.jobs.deregister("web", namespace="default", purge=False)
    simulator.jobs.scale("web", namespace="default", group_name="web", count=4)
    stored = job(simulator)
    assert (stored["Stop"], stored["TaskGroups"][0]["Count"], stored["Version"]) == (True, 4, 2)


def test_scale_job_modify_index_mismatch_is_500(simulator: Simulator) -> None:
    """A JobModifyIndex above 0 that is not the job's is the register-style conflict."""
    created = simulator.register_job_spec(service_job("web", web=1))
    with pytest.raises(NomadError) as stale:
        simulator.jobs.scale(
            "web",
            namespace="default",
            group_name="web",
            count=2,
            job_modify_index=created["JobModifyIndex"] + 1,
        )
    assert stale.value.status == 500
    assert stale.value.message.startswith("Enforcing job modify index")


async def test_acl_token_is_required_when_set(sim_config: SimConfig) -> None:
    """With ACLs on, a missing or wrong token is 403 `Permission denied`; the token may be
    sent as X-Nomad-Token or `Authorization: Bearer`; status endpoints need none."""
    simulator = Simulator(dataclasses.replace(sim_config, acl_token="s3cret"))
    server = SimServer(simulator)
    await server.start()
    try:
        assert (await call(server, "GET", "/v1/jobs"))[:2] == (403, "Permission denied")
        wrong = await call(server, "GET", "/v1/jobs", **{"X-Nomad-Token": "nope"})
        assert wrong[:2] == (403, "Permission denied")
        assert (await call(server, "GET", "/v1/jobs", **{"X-Nomad-Token": "s3cret"}))[0] == 200
        assert (await call(server, "GET", "/v1/jobs", Authorization="Bearer s3cret"))[0] == 200
        assert (await call(server, "GET", "/v1/status/leader"))[0] == 200
    finally:
        await server.stop()


async def test_namespaces_and_regions(simulator: Simulator, sim_server: SimServer) -> None:
    """Registering into a namespace that does not exist is 500; an unknown region has no
    path (500 `No path to region`); `namespace=*` lists every namespace."""
    body = {"Job": service_job("web")}
    status, text, _ = await call(sim_server, "PUT", "/v1/jobs?namespace=ghost", body)
    assert (status, text) == (500, 'job "web" is in nonexistent namespace "ghost"')
    status, text, _ = await call(sim_server, "GET", "/v1/jobs?region=mars")
    assert (status, text) == (500, "No path to region")
    simulator.config.namespaces.append("team")
    simulator.register_job_spec(service_job("a"), namespace="team")
    simulator.register_job_spec(service_job("b"))
    status, text, _ = await call(sim_server, "GET", "/v1/jobs?namespace=*")
    assert status == 200
    assert '"Namespace":"default"' in text
    assert '"Namespace":"team"' in text


async def test_paths_are_decoded_once_and_routed_like_nomad(
    simulator: Simulator, sim_server: SimServer
) -> None:
    """Nomad routes on the decoded path: /v1/job/a%2Fb is job `a/b`; unknown paths are 404
    with an empty body; a wrong method is 405 `Invalid method`."""
    simulator.register_job_spec(service_job("a/b"))
    status, text, headers = await call(sim_server, "GET", "/v1/job/a%2Fb")
    assert status == 200
    assert '"ID":"a/b"' in text
    assert headers["X-Nomad-KnownLeader"] == "true"
    assert (await call(sim_server, "GET", "/v1/job/a%2Fb/summary"))[0] == 200
    assert (await call(sim_server, "GET", "/v1/nothing"))[:2] == (404, "")
    assert (await call(sim_server, "PATCH", "/v1/jobs"))[:2] == (405, "Invalid method")


async def test_variables_check_and_set(sim_server: SimServer) -> None:
    """Variables (nomad/state/state_store_variables.go): `cas=0` creates only if absent;
    a conflict is 409 with the current variable (only Namespace and Path when absent) and
    X-Nomad-Index set to its ModifyIndex; a delete is 204 with no body."""
    status, text, _ = await call(sim_server, "PUT", "/v1/var/app/x?cas=3", {"Items": {"a": "1"}})
    assert status == 409
    assert '"Path":"app/x"' in text
    assert '"Items":null' in text
    status, _, headers = await call(sim_server, "PUT", "/v1/var/app/x?cas=0", {"Items": {"a": "1"}})
    assert status == 200
    status, text, headers = await call(
        sim_server, "PUT", "/v1/var/app/x?cas=0", {"Items": {"a": "2"}}
    )
    assert status == 409
    assert '"Items":{"a":"1"}' in text
    index = headers["X-Nomad-Index"]
    assert f'"ModifyIndex":{index}' in text
    status, text, _ = await call(sim_server, "DELETE", f"/v1/var/app/x?cas={index}")
    assert (status, text) == (204, "")
    assert (await call(sim_server, "GET", "/v1/var/app/x"))[:2] == (404, "variable not found")


async def test_variable_validation(sim_server: SimServer) -> None:
    """Empty Items is refused by the HTTP layer (400); path and size rules by the RPC
    (plain errors, 500)."""
    assert (await call(sim_server, "PUT", "/v1/var/a", {"Items": {}}))[:2] == (
        400,
        "variable missing required Items object",
    )
    status, text, _ = await call(sim_server, "PUT", "/v1/var/a.b", {"Items": {"k": "v"}})
    assert (status, text) == (500, 'invalid path "a.b"')
    status, text, _ = await call(sim_server, "PUT", "/v1/var/nomad/other", {"Items": {"k": "v"}})
    assert status == 500
    big = {"k": "v" * (64 * 1024)}
    status, text, _ = await call(sim_server, "PUT", "/v1/var/big", {"Items": big})
    assert (status, text) == (500, "variables are limited to 64KiB in total size")
