"""SPEC section 2: `POST /jobs/start/{jobName}` and `POST /jobs/stop/{jobName}`."""

from __future__ import annotations

from nomad_bridge.sim import Simulator
from tests.support import PERIODIC, BridgeClient, NomadProbe, job_spec, wait_until


async def test_stop_stops_the_job_in_nomad_without_purging_it(
    bridge: BridgeClient, simulator: Simulator, nomad_probe: NomadProbe
) -> None:
    simulator.register_job_spec(job_spec("web", {"g": 2}))
    response = await bridge.post("/jobs/stop/web")
    assert response.status == 200
    assert (await response.json())["result"] == "stopped"
    job = await nomad_probe.job("web")
    assert job["Stop"] is True

    async def dead() -> bool:
        return (await nomad_probe.job("web"))["Status"] == "dead"

    await wait_until(dead)


async def test_stop_of_a_stopped_job_is_a_no_op(
    bridge: BridgeClient, simulator: Simulator, nomad_probe: NomadProbe
) -> None:
    simulator.register_job_spec(job_spec("web", {"g": 1}))
    await nomad_probe.stop("web")
    version = (await nomad_probe.job("web"))["Version"]
    response = await bridge.post("/jobs/stop/web")
    assert response.status == 200
    assert (await response.json())["result"] == "already stopped"
    assert (await nomad_probe.job("web"))["Version"] == version


async def test_start_registers_a_stopped_job_again_with_stop_false(
    bridge: BridgeClient, simulator: Simulator, nomad_probe: NomadProbe
) -> None:
    simulator.register_job_spec(job_spec("web", {"g": 2}, Meta={"team": "core"}))
    await nomad_probe.stop("web")
    response = await bridge.post("/jobs/start/web")
    assert response.status == 200
    assert (await response.json())["result"] == "started"
    job = await nomad_probe.job("web")
    assert job["Stop"] is False
    assert job["Meta"] == {"team": "core"}
    assert [(g["Name"], g["Count"]) for g in job["TaskGroups"]] == [("g", 2)]

    async def running() -> bool:
        return (await nomad_probe.job("web"))["Status"] == "running"

    await wait_until(running)


async def test_start_of_a_running_job_is_a_no_op(
    bridge: BridgeClient, simulator: Simulator, nomad_probe: NomadProbe
) -> None:
    simulator.register_job_spec(job_spec("web", {"g": 1}))
    version = (await nomad_probe.job("web"))["Version"]
    response = await bridge.post("/jobs/start/web")
    assert response.status == 200
    assert (await response.json())["result"] == "already running"
    assert (await nomad_probe.job("web"))["Version"] == version


async def test_start_and_stop_of_an_unknown_job_are_404(bridge: BridgeClient) -> None:
    for action in ("start", "stop"):
        response = await bridge.post(f"/jobs/{action}/ghost")
        assert response.status == 404
        assert response.content_type == "application/problem+json"


async def test_start_and_stop_of_a_child_job_are_404(
    bridge: BridgeClient, simulator: Simulator
) -> None:
    simulator.register_job_spec(job_spec("report", {"run": 1}, Type="batch", Periodic=PERIODIC))
    child_id = simulator.controls.add_child_job("report")
    assert (await bridge.post(f"/jobs/stop/{child_id}")).status == 404
    assert (await bridge.post(f"/jobs/start/{child_id}")).status == 404
