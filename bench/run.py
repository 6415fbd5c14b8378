"""The whole benchmark: every measure in turn, each with its anchor, into one result."""

from __future__ import annotations

import itertools
import logging
from dataclasses import dataclass, field

from bench.cluster import running_cluster
from bench.measures import Bench
from bench.measures.access_line import AccessLineCost, measure_access_line
from bench.measures.churn import Churn, measure_churn
from bench.measures.mutations import CountChanges, StartAll, measure_count_changes, measure_startall
from bench.measures.naive import NaiveComparison, compare_naive
from bench.measures.reads import ReadComparison, compare_reads, variants_of
from bench.measures.ui import UiResult, measure_ui
from bench.measures.waiters import WaiterResult, measure_waiters
from nomad_bridge.settings import EventLoop, default_event_loop

log = logging.getLogger("bench")


def installed_event_loops() -> list[EventLoop]:
    """The default loop first (uvloop where installed), then asyncio's."""
    return ["uvloop", "asyncio"] if default_event_loop() == "uvloop" else ["asyncio"]


@dataclass
class Outcome:
    """Everything one run measured."""

    reads: ReadComparison | None = None
    growth: list[ReadComparison] = field(default_factory=list)
    naive: list[NaiveComparison] = field(default_factory=list)
    waiters: list[WaiterResult] = field(default_factory=list)
    count_changes: CountChanges | None = None
    startall: list[StartAll] = field(default_factory=list)
    churn: Churn | None = None
    access_line: AccessLineCost | None = None
    ui: UiResult | None = None


async def measure_sizes(bench: Bench, outcome: Outcome) -> None:
    """One cluster per size: read throughput (the growth table), and where asked the
    headline read comparison and the naive proxy."""
    profile = bench.profile
    sizes = sorted({*profile.growth_jobs, *profile.naive_jobs, profile.read_jobs})
    for jobs in sizes:
        async with running_cluster(
            bench.procs, bench.workdir, jobs=jobs, groups=profile.groups
        ) as cluster:
            steady = await cluster.steady(bench.http)
            headline = jobs == profile.read_jobs
            reads = await compare_reads(
                bench,
                cluster,
                steady,
                run_s=profile.read_run_s if headline else profile.growth_run_s,
                rounds=profile.read_rounds if headline else profile.growth_rounds,
                variants=variants_of(profile.read_variants) if headline else None,
            )
            outcome.growth.append(reads)
            log.info(
                "reads jobs=%d body=%dB loop=%s bridge=%.0f/s bare=%.0f/s ratio=%.2f "
                "cpu ratio=%.2f upstream=%d rss=%.0fMB",
                jobs,
                reads.body_bytes,
                reads.loop,
                reads.bridge_rps,
                reads.bare_rps,
                reads.ratio,
                reads.cpu_ratio,
                reads.upstream_requests,
                reads.bridge_rss_bytes / 1e6,
            )
            if headline:
                outcome.reads = reads
                for name, variant in reads.variant_settings.items():
                    log.info(
                        "reads, bridge %s (%s) on %s: ratio=%.2f",
                        name,
                        variant.settings,
                        variant.loop,
                        reads.variant_ratio(name),
                    )
            if jobs in profile.naive_jobs:
                naive = await compare_naive(bench, cluster)
                outcome.naive.append(naive)
                log.info(
                    "naive jobs=%d bridge=%.2fms naive=%.1fms speedup=%.0fx",
                    jobs,
                    naive.bridge.latency_p50_s * 1e3,
                    naive.naive.latency_p50_s * 1e3,
                    naive.speedup,
                )


async def measure_waiters_and_mutations(bench: Bench, outcome: Outcome) -> None:
    profile = bench.profile
    async with running_cluster(
        bench.procs, bench.workdir, jobs=profile.waiter_jobs, groups=profile.groups
    ) as cluster:
        loops = [loop for loop in installed_event_loops() if loop in profile.waiter_loops]
        for round_no, (count, loop) in enumerate(itertools.product(profile.waiter_counts, loops)):
            result = await measure_waiters(bench, cluster, count, round_no, loop)
            outcome.waiters.append(result)
            figures = result.to_json()
            log.info(
                "waiters n=%d on %s: p50=%.3fs p99=%.3fs (bare %.3fs) bytes/waiter=%.0f "
                "(bare %.0f) nomad requests caused=%d",
                count,
                loop,
                figures["wake_p50_s"],
                figures["wake_p99_s"],
                figures["bare"]["wake_p99_s"],
                figures["bytes_per_waiter"],
                figures["bare"]["bytes_per_waiter"],
                result.upstream_caused,
            )
        outcome.count_changes = await measure_count_changes(bench, cluster)
        changes = outcome.count_changes.to_json()
        log.info(
            "updatecounts: %s Nomad requests (watch: %s), %.1fms vs direct register %.1fms",
            changes["mutation_round_trips"],
            changes["watch_requests_per_change"],
            changes["updatecounts_latency_s"] * 1e3,
            changes["direct_register_latency_s"] * 1e3,
        )
    outcome.startall = await measure_startall(bench)
    for startall in outcome.startall:
        log.info(
            "startall of %d, Nomad latency %.0fms: %.2fs vs %.2fs sequential direct (%.2fx)",
            startall.jobs,
            startall.nomad_latency_s * 1e3,
            startall.bridge_s,
            startall.direct_s,
            startall.speedup,
        )


async def run(bench: Bench) -> Outcome:
    outcome = Outcome()
    outcome.access_line = await measure_access_line(bench.profile.access_lines)
    log.info(
        "access line: %.2fus on the event loop, %.2fus in all (a LogRecord each: %.2fus, %.2fus)",
        outcome.access_line.loop_us,
        outcome.access_line.total_us,
        outcome.access_line.record_loop_us,
        outcome.access_line.record_total_us,
    )
    await measure_sizes(bench, outcome)
    await measure_waiters_and_mutations(bench, outcome)
    outcome.churn = await measure_churn(bench)
    outcome.ui = await measure_ui(bench)
    return outcome
