"""Time per `GET /jobs`: the bridge against a naive proxy that asks Nomad on every read."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from bench.cluster import Cluster
from bench.load import LOADGEN, LoadResult, drive
from bench.measures import Bench
from bench.nomad_http import SimNomad
from bench.processes import Service, free_port, python_module, wait_http_ok
from bench.stats import ratio

NAIVE_READY_TIMEOUT_S = 30.0


@asynccontextmanager
async def naive_proxy(bench: Bench, cluster: Cluster) -> AsyncIterator[Service]:
    port = free_port()
    argv = python_module("bench.naive_proxy", "--port", str(port), "--nomad", cluster.sim.url)
    service = bench.procs.spawn("naive", argv, port=port)
    try:
        await wait_http_ok(service, "/health", NAIVE_READY_TIMEOUT_S)
        yield service
    finally:
        bench.procs.stop(service)


@dataclass(frozen=True)
class NaiveComparison:
    jobs: int
    bridge: LoadResult
    naive: LoadResult
    naive_upstream_requests: int

    @property
    def speedup(self) -> float:
        """How many times longer a naive read takes than a bridge read (medians)."""
        return ratio(self.naive.latency_p50_s, self.bridge.latency_p50_s)

    @property
    def naive_upstream_per_read(self) -> float:
        return ratio(self.naive_upstream_requests, self.naive.requests)

    def to_json(self) -> dict[str, Any]:
        return {
            "jobs": self.jobs,
            "bridge_latency_p50_s": self.bridge.latency_p50_s,
            "naive_latency_p50_s": self.naive.latency_p50_s,
            "speedup": self.speedup,
            "naive_upstream_per_read": self.naive_upstream_per_read,
            "bridge_run": self.bridge.to_json(),
            "naive_run": self.naive.to_json(),
        }


async def sequential(service: Service, reads: int, run_s: float) -> LoadResult:
    """`reads` reads one after another on one connection (fewer if `run_s` runs out)."""
    return await drive(
        f"{service.url}/jobs",
        server_pid=service.pid,
        connections=1,
        duration_s=run_s,
        budget=reads,
        tool=LOADGEN,
    )


async def compare_naive(bench: Bench, cluster: Cluster) -> NaiveComparison:
    assert cluster.bridge is not None
    profile = bench.profile
    sim = SimNomad(bench.http, cluster.sim.url)
    bridge = await sequential(cluster.bridge, profile.bridge_reads, profile.sequential_run_s)
    async with naive_proxy(bench, cluster) as proxy:
        await sequential(proxy, 1, profile.sequential_run_s)  # warm-up: connection pool
        await sim.reset_counts()
        naive = await sequential(proxy, profile.naive_reads, profile.sequential_run_s)
        upstream = sum((await sim.request_counts()).values())
    return NaiveComparison(len(cluster.job_ids), bridge, naive, upstream)
