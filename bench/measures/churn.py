"""Churn: changes made straight on Nomad at a fixed rate, and what the bridge pays to keep
its view current, following Nomad's event stream (`BRIDGE_WATCH=auto`) against the
blocking job list (`BRIDGE_WATCH=list`, the anchor), each alone in front of the same
simulator, one after the other.

A change is a failed allocation (the simulator's control) or a count change (`POST
/v1/job/:id/scale` on Nomad), alternately, each on a job of its own. Per change a client
reads the job's view and `waitIndex` from the bridge, then long-polls it until the view
shows the change: the lag is from Nomad's answer to the change (it is committed then) to
the client's answer. Bridge CPU (`/proc`),
Nomad requests (the simulator's counter, the driver's own scale calls taken out) and the
bytes Nomad sent the bridge (a counting TCP relay in between, `bench/relay.py`) are
totalled from the first change until the cluster is quiet again, and divided by the
number of changes.
"""

from __future__ import annotations

import asyncio
import logging
import math
import random
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from bench.cluster import Cluster, running_cluster
from bench.measures import Bench
from bench.nomad_http import SimNomad
from bench.processes import Service, cpu_seconds, free_port, python_module
from bench.relay import read_counts
from bench.stats import percentile

log = logging.getLogger("bench")

QUIET = {"BRIDGE_ACCESS_LOG_READS": "false"}
"""The client's reads are not logged: the figures are the watch's, not the access log's."""
MODES = {"events": {"BRIDGE_WATCH": "auto", **QUIET}, "list": {"BRIDGE_WATCH": "list", **QUIET}}
FAILED_GROUP = "group-0"
COUNTED_GROUP = "group-2"
LAG_LIMIT_S = 10.0
"""A change the client has not seen after this long counts as lost (its lag infinite)."""
SETTLE_S = 2.5
"""After the last change is seen: the simulator replaces failed allocations after 1 s and
starts new ones after 0.5 s; the bridge's work for those is part of the change's cost."""
MAX_RATE_LAG_P99_S = 1.0
RELAY_READY_TIMEOUT_S = 10.0


@dataclass
class ChurnRun:
    """One run: `rate` changes a second for a while, in one mode, at one cluster size."""

    jobs: int
    mode: str
    rate: float
    changes: int = 0
    lags_s: list[float] = field(default_factory=list)
    """One per change; a change never seen counts `LAG_LIMIT_S` (and as `lost`)."""
    lost: int = 0
    cpu_s: float = 0.0
    nomad_requests: int = 0
    nomad_bytes: int = 0
    requests_by_path: dict[str, int] = field(default_factory=dict)
    sim_cpu_s: float = 0.0
    """The simulator's CPU over the same time: where it is busy, Nomad, not the bridge,
    sets the pace."""
    change_latencies_s: list[float] = field(default_factory=list)
    """How long Nomad took to answer each change (the lag is counted from its answer)."""

    def lag_s(self, fraction: float) -> float:
        return percentile(self.lags_s, fraction)

    def per_change(self, total: float) -> float:
        return total / self.changes if self.changes else math.nan

    def to_json(self) -> dict[str, Any]:
        return {
            "jobs": self.jobs,
            "mode": self.mode,
            "rate_per_s": self.rate,
            "changes": self.changes,
            "lost": self.lost,
            "cpu_ms_per_change": self.per_change(self.cpu_s * 1000),
            "nomad_requests_per_change": self.per_change(self.nomad_requests),
            "nomad_bytes_per_change": self.per_change(self.nomad_bytes),
            "lag_p50_s": self.lag_s(0.5),
            "lag_p99_s": self.lag_s(0.99),
            "sim_cpu_ms_per_change": self.per_change(self.sim_cpu_s * 1000),
            "change_latency_p99_s": percentile(self.change_latencies_s, 0.99),
            "requests_by_path": self.requests_by_path,
        }


@dataclass
class Churn:
    """Every churn run, and the highest rate each mode sustained at the largest size."""

    runs: list[ChurnRun] = field(default_factory=list)
    max_rate: dict[str, float] = field(default_factory=dict)
    ladder: list[ChurnRun] = field(default_factory=list)
    cold_ready_s: float = math.nan
    """At the largest size: a bridge with no saved definitions yet, spawn to `/ready`."""
    cold: ChurnRun | None = None
    """The fixed-rate run on that bridge at once, while it saves every definition."""


