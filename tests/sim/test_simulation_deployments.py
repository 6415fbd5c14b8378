"""Deployments: created as Nomad's reconciler creates them, and blocking the scale endpoint."""

from __future__ import annotations

import aiohttp
import pytest

from nomad_bridge.sim import SimServer, Simulator
from nomad_bridge.sim.errors import NomadError
from nomad_bridge.sim.testing import batch_job, service_job, summary_of, wait_until
from tests import support


def latest(sim: Simulator, job_id: str = "web") -> str | None:
    deployment = sim.store.latest_deployment("default", job_id)
    return None if deployment is None else deployment.status


async def test_new_service_job_gets_a_deployment_that_succeeds(
    simulator: Simulator, sim_server: SimServer
) -> None:
    """Service jobs get a default Update block, so a first version with placements gets a
    deployment (scheduler/reconcile.go createDeployment); it succeeds once every
    allocation is healthy and the job version is marked Stable."""
    simulator.register_job_spec(service_job("web", web=2))
    await wait_until(simulator, lambda: latest(simulator) == "running")
    await wait_until(simulator, lambda: latest(simulator) == "successful")
    deployment = simulator.store.latest_deployment("default", "web")
    assert deployment is not None
    state = deployment.task_groups["web"]
    assert (state.desired_total, state.placed_allocs, state.healthy_allocs) == (2, 2, 2)
    assert deployment.status_description == "Deployment completed successfully"
    assert simulator.store.jobs[("default", "web")]["Stable"] is True


async def test_batch_jobs_get_no_deployment(simulator: Simulator, sim_server: SimServer) -> None:
    """Batch jobs have no Update block (strategy.IsEmpty), so no deployment is created."""
    simulator.register_job_spec(batch_job("report"))
    await wait_until(simulator, lambda: summary_of(simulator, "report")["main"]["Complete"] == 1)
    assert simulator.store.deployments_by_job("default", "report") == []


async def test_scale_is_refused_while_a_deployment_is_active(
    simulator: Simulator, sim_server: SimServer
) -> None:
    """Job.Scale (nomad/job_endpoint.go): with an active deployment of this incarnation the
    answer is 400 `job scaling blocked due to active deployment` and nothing is written."""
    simulator.controls.hold_deployments(True)
    simulator.register_job_spec(service_job("web", web=1))
    await wait_until(simulator, lambda: latest(simulator) == "running")
    # At rest (the allocation started, its health reported): only the scale could write now.
    await support.wait_until(lambda: support.simulator_idle(simulator))
    index_before = simulator.store.latest_index
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            f"{sim_server.url}/v1/job/web/scale",
            json={"Count": 3, "Target": {"Group": "web"}},
        ) as resp,
    ):
        assert resp.status == 400
        assert await resp.text() == "job scaling blocked due to active deployment"
    assert simulator.store.latest_index == index_before
    assert simulator.store.jobs[("default", "web")]["TaskGroups"][0]["Count"] == 1


async def test_held_deployment_stays_active_until_released(
    simulator: Simulator, sim_server: SimServer
) -> None:
    """The hold control keeps deployments `running` even with every allocation healthy;
    releasing it lets the deployment watcher finish them."""
    simulator.controls.hold_deployments(True)
    simulator.register_job_spec(service_job("web", web=1))

    def healthy() -> bool:
        d = simulator.store.latest_deployment("default", "web")
        return d is not None and d.task_groups["web"].healthy_allocs == 1

    await wait_until(simulator, healthy)
    assert latest(simulator) == "running"
    simulator.controls.hold_deployments(False)
    await wait_until(simulator, lambda: latest(simulator) == "successful")


async def test_count_only_scale_creates_a_new_deployment(
    simulator: Simulator, sim_server: SimServer
) -> None:
    """A count change updates the running allocations in place (a spec update), so the
    reconciler creates a deployment for the new version (createDeployment:
    `updatingSpec`); the scale after it is blocked until that deployment completes."""
    simulator.register_job_spec(service_job("web", web=1))
    await wait_until(simulator, lambda: latest(simulator) == "successful")
    first = simulator.store.latest_deployment("default", "web")
    simulator.controls.hold_deployments(True)
    simulator.jobs.scale("web", namespace="default", group_name="web", count=2)
    await wait_until(simulator, lambda: latest(simulator) == "running")
    second = simulator.store.latest_deployment("default", "web")
    assert first is not None
    assert second is not None
    assert second.id != first.id
    assert second.job_version == 1
    assert second.task_groups["web"].desired_total == 2
    with pytest.raises(NomadError) as refused:
        simulator.jobs.scale("web", namespace="default", group_name="web", count=3)
    assert (refused.value.status, refused.value.message) == (
        400,
        "job scaling blocked due to active deployment",
    )
    simulator.controls.hold_deployments(False)
    await wait_until(simulator, lambda: latest(simulator) == "successful")
    simulator.jobs.scale("web", namespace="default", group_name="web", count=3)


async def test_scale_to_zero_creates_no_deployment(
    simulator: Simulator, sim_server: SimServer
) -> None:
    """createDeployment skips groups whose DesiredTotal is 0."""
    simulator.register_job_spec(service_job("web", web=1))
    await wait_until(simulator, lambda: latest(simulator) == "successful")
    count = len(simulator.store.deployments)
    simulator.jobs.scale("web", namespace="default", group_name="web", count=0)
    await wait_until(simulator, lambda: summary_of(simulator, "web")["web"]["Complete"] == 1)
    assert len(simulator.store.deployments) == count


async def test_new_version_cancels_the_active_deployment(
    simulator: Simulator, sim_server: SimServer
) -> None:
    """cancelUnneededDeployments: an active deployment of an older version is cancelled
    "due to newer version of job"; stopping the job cancels it "because job is stopped"."""
    simulator.controls.hold_deployments(True)
    simulator.register_job_spec(service_job("web", web=1))
    await wait_until(simulator, lambda: latest(simulator) == "running")
    first = simulator.store.latest_deployment("default", "web")
    assert first is not None
    changed = service_job("web", web=1)
    changed["Meta"] = {"release": "2"}
    simulator.register_job_spec(changed)
    await wait_until(simulator, lambda: simulator.store.deployments[first.id].status == "cancelled")
    assert simulator.store.deployments[first.id].status_description == (
        "Cancelled due to newer version of job"
    )
    simulator.jobs.deregister("web", namespace="default", purge=False)
    await wait_until(simulator, lambda: latest(simulator) == "cancelled")
    second = simulator.store.latest_deployment("default", "web")
    assert second is not None
    assert second.status_description == "Cancelled because job is stopped"


async def test_failed_allocation_fails_the_deployment(
    simulator: Simulator, sim_server: SimServer
) -> None:
    """An allocation that fails before it is healthy is reported unhealthy, and the
    deployment watcher fails the deployment; the version is not marked stable."""
    simulator.config.deployment_min_healthy_s = 60.0
    simulator.register_job_spec(service_job("web", web=1))
    await wait_until(simulator, lambda: summary_of(simulator, "web")["web"]["Running"] == 1)
    simulator.controls.fail_allocations("web", "web")
    await wait_until(simulator, lambda: latest(simulator) == "failed")
    deployment = simulator.store.latest_deployment("default", "web")
    assert deployment is not None
    assert deployment.task_groups["web"].unhealthy_allocs >= 1
    assert simulator.store.jobs[("default", "web")]["Stable"] is False
