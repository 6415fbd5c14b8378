"""Injected faults and maintenance: failed and lost allocations, GC, index reset."""

from __future__ import annotations

from nomad_bridge.sim import SimServer, Simulator
from nomad_bridge.sim.testing import batch_job, job_status, service_job, summary_of, wait_until


def counts(sim: Simulator, job_id: str = "web", group: str = "web") -> dict[str, int]:
    return summary_of(sim, job_id)[group]


async def settled(sim: Simulator, job_id: str = "web", group: str = "web", n: int = 1) -> None:
    await wait_until(sim, lambda: counts(sim, job_id, group)["Running"] == n)
    await wait_until(sim, lambda: _deployment_done(sim, job_id))


def _deployment_done(sim: Simulator, job_id: str) -> bool:
    latest = sim.store.latest_deployment("default", job_id)
    return latest is None or not latest.active


async def test_failed_allocation_is_counted_and_replaced_after_the_delay(
    simulator: Simulator, sim_server: SimServer
) -> None:
    """A crash goes Running→Failed (Failed is cumulative); the replacement is a new
    allocation (Starting+1, then Running) linked by PreviousAllocation/NextAllocation, and
    an `alloc-failure` evaluation drives it (api-docs/jobs.mdx summary; reschedule policy)."""
    simulator.register_job_spec(service_job("web", web=2))
    await settled(simulator, n=2)
    [failed_id] = simulator.controls.fail_allocations("web", "web", 1)
    assert counts(simulator)["Failed"] == 1
    assert counts(simulator)["Running"] == 1
    triggers = {e.triggered_by for e in simulator.store.evals.values()}
    assert "alloc-failure" in triggers
    await wait_until(simulator, lambda: counts(simulator)["Running"] == 2)
    failed = simulator.store.allocs[failed_id]
    replacement = simulator.store.allocs[failed.next_allocation]
    assert replacement.previous_allocation == failed_id
    assert replacement.name == failed.name
    assert failed.desired_description == "alloc was rescheduled because it failed"
    assert counts(simulator)["Failed"] == 1


async def test_lost_allocation_is_counted_and_replaced(
    simulator: Simulator, sim_server: SimServer
) -> None:
    """Node down: the plan marks the allocation `lost` (Running-1, Lost+1) and places a
    replacement at once."""
    simulator.register_job_spec(service_job("web", web=1))
    await settled(simulator)
    [lost_id] = simulator.controls.lose_allocations("web", "web")
    await wait_until(simulator, lambda: counts(simulator)["Lost"] == 1)
    lost = simulator.store.allocs[lost_id]
    assert (lost.client_status, lost.desired_status) == ("lost", "stop")
    await wait_until(simulator, lambda: counts(simulator)["Running"] == 1)
    live = [a for a in simulator.store.allocs.values() if not a.terminal]
    assert [a.previous_allocation for a in live] == [lost_id]


async def test_failed_batch_allocation_is_rescheduled_once(
    simulator: Simulator, sim_server: SimServer
) -> None:
    """The batch reschedule policy allows 1 attempt per 24h: the second failure is final
    and the job ends dead with Failed 2."""
    simulator.config.batch_run_s = 60.0
    simulator.register_job_spec(batch_job("report"))
    await wait_until(simulator, lambda: counts(simulator, "report", "main")["Running"] == 1)
    simulator.controls.fail_allocations("report", "main")
    await wait_until(simulator, lambda: counts(simulator, "report", "main")["Running"] == 1)
    simulator.controls.fail_allocations("report", "main")
    await wait_until(simulator, lambda: job_status(simulator, "report") == "dead")
    assert counts(simulator, "report", "main")["Failed"] == 2


async def test_gc_collects_stopped_dead_jobs_only(
    simulator: Simulator, sim_server: SimServer
) -> None:
    """jobIsGCable (nomad/state/schema.go): dead and stopped, or dead batch. A dead service
    job that was not stopped (scaled to 0) stays; so does a running one."""
    simulator.register_job_spec(service_job("stopped"))
    simulator.register_job_spec(service_job("zero", web=0))
    simulator.register_job_spec(service_job("alive"))
    simulator.register_job_spec(batch_job("report"))
    simulator.jobs.deregister("stopped", namespace="default", purge=False)
    await wait_until(simulator, lambda: job_status(simulator, "stopped") == "dead")
    await wait_until(simulator, lambda: job_status(simulator, "zero") == "dead")
    await wait_until(simulator, lambda: job_status(simulator, "report") == "dead")
    collected = simulator.controls.garbage_collect()
    assert sorted(collected) == ["report", "stopped"]
    assert set(k[1] for k in simulator.store.jobs) == {"zero", "alive"}
    assert ("default", "stopped") not in simulator.store.summaries
    assert not [a for a in simulator.store.allocs.values() if a.job_id == "stopped"]


async def test_gc_waits_for_allocations_still_running_on_clients(
    simulator: Simulator, sim_server: SimServer
) -> None:
    """allocGCEligible refuses allocations whose client status is still `running`, so a
    stopped job is collected only after its clients report the tasks finished."""
    simulator.config.alloc_stop_delay_s = 60.0
    simulator.register_job_spec(service_job("web", web=1))
    await settled(simulator)
    simulator.jobs.deregister("web", namespace="default", purge=False)
    await wait_until(simulator, lambda: job_status(simulator, "web") == "dead")
    assert simulator.controls.garbage_collect() == []
    assert ("default", "web") in simulator.store.jobs


async def test_gc_after_purge_and_reregister_restarts_versions(
    simulator: Simulator, sim_server: SimServer
) -> None:
    """After GC the job is unknown (404); registering it again starts at Version 0."""
    simulator.register_job_spec(batch_job("report"))
    await wait_until(simulator, lambda: job_status(simulator, "report") == "dead")
    assert simulator.controls.garbage_collect() == ["report"]
    simulator.register_job_spec(batch_job("report"))
    assert simulator.store.jobs[("default", "report")]["Version"] == 0
    assert counts(simulator, "report", "main")["Complete"] == 0


async def test_reset_index_moves_every_index_back(
    simulator: Simulator, sim_server: SimServer
) -> None:
    """After a snapshot restore indexes are the snapshot's: lower than clients saw. The
    control keeps the objects and shifts every index so the newest lands on `to`."""
    simulator.register_job_spec(service_job("web", web=1))
    await settled(simulator)
    before = simulator.store.latest_index
    job_before = dict(simulator.store.jobs[("default", "web")])
    assert simulator.controls.reset_index(to=3) == 3
    job = simulator.store.jobs[("default", "web")]
    assert simulator.store.latest_index == 3 < before
    assert job["ModifyIndex"] <= 3
    assert job["Version"] == job_before["Version"]
    assert max(simulator.store.table_index.values()) == 3
    simulator.register_job_spec(service_job("other"))
    assert 3 < simulator.store.jobs[("default", "other")]["CreateIndex"] < before