class _Driver:
    """Makes changes on Nomad and watches the bridge show them."""

    def __init__(self, http: aiohttp.ClientSession, sim: SimNomad, bridge_url: str) -> None:
        self._http = http
        self._sim = sim
        self._bridge = bridge_url
        self.nomad_latencies_s: list[float] = []

    async def change_and_watch(self, job_id: str, kind: str) -> float:
        """Make one change; seconds until a long-polling client saw it (inf if never)."""
        view, index = await self._summary(job_id)
        sent = time.perf_counter()
        if kind == "fail":
            group, field_name = FAILED_GROUP, "failed"
            target = _group(view, group)["summary"]["failed"] + 1
            await self._fail(job_id)
        else:
            group, field_name = COUNTED_GROUP, "count"
            target = 2 if _group(view, group)["count"] == 1 else 1
            await self._scale(job_id, target)
        started = time.perf_counter()  # Nomad answered: the change is committed
        self.nomad_latencies_s.append(started - sent)
        deadline = started + LAG_LIMIT_S
        while not _shows(view, group, field_name, target):
            remaining = deadline - time.perf_counter()
            if remaining <= 0:
                return math.inf
            view, index = await self._summary(job_id, index, remaining)
        return time.perf_counter() - started

    async def _summary(
        self, job_id: str, index: int | None = None, wait_s: float = 0.0
    ) -> tuple[dict[str, Any], int]:
        url = f"{self._bridge}/job/{job_id}/summary"
        headers = {}
        if index is not None:
            url += f"?wait={max(wait_s, 0.001):.3f}s"
            headers["waitIndex"] = str(index)
        async with self._http.get(url, headers=headers) as answer:
            answer.raise_for_status()
            return await answer.json(), int(answer.headers["waitIndex"])

    async def _fail(self, job_id: str) -> None:
        body = {"job": job_id, "group": FAILED_GROUP, "count": 1}
        async with self._http.post(f"{self._sim.url}/_sim/fail", json=body) as answer:
            answer.raise_for_status()

    async def _scale(self, job_id: str, count: int) -> None:
        body = {"Count": count, "Target": {"Group": COUNTED_GROUP}, "Message": "bench churn"}
        async with self._http.post(f"{self._sim.url}/v1/job/{job_id}/scale", json=body) as r:
            r.raise_for_status()


def _group(view: dict[str, Any], name: str) -> dict[str, Any]:
    return dict(next(g for g in view["taskGroups"] if g["name"] == name))


def _shows(view: dict[str, Any], group: str, field_name: str, target: int) -> bool:
    """Whether the view shows the change: the failed counter reached, or the count set."""
    found = _group(view, group)
    if field_name == "failed":
        return int(found["summary"]["failed"]) >= target
    return int(found["count"]) == target


