"""Helpers for tests that drive a simulator: wait on state changes instead of sleeping."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from nomad_bridge.sim.config import SimConfig
from nomad_bridge.sim.state import ALL_TABLES

if TYPE_CHECKING:
    from nomad_bridge.sim.simulator import Simulator

DEFAULT_TIMEOUT_S = 5.0


def fast_config() -> SimConfig:
    """Simulated time compressed so allocations settle within tens of milliseconds."""
    return SimConfig(
        eval_delay_s=0.005,
        alloc_start_delay_s=0.01,
        alloc_stop_delay_s=0.01,
        batch_run_s=0.05,
        deployment_min_healthy_s=0.02,
        reschedule_delay_s=0.03,
    )


async def wait_until(
    sim: Simulator, predicate: Callable[[], bool], timeout_s: float = DEFAULT_TIMEOUT_S
) -> None:
    """Return once `predicate()` holds, re-checking after every state change.

    Raises TimeoutError if it still does not hold after `timeout_s`.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while not predicate():
        remaining = deadline - loop.time()
        if remaining <= 0:
            raise TimeoutError(f"condition not reached within {timeout_s}s")
        fut = sim.store.watch(ALL_TABLES)
        try:
            await asyncio.wait({fut}, timeout=remaining)
        finally:
            sim.store.unwatch(fut, ALL_TABLES)
            fut.cancel()


async def wait_parked(sim: Simulator, table: str, count: int = 1, timeout_s: float = 5.0) -> None:
    """Return once `count` blocking queries are waiting on `table`."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while sim.store.watcher_count(table) < count:
        if loop.time() > deadline:
            raise TimeoutError(f"{count} waiters on {table} not reached within {timeout_s}s")
        await asyncio.sleep(0.001)


def deployment_settled(sim: Simulator, job_id: str, namespace: str = "default") -> bool:
    """The job's latest deployment (if any) is no longer active."""
    latest = sim.store.latest_deployment(namespace, job_id)
    return latest is None or not latest.active


def summary_of(sim: Simulator, job_id: str, namespace: str = "default") -> dict[str, Any]:
    """The job's summary as GET /v1/job/:id/summary returns it (its `Summary` part)."""
    summary = sim.store.summaries[(namespace, job_id)]
    return {name: tg.to_json() for name, tg in summary.summary.items()}


def job_status(sim: Simulator, job_id: str, namespace: str = "default") -> str | None:
    job = sim.store.jobs.get((namespace, job_id))
    return None if job is None else str(job["Status"])


def service_job(job_id: str, **groups: int) -> dict[str, Any]:
    """A minimal service job with one task per group (`web=2` is group `web`, Count 2)."""
    return _job(job_id, "service", groups or {"main": 1})


def batch_job(job_id: str, **groups: int) -> dict[str, Any]:
    return _job(job_id, "batch", groups or {"main": 1})


def _job(job_id: str, job_type: str, groups: dict[str, int]) -> dict[str, Any]:
    return {
        "ID": job_id,
        "Type": job_type,
        "Datacenters": ["dc1"],
        "TaskGroups": [
            {
                "Name": name,
                "Count": count,
                "Tasks": [{"Name": name, "Driver": "docker", "Config": {"image": "busybox"}}],
            }
            for name, count in groups.items()
        ],
    }
