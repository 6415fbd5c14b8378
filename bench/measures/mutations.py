"""Mutations: the Nomad requests and time of one count change through the bridge against
one direct register, and `startall` against starting the same jobs one by one directly."""

from __future__ import annotations

import asyncio
import statistics
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any

import aiohttp

from bench.cluster import Cluster, start_cluster, stop_cluster
from bench.measures import Bench
from bench.nomad_http import SimNomad, with_group_count
from bench.stats import ratio

VIEW_TIMEOUT_S = 30.0
VIEW_POLL_S = 0.01
GROUP = "group-1"


def _generic(counts: Counter[str], job_id: str) -> Counter[str]:
    """Request counts with the job's own paths written generically (`:job`)."""
    generic: Counter[str] = Counter()
    for path, n in counts.items():
        generic[path.replace(job_id, ":job")] += n
    return generic


async def _group_count(http: aiohttp.ClientSession, bridge_url: str, job_id: str) -> int:
    async with http.get(f"{bridge_url}/job/{job_id}/summary") as answer:
        answer.raise_for_status()
        view = await answer.json()
    return int(next(g["count"] for g in view["taskGroups"] if g["name"] == GROUP))


async def _wait_view_count(
    http: aiohttp.ClientSession, bridge_url: str, job_id: str, count: int
) -> None:
    """Until the bridge shows the count (reads through the bridge cost Nomad nothing)."""
    deadline = time.monotonic() + VIEW_TIMEOUT_S
    while await _group_count(http, bridge_url, job_id) != count:
        if time.monotonic() > deadline:
            raise TimeoutError(f"the bridge never showed {job_id}/{GROUP} at {count}")
        await asyncio.sleep(VIEW_POLL_S)


@dataclass(frozen=True)
class CountChangeRound:
    bridge_latency_s: float
    bridge_requests: Counter[str]
    direct_latency_s: float
    watch_requests: Counter[str]
    """What the bridge's watch asked Nomad after the direct change (the direct request
    itself taken out): the share of `bridge_requests` that the watch, not the mutation, made."""


def _median_counts(samples: list[Counter[str]]) -> dict[str, float]:
    paths = sorted({path for sample in samples for path in sample})
    return {path: statistics.median(sample[path] for sample in samples) for path in paths}


WATCH_ONLY_PATHS = frozenset({"GET /v1/jobs"})
"""A count change never lists jobs: those are the watch's (its listings, and the index probe
it sends every `BRIDGE_WATCH_PROBE_S` whether anything changes or not)."""


def mutation_requests(bridge: dict[str, float], watch: dict[str, float]) -> float:
    """Per path, what a change through the bridge asked of Nomad beyond what the watch asks
    for any change. Clipped at 0 per path: how many summaries the watch reads while
    allocations start varies with timing (it folds changes that arrive together), and that
    noise is the watch's, never the mutation's."""
    return sum(
        max(0.0, n - watch.get(path, 0.0))
        for path, n in bridge.items()
        if path not in WATCH_ONLY_PATHS
    )


@dataclass(frozen=True)
class CountChanges:
    rounds: list[CountChangeRound]

    def to_json(self) -> dict[str, Any]:
        rounds = self.rounds
        bridge_paths = _median_counts([r.bridge_requests for r in rounds])
        watch_paths = _median_counts([r.watch_requests for r in rounds])
        bridge_s = statistics.median(r.bridge_latency_s for r in rounds)
        direct_s = statistics.median(r.direct_latency_s for r in rounds)
        return {
            "rounds": len(rounds),
            "mutation_round_trips": mutation_requests(bridge_paths, watch_paths),
            "watch_requests_per_change": sum(watch_paths.values()),
            "bridge_requests_by_path": bridge_paths,
            "watch_requests_by_path": watch_paths,
            "updatecounts_latency_s": bridge_s,
            "direct_register_latency_s": direct_s,
            "latency_ratio_vs_direct": ratio(bridge_s, direct_s),
        }


async def _through_bridge(
    bench: Bench, cluster: Cluster, sim: SimNomad, job_id: str
) -> tuple[float, Counter[str]]:
    change = {"jobID": job_id, "taskGroup": GROUP, "count": 1}
    await sim.reset_counts()
    started = time.perf_counter()
    async with bench.http.post(f"{cluster.bridge_url}/jobs/updatecounts", json=change) as answer:
        answer.raise_for_status()
    latency = time.perf_counter() - started
    await cluster.steady(bench.http)  # the watch's reaction in full, allocations included
    return latency, _generic(await sim.request_counts(), job_id)