async def _paced(
    rate: float, count: int, make: Callable[[int], Coroutine[Any, Any, float]]
) -> list[float]:
    """Start change `k` at `k / rate` seconds; every change's lag."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    tasks: list[asyncio.Task[float]] = []
    for k in range(count):
        delay = started + k / rate - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(make(k)))
    return list(await asyncio.gather(*tasks))


class _Relayed:
    """A bridge in front of the simulator through a byte-counting relay."""

    def __init__(self, bench: Bench, cluster: Cluster) -> None:
        self._bench = bench
        self._cluster = cluster
        self.relay: Service | None = None
        self.stats_port = 0

    async def start_relay(self) -> str:
        port, self.stats_port = free_port(), free_port()
        argv = python_module(
            "bench.relay", str(port), str(self._cluster.sim.port), str(self.stats_port)
        )
        self.relay = self._bench.procs.spawn("relay", argv, port=port)
        deadline = time.monotonic() + RELAY_READY_TIMEOUT_S
        while True:
            try:
                await read_counts(self.stats_port)
                return self.relay.url
            except OSError:
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.05)

    def stop(self) -> None:
        if self.relay is not None:
            self._bench.procs.stop(self.relay)
            self.relay = None


async def _run(
    bench: Bench, cluster: Cluster, bridge: Service, relayed: _Relayed, run: ChurnRun, count: int
) -> ChurnRun:
    sim = SimNomad(bench.http, cluster.sim.url)
    driver = _Driver(bench.http, sim, bridge.url)
    jobs = random.Random(run.jobs).sample(cluster.job_ids, min(count, len(cluster.job_ids)))
    await sim.reset_counts()
    await read_counts(relayed.stats_port, reset=True)
    cpu_before, sim_before = cpu_seconds(bridge.pid), cpu_seconds(cluster.sim.pid)

    async def make(k: int) -> float:
        return await driver.change_and_watch(jobs[k % len(jobs)], "fail" if k % 2 == 0 else "count")

    lags = await _paced(run.rate, count, make)
    run.lost = sum(1 for lag in lags if math.isinf(lag))
    run.lags_s = [min(lag, LAG_LIMIT_S) for lag in lags]
    run.changes = count
    await asyncio.sleep(SETTLE_S)
    run.cpu_s = cpu_seconds(bridge.pid) - cpu_before
    run.sim_cpu_s = cpu_seconds(cluster.sim.pid) - sim_before
    run.change_latencies_s = driver.nomad_latencies_s
    run.nomad_bytes = (await read_counts(relayed.stats_port))["down"]
    counts = await sim.request_counts()
    run.requests_by_path = _generic(
        {k: n for k, n in counts.items() if not k.startswith("POST /v1/job/")}
    )
    run.nomad_requests = sum(run.requests_by_path.values())
    return run


def _generic(counts: dict[str, int]) -> dict[str, int]:
    """Request counts with job IDs and variable paths written generically."""
    out: dict[str, int] = {}
    for key, n in counts.items():
        method, path = key.split(" ", 1)
        parts = path.split("/")
        if len(parts) > 3 and parts[2] in ("job", "var"):
            parts[3] = ":id"
        generic = f"{method} {'/'.join(parts)}"
        out[generic] = out.get(generic, 0) + n
    return out


async def _with_bridge(
    bench: Bench, cluster: Cluster, mode: str, body: Callable[[Service, _Relayed], Awaitable[None]]
) -> None:
    relayed = _Relayed(bench, cluster)
    url = await relayed.start_relay()
    bridge = await cluster.spawn_bridge(f"bridge-churn-{mode}", MODES[mode], nomad_url=url)
    try:
        cluster.bridge = bridge
        await cluster.steady(bench.http)
        await cluster.upstream_quiet(bench.http)
        await body(bridge, relayed)
    finally:
        cluster.bridge = None
        bench.procs.stop(bridge)
        relayed.stop()


def _count_for(rate: float, seconds: float) -> int:
    return max(int(rate * seconds), 10)


async def measure_churn(bench: Bench) -> Churn:
    """Each size in turn: one cluster, a bridge in each mode one after the other."""
    churn = Churn()
    for jobs in bench.profile.churn_jobs:
        async with running_cluster(
            bench.procs, bench.workdir, jobs=jobs, groups=bench.profile.groups, bridge=False
        ) as cluster:
            for mode in MODES:
                await _with_bridge(bench, cluster, mode, _Session(bench, cluster, mode, churn))
            if jobs == max(bench.profile.churn_jobs):
                await _cold_start(bench, cluster, churn)
    return churn


async def _cold_start(bench: Bench, cluster: Cluster, churn: Churn) -> None:
    """A bridge that has saved no definition yet (a prefix of its own): how long until it
    is ready, and the fixed-rate run at once, while it compares and writes them all."""
    relayed = _Relayed(bench, cluster)
    url = await relayed.start_relay()
    settings = {**MODES["events"], "BRIDGE_DEFINITIONS_PREFIX": "nomad-bridge/cold-start"}
    started = time.monotonic()
    bridge = await cluster.spawn_bridge("bridge-churn-cold", settings, nomad_url=url)
    churn.cold_ready_s = time.monotonic() - started
    try:
        cluster.bridge = bridge
        rate = bench.profile.churn_rate
        run = ChurnRun(len(cluster.job_ids), "events", rate)
        churn.cold = await _run(
            bench, cluster, bridge, relayed, run, _count_for(rate, bench.profile.churn_run_s)
        )
        log.info("cold start: ready in %.1fs; while saving definitions:", churn.cold_ready_s)
        _log(run)
    finally:
        cluster.bridge = None
        bench.procs.stop(bridge)
        relayed.stop()


class _Session:
    """What one bridge goes through: the fixed-rate run, then at the largest size the
    ladder of rates."""

    def __init__(self, bench: Bench, cluster: Cluster, mode: str, churn: Churn) -> None:
        self._bench = bench
        self._cluster = cluster
        self._mode = mode
        self._churn = churn

    async def __call__(self, bridge: Service, relayed: _Relayed) -> None:
        profile, jobs = self._bench.profile, len(self._cluster.job_ids)
        run = ChurnRun(jobs, self._mode, profile.churn_rate)
        count = _count_for(profile.churn_rate, profile.churn_run_s)
        self._churn.runs.append(await _run(self._bench, self._cluster, bridge, relayed, run, count))
        _log(run)
        if jobs == max(profile.churn_jobs):
            self._churn.max_rate[self._mode] = await _max_rate(
                self._bench, self._cluster, bridge, relayed, self._mode, self._churn
            )


async def _max_rate(
    bench: Bench, cluster: Cluster, bridge: Service, relayed: _Relayed, mode: str, churn: Churn
) -> float:
    """The highest rate of the ladder whose lag p99 stays under 1 s with nothing lost."""
    best = 0.0
    for rate in bench.profile.churn_ladder:
        count = _count_for(rate, bench.profile.churn_ladder_s)
        run = await _run(
            bench, cluster, bridge, relayed, ChurnRun(len(cluster.job_ids), mode, rate), count
        )
        churn.ladder.append(run)
        _log(run)
        if run.lost or run.lag_s(0.99) >= MAX_RATE_LAG_P99_S:
            break
        best = rate
    return best


def _log(run: ChurnRun) -> None:
    figures = run.to_json()
    log.info(
        "churn jobs=%d mode=%s rate=%.0f/s changes=%d lost=%d cpu=%.2fms/change "
        "nomad=%.1f req %.0f B/change lag p50=%.0fms p99=%.0fms "
        "(sim cpu=%.1fms/change, change answered p99=%.0fms)",
        run.jobs,
        run.mode,
        run.rate,
        run.changes,
        run.lost,
        figures["cpu_ms_per_change"],
        figures["nomad_requests_per_change"],
        figures["nomad_bytes_per_change"],
        run.lag_s(0.5) * 1000,
        run.lag_s(0.99) * 1000,
        figures["sim_cpu_ms_per_change"],
        figures["change_latency_p99_s"] * 1000,
    )
