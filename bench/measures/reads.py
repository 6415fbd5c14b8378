"""`GET /jobs` throughput: the bridge against a bare aiohttp handler serving the same
bytes, and what those reads cost Nomad."""

from __future__ import annotations

import math
import statistics
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from bench.cluster import Cluster, Steady
from bench.load import LoadResult, drive
from bench.measures import Bench
from bench.nomad_http import SimNomad
from bench.processes import Service, free_port, python_module, rss_bytes, wait_http_ok
from bench.stats import ratio

BARE_READY_TIMEOUT_S = 30.0
WARM_UP_S = 0.5
WATCH_RENEWAL_S = 3.0
"""The bridge's default `BRIDGE_WATCH_PROBE_S`: the watch asks Nomad for its index (an empty
job list) this often when nothing else told it."""
BACKGROUND = ("GET /v1/vars", "GET /v1/var/")


@asynccontextmanager
async def bare_server(bench: Bench, steady: Steady) -> AsyncIterator[Service]:
    """The anchor: its own process answering `GET /jobs` with the bridge's exact bytes."""
    body_file = bench.workdir / f"body-{steady.wait_index}-{len(steady.body)}.json"
    body_file.write_bytes(steady.body)
    port = free_port()
    argv = python_module(
        "bench.bare",
        "--port",
        str(port),
        "--body-file",
        str(body_file),
        "--wait-index",
        str(steady.wait_index),
    )
    service = bench.procs.spawn("bare", argv, port=port)
    try:
        await wait_http_ok(service, "/health", BARE_READY_TIMEOUT_S)
        yield service
    finally:
        bench.procs.stop(service)


def _reads_per_cpu_s(runs: list[LoadResult]) -> float:
    return statistics.median(ratio(run.rps, run.server_cpu) for run in runs)


@dataclass(frozen=True)
class ReadComparison:
    jobs: int
    body_bytes: int
    bridge: list[LoadResult]
    bare: list[LoadResult]
    upstream_requests: int
    upstream_paths: dict[str, int]
    bridge_rss_bytes: int
    variant: dict[str, str] = field(default_factory=dict)
    variant_runs: list[LoadResult] = field(default_factory=list)

    @property
    def variant_ratio(self) -> float:
        """The variant bridge's throughput ÷ bare, from the same rounds (NaN without one)."""
        if not self.variant_runs:
            return math.nan
        return ratio(statistics.median(run.rps for run in self.variant_runs), self.bare_rps)

    @property
    def bridge_rps(self) -> float:
        return statistics.median(run.rps for run in self.bridge)

    @property
    def bare_rps(self) -> float:
        return statistics.median(run.rps for run in self.bare)

    @property
    def ratio(self) -> float:
        return ratio(self.bridge_rps, self.bare_rps)

    @property
    def cpu_ratio(self) -> float:
        """Reads per CPU-second of the bridge ÷ of bare: steadier than `ratio` when other
        work shares the machine, as it does not depend on how much CPU the server got."""
        return ratio(_reads_per_cpu_s(self.bridge), _reads_per_cpu_s(self.bare))

    @property
    def reads(self) -> int:
        return sum(run.requests for run in self.bridge)

    @property
    def watch_renewals_possible(self) -> int:
        """How many times the watch may have asked Nomad on its own timer (its index probe,
        every `BRIDGE_WATCH_PROBE_S`) while the reads ran."""
        seconds = sum(run.elapsed_s for run in self.bridge)
        watches = 2 if self.variant else 1  # the variant bridge has its own watch
        return watches * math.ceil(seconds / WATCH_RENEWAL_S)

    @property
    def background_requests(self) -> int:
        """Saved-definition requests (`/v1/vars`, `/v1/var/...`): the bridge's 30 s refresh
        timer, which runs with or without reads; reported, not charged to reads."""
        return sum(n for path, n in self.upstream_paths.items() if path.startswith(BACKGROUND))

    @property
    def upstream_per_read(self) -> float:
        """Nomad job requests per read beyond the watch's own timed renewals: what reads
        cost Nomad. A bridge that asked Nomad per read would show 1 or more here."""
        jobs = self.upstream_requests - self.background_requests
        return ratio(max(0, jobs - self.watch_renewals_possible), self.reads)

    def to_json(self) -> dict[str, Any]:
        return {
            "jobs": self.jobs,
            "body_bytes": self.body_bytes,
            "bridge_rps": self.bridge_rps,
            "bare_rps": self.bare_rps,
            "ratio": self.ratio,
            "cpu_ratio": self.cpu_ratio,
            "reads": self.reads,
            "upstream_requests": self.upstream_requests,
            "upstream_paths": self.upstream_paths,
            "watch_renewals_possible": self.watch_renewals_possible,
            "background_requests": self.background_requests,
            "upstream_per_read": self.upstream_per_read,
            "bridge_rss_bytes": self.bridge_rss_bytes,
            "variant": self.variant,
            "variant_ratio": self.variant_ratio,
            "variant_runs": [run.to_json() for run in self.variant_runs],
            "bridge_runs": [run.to_json() for run in self.bridge],
            "bare_runs": [run.to_json() for run in self.bare],
        }


