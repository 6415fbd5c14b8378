"""Allocation lifecycle, summary counters and job status, as Nomad's state store keeps them."""

from __future__ import annotations

from nomad_bridge.sim import SimServer, Simulator
from nomad_bridge.sim.testing import batch_job, job_status, service_job, summary_of, wait_until


def running(sim: Simulator, job_id: str, group: str, n: int) -> bool:
    return summary_of(sim, job_id).get(group, {}).get("Running") == n


async def test_new_service_job_goes_pending_then_running_with_starting_then_running_counts(
    simulator: Simulator, sim_server: SimServer
) -> None:
    """getJobStatus (nomad/state/state_store.go): no allocs and a pending eval is `pending`;
    a non-terminal allocation makes it `running`. updateSummaryWithAlloc: a new pending
    alloc is Starting+1, and client `running` moves it to Running."""
    simulator.config.alloc_start_delay_s = 0.5  # `Starting` lasts long enough to be seen
    simulator.register_job_spec(service_job("web", web=2))
    assert job_status(simulator, "web") == "pending"
    await wait_until(simulator, lambda: summary_of(simulator, "web")["web"]["Starting"] == 2)
    assert job_status(simulator, "web") == "running"
    await wait_until(simulator, lambda: running(simulator, "web", "web", 2))
    assert summary_of(simulator, "web")["web"] == {
        "Queued": 0,
        "Complete": 0,
        "Failed": 0,
        "Running": 2,
        "Starting": 0,
        "Lost": 0,
        "Unknown": 0,
    }


async def test_batch_job_completes_and_turns_dead(
    simulator: Simulator, sim_server: SimServer
) -> None:
    """Batch success goes Starting→Running→Complete; with every alloc and eval terminal the
    job is `dead` (api-docs/jobs.mdx field reference; getJobStatus)."""
    simulator.register_job_spec(batch_job("report", report=2))
    await wait_until(simulator, lambda: job_status(simulator, "report") == "dead")
    counts = summary_of(simulator, "report")["report"]
    assert (counts["Complete"], counts["Running"], counts["Starting"]) == (2, 0, 0)


async def test_stop_marks_allocs_stopped_then_complete_and_job_dead(
    simulator: Simulator, sim_server: SimServer
) -> None:
    """Deregister without purge (nomad/fsm.go handleJobDeregister): Stop=true as a new
    version; the scheduler stops every alloc and clients report `complete`, so Running
    falls to 0 and Complete rises by the number stopped; the job ends `dead`."""
    simulator.register_job_spec(service_job("web", web=3))
    await wait_until(simulator, lambda: running(simulator, "web", "web", 3))
    before = simulator.store.jobs[("default", "web")]
    result = simulator.jobs.deregister("web", namespace="default", purge=False)
    stopped = simulator.store.jobs[("default", "web")]
    assert stopped["Stop"] is True
    assert stopped["Version"] == before["Version"] + 1
    assert stopped["JobModifyIndex"] == result["JobModifyIndex"] == result["Index"]
    await wait_until(simulator, lambda: summary_of(simulator, "web")["web"]["Complete"] == 3)
    assert summary_of(simulator, "web")["web"]["Running"] == 0
    await wait_until(simulator, lambda: job_status(simulator, "web") == "dead")


async def test_stopping_twice_bumps_the_version_again(
    simulator: Simulator, sim_server: SimServer
) -> None:
    """There is no "already stopped" check: every deregister writes a new version."""
    simulator.register_job_spec(service_job("web"))
    first = simulator.jobs.deregister("web", namespace="default", purge=False)
    second = simulator.jobs.deregister("web", namespace="default", purge=False)
    job = simulator.store.jobs[("default", "web")]
    assert job["Version"] == 2
    assert second["JobModifyIndex"] > first["JobModifyIndex"]


async def test_counters_survive_new_versions_and_stop_start(
    simulator: Simulator, sim_server: SimServer
) -> None:
    """Complete and Failed are cumulative for the job's incarnation; a restart (register
    with Stop=false) keeps the summary (same CreateIndex) and places new allocations."""
    spec = service_job("web", web=1)
    simulator.register_job_spec(spec)
    await wait_until(simulator, lambda: running(simulator, "web", "web", 1))
    simulator.jobs.deregister("web", namespace="default", purge=False)
    await wait_until(simulator, lambda: summary_of(simulator, "web")["web"]["Complete"] == 1)
    create_index = simulator.store.summaries[("default", "web")].create_index
    simulator.register_job_spec(spec)
    await wait_until(simulator, lambda: running(simulator, "web", "web", 1))
    assert summary_of(simulator, "web")["web"]["Complete"] == 1
    assert simulator.store.summaries[("default", "web")].create_index == create_index
    assert job_status(simulator, "web") == "running"