async def _direct(
    bench: Bench, cluster: Cluster, sim: SimNomad, job_id: str
) -> tuple[float, Counter[str]]:
    job = await sim.read_job(job_id)
    count = next(g["Count"] for g in job["TaskGroups"] if g["Name"] == GROUP) + 1
    await sim.reset_counts()
    started = time.perf_counter()
    await sim.register(with_group_count(job, GROUP, count), enforce_index=job["JobModifyIndex"])
    latency = time.perf_counter() - started
    await _wait_view_count(bench.http, cluster.bridge_url, job_id, count)
    await cluster.steady(bench.http)  # the same window as through the bridge
    watch = _generic(await sim.request_counts(), job_id)
    watch["PUT /v1/job/:job"] -= 1  # the direct register itself
    return latency, +watch


async def measure_count_changes(bench: Bench, cluster: Cluster) -> CountChanges:
    """Alternate a `+1` through the bridge and a `+1` registered directly, each counted from
    a quiet cluster until it is quiet again (allocations placed and running): the direct
    change shows what the bridge's watch asks Nomad per change, the rest is the mutation's."""
    await cluster.start_bridge()
    await cluster.steady(bench.http)
    sim = SimNomad(bench.http, cluster.sim.url)
    job_id = cluster.job_ids[-1]
    rounds = []
    for _ in range(bench.profile.mutation_rounds):
        bridge_s, bridge_counts = await _through_bridge(bench, cluster, sim, job_id)
        direct_s, watch_counts = await _direct(bench, cluster, sim, job_id)
        rounds.append(CountChangeRound(bridge_s, bridge_counts, direct_s, watch_counts))
    return CountChanges(rounds)


@dataclass(frozen=True)
class StartAll:
    jobs: int
    nomad_latency_s: float
    started: int
    bridge_s: float
    direct_s: float
    bridge_requests: int

    @property
    def speedup(self) -> float:
        return ratio(self.direct_s, self.bridge_s)

    def to_json(self) -> dict[str, Any]:
        return {
            "jobs": self.jobs,
            "nomad_latency_s": self.nomad_latency_s,
            "started": self.started,
            "startall_s": self.bridge_s,
            "sequential_direct_s": self.direct_s,
            "speedup": self.speedup,
            "startall_nomad_requests": self.bridge_requests,
        }


async def _start_directly(sim: SimNomad, job_ids: list[str]) -> float:
    """What a client without the bridge does: for each job in turn, read it and register
    it with `Stop=false` (as `nomad job start`)."""
    started = time.perf_counter()
    for job_id in job_ids:
        job = await sim.read_job(job_id)
        await sim.register({**job, "Stop": False}, enforce_index=job["JobModifyIndex"])
    return time.perf_counter() - started


async def _compare_startall(bench: Bench, cluster: Cluster, latency_s: float) -> StartAll:
    """From every job stopped: direct starts (no bridge running, so nothing else loads
    Nomad), every job stopped again, then one `startall` on a fresh bridge; stopped again."""
    sim = SimNomad(bench.http, cluster.sim.url)
    cluster.stop_bridge()
    await sim.set_latency(latency_s)
    direct_s = await _start_directly(sim, cluster.job_ids)
    await sim.set_latency(0.0)
    for job_id in cluster.job_ids:
        await sim.stop(job_id)
    await cluster.start_bridge()
    await cluster.steady(bench.http)
    await sim.set_latency(latency_s)
    await sim.reset_counts()
    started = time.perf_counter()
    async with bench.http.post(f"{cluster.bridge_url}/jobs/startall") as answer:
        answer.raise_for_status()
        results = (await answer.json())["results"]
    bridge_s = time.perf_counter() - started
    requests = sum((await sim.request_counts()).values())
    await sim.set_latency(0.0)
    for job_id in cluster.job_ids:
        await sim.stop(job_id)
    await cluster.steady(bench.http)
    done = sum(1 for r in results if r.get("result") == "started")
    return StartAll(len(cluster.job_ids), latency_s, done, bridge_s, direct_s, requests)


async def measure_startall(bench: Bench) -> list[StartAll]:
    """`startall` against sequential direct starts, on loopback as every other measure, and
    with each Nomad request delayed (the simulator's latency control) as across a network."""
    profile = bench.profile
    cluster = await start_cluster(
        bench.procs, bench.workdir, jobs=profile.startall_jobs, groups=profile.groups, stopped=True
    )
    try:
        await cluster.steady(bench.http)
        return [await _compare_startall(bench, cluster, s) for s in profile.startall_latencies_s]
    finally:
        stop_cluster(cluster)