async def compare_reads(
    bench: Bench,
    cluster: Cluster,
    steady: Steady,
    *,
    run_s: float,
    rounds: int,
    variant: dict[str, str] | None = None,
) -> ReadComparison:
    """Alternate bare and bridge runs (`rounds` each) so drift hits both sides alike; count
    the Nomad requests the simulator received during the bridge's runs. With `variant`
    (BRIDGE_* settings), a second bridge so configured takes a turn in every round too."""
    assert cluster.bridge is not None
    bridge, sim = cluster.bridge, SimNomad(bench.http, cluster.sim.url)
    rss = rss_bytes(bridge.pid)
    bridge_runs: list[LoadResult] = []
    bare_runs: list[LoadResult] = []
    variant_runs: list[LoadResult] = []
    upstream: dict[str, int] = {}
    other = await cluster.spawn_bridge("bridge-variant", variant) if variant else None
    try:
        await cluster.steady(bench.http)
        await cluster.upstream_quiet(bench.http)
        async with bare_server(bench, steady) as bare:
            await _alternate(
                bench,
                sim,
                bare,
                bridge,
                other,
                run_s,
                rounds,
                (bare_runs, bridge_runs, variant_runs),
                upstream,
            )
    finally:
        if other is not None:
            bench.procs.stop(other)
    return ReadComparison(
        jobs=len(cluster.job_ids),
        body_bytes=len(steady.body),
        bridge=bridge_runs,
        bare=bare_runs,
        upstream_requests=sum(upstream.values()),
        upstream_paths=upstream,
        bridge_rss_bytes=rss,
        variant=variant or {},
        variant_runs=variant_runs,
    )


async def _alternate(
    bench: Bench,
    sim: SimNomad,
    bare: Service,
    bridge: Service,
    other: Service | None,
    run_s: float,
    rounds: int,
    runs: tuple[list[LoadResult], list[LoadResult], list[LoadResult]],
    upstream: dict[str, int],
) -> None:
    bare_runs, bridge_runs, variant_runs = runs
    connections = bench.profile.read_connections
    for target in (bare, bridge, *([other] if other else [])):  # warm up every server
        await drive(
            f"{target.url}/jobs",
            server_pid=target.pid,
            connections=connections,
            duration_s=WARM_UP_S,
        )
    for _ in range(rounds):
        bare_runs.append(
            await drive(
                f"{bare.url}/jobs",
                server_pid=bare.pid,
                connections=connections,
                duration_s=run_s,
            )
        )
        await sim.reset_counts()
        bridge_runs.append(
            await drive(
                f"{bridge.url}/jobs",
                server_pid=bridge.pid,
                connections=connections,
                duration_s=run_s,
            )
        )
        for path, n in (await sim.request_counts()).items():
            upstream[path] = upstream.get(path, 0) + n
        if other is not None:
            variant_runs.append(
                await drive(
                    f"{other.url}/jobs",
                    server_pid=other.pid,
                    connections=connections,
                    duration_s=run_s,
                )
            )