async def test_purge_then_register_starts_a_new_incarnation(
    simulator: Simulator, sim_server: SimServer
) -> None:
    """Purge deletes job, versions and summary; re-registering starts at Version 0 with a
    new CreateIndex and zeroed counters; old allocations no longer count."""
    simulator.register_job_spec(service_job("web", web=1))
    await wait_until(simulator, lambda: running(simulator, "web", "web", 1))
    old_create = simulator.store.jobs[("default", "web")]["CreateIndex"]
    simulator.jobs.deregister("web", namespace="default", purge=True)
    assert ("default", "web") not in simulator.store.jobs
    assert ("default", "web") not in simulator.store.summaries
    simulator.register_job_spec(service_job("web", web=1))
    job = simulator.store.jobs[("default", "web")]
    assert (job["Version"], job["CreateIndex"] > old_create) == (0, True)
    await wait_until(simulator, lambda: running(simulator, "web", "web", 1))
    assert summary_of(simulator, "web")["web"]["Complete"] == 0


async def test_removed_group_stays_in_summary(simulator: Simulator, sim_server: SimServer) -> None:
    """updateSummaryWithJob only adds groups; a group removed from the spec keeps its row
    (and its allocations are stopped, counting as Complete)."""
    simulator.register_job_spec(service_job("web", web=1, api=1))
    await wait_until(simulator, lambda: running(simulator, "web", "api", 1))
    simulator.register_job_spec(service_job("web", web=1))
    await wait_until(simulator, lambda: summary_of(simulator, "web")["api"]["Complete"] == 1)
    assert set(summary_of(simulator, "web")) == {"web", "api"}


async def test_scale_down_stops_highest_indexes(
    simulator: Simulator, sim_server: SimServer
) -> None:
    """Scale-down marks surplus allocations DesiredStatus=stop (no counter change) and the
    clients then report complete: Running -1, Complete +1 each."""
    simulator.register_job_spec(service_job("web", web=3))
    await wait_until(simulator, lambda: running(simulator, "web", "web", 3))
    await wait_until(simulator, lambda: not _active_deployment(simulator, "web"))
    simulator.jobs.scale("web", namespace="default", group_name="web", count=1)
    await wait_until(simulator, lambda: summary_of(simulator, "web")["web"]["Complete"] == 2)
    live = [a for a in simulator.store.allocs.values() if not a.terminal]
    assert [a.name for a in live] == ["web.web[0]"]
    assert summary_of(simulator, "web")["web"]["Running"] == 1


def _active_deployment(sim: Simulator, job_id: str) -> bool:
    latest = sim.store.latest_deployment("default", job_id)
    return latest is not None and latest.active


async def test_service_scaled_to_zero_is_dead_but_not_stopped(
    simulator: Simulator, sim_server: SimServer
) -> None:
    """With no allocations left and evals complete, getJobStatus says `dead` even though
    Stop is false."""
    simulator.register_job_spec(service_job("web", web=1))
    await wait_until(simulator, lambda: running(simulator, "web", "web", 1))
    await wait_until(simulator, lambda: not _active_deployment(simulator, "web"))
    simulator.jobs.scale("web", namespace="default", group_name="web", count=0)
    await wait_until(simulator, lambda: job_status(simulator, "web") == "dead")
    assert simulator.store.jobs[("default", "web")]["Stop"] is False


async def test_status_change_bumps_modify_index_only(
    simulator: Simulator, sim_server: SimServer
) -> None:
    """setJobStatus rewrites the job with a new ModifyIndex; JobModifyIndex (the spec
    index) and Version stay."""
    simulator.register_job_spec(service_job("web"))
    registered = dict(simulator.store.jobs[("default", "web")])
    await wait_until(simulator, lambda: job_status(simulator, "web") == "running")
    job = simulator.store.jobs[("default", "web")]
    assert job["ModifyIndex"] > registered["ModifyIndex"]
    assert (job["JobModifyIndex"], job["Version"]) == (registered["JobModifyIndex"], 0)


async def test_child_jobs_count_in_parent_children(
    simulator: Simulator, sim_server: SimServer
) -> None:
    """Children of a periodic job carry ParentID; setJobSummary moves the child's status
    between the parent's Children.Pending/Running/Dead counts."""
    parent = batch_job("nightly")
    parent["Periodic"] = {"Spec": "0 3 * * *", "SpecType": "cron"}
    simulator.register_job_spec(parent)
    assert job_status(simulator, "nightly") == "running"
    child_id = simulator.controls.add_child_job("nightly")
    child = simulator.store.jobs[("default", child_id)]
    assert child["ParentID"] == "nightly"
    assert child_id.startswith("nightly/periodic-")
    assert child["Periodic"] is None
    summary = simulator.store.summaries[("default", "nightly")]
    assert summary.to_json()["Children"] == {"Pending": 1, "Running": 0, "Dead": 0}
    await wait_until(simulator, lambda: job_status(simulator, child_id) == "dead")
    assert summary.to_json()["Children"] == {"Pending": 0, "Running": 0, "Dead": 1}


async def test_dispatched_child_of_parameterized_job(
    simulator: Simulator, sim_server: SimServer
) -> None:
    """A dispatched instance gets ID `<parent>/dispatch-<unix>-<8 hex>` and Dispatched=true."""
    parent = batch_job("encode")
    parent["ParameterizedJob"] = {"Payload": "optional"}
    simulator.register_job_spec(parent)
    child_id = simulator.controls.add_child_job("encode", kind="dispatch")
    child = simulator.store.jobs[("default", child_id)]
    assert child_id.startswith("encode/dispatch-")
    assert child["Dispatched"] is True
    await wait_until(simulator, lambda: job_status(simulator, child_id) == "running")
