"""SPEC section 2: `POST /jobs/startall` and `POST /jobs/stopall`."""

from __future__ import annotations

import json

from nomad_bridge.sim import Simulator
from tests.support import BridgeClient, NomadProbe, job_spec


def flags(autostart: str) -> dict[str, dict[str, str]]:
    return {"Meta": {"autostart": autostart}}


async def test_startall_starts_every_stopped_autostart_job_and_nothing_else(
    bridge: BridgeClient, simulator: Simulator, nomad_probe: NomadProbe
) -> None:
    for job_id, autostart in [("a", "true"), ("b", "yes"), ("c", "false"), ("d", "1")]:
        simulator.register_job_spec(job_spec(job_id, {"g": 1}, **flags(autostart)))
        if job_id != "d":
            await nomad_probe.stop(job_id)
    response = await bridge.post("/jobs/startall")
    assert response.status == 200
    results = (await response.json())["results"]
    assert {r["job"]: r["result"] for r in results} == {"a": "started", "b": "started"}
    stopped = {job_id: (await nomad_probe.job(job_id))["Stop"] for job_id in "abcd"}
    assert stopped == {"a": False, "b": False, "c": True, "d": False}


async def test_stopall_stops_every_job_that_is_not_stopped(
    bridge: BridgeClient, simulator: Simulator, nomad_probe: NomadProbe
) -> None:
    for job_id in "abc":
        simulator.register_job_spec(job_spec(job_id, {"g": 1}))
    await nomad_probe.stop("b")
    response = await bridge.post("/jobs/stopall")
    assert response.status == 200
    results = (await response.json())["results"]
    assert {r["job"]: r["result"] for r in results} == {"a": "stopped", "c": "stopped"}
    assert all([(await nomad_probe.job(job_id))["Stop"] for job_id in "abc"])


async def test_one_failing_job_never_stops_the_others_and_is_reported(
    bridge: BridgeClient, simulator: Simulator, nomad_probe: NomadProbe
) -> None:
    simulator.register_job_spec(job_spec("good", {"g": 1}, **flags("true")))
    await nomad_probe.stop("good")
    # A saved definition Nomad will refuse to register (no task groups): that start fails.
    broken = {"ID": "broken", "Name": "broken", "Meta": {"autostart": "true"}, "TaskGroups": []}
    items = {"jobID": "broken", "digest": "x", "encoding": "json", "spec": json.dumps(broken)}
    await nomad_probe.put_variable("nomad-bridge/jobs/broken", items)
    response = await bridge.post("/jobs/startall")
    assert response.status == 502
    assert response.content_type == "application/problem+json"
    problem = await response.json()
    by_job = {r["job"]: r for r in problem["results"]}
    assert by_job["good"] == {"job": "good", "status": 200, "result": "started"}
    assert by_job["broken"]["status"] == 502
    assert "broken" in problem["detail"]
    assert (await nomad_probe.job("good"))["Stop"] is False
