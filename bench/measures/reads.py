"""`GET /jobs` throughput: the bridge against a bare aiohttp handler serving the same
bytes, and what those reads cost Nomad."""

from __future__ import annotations

import math
import statistics
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from bench.cluster import Cluster, Steady
from bench.load import LoadResult, drive
from bench.measures import Bench
from bench.nomad_http import SimNomad
from bench.processes import Service, free_port, python_module, rss_bytes, wait_http_ok
from bench.stats import ratio
from nomad_bridge.settings import EventLoop, default_event_loop

BARE_READY_TIMEOUT_S = 30.0
WARM_UP_S = 0.5
WATCH_RENEWAL_S = 3.0
"""The bridge's default `BRIDGE_WATCH_PROBE_S`: the watch asks Nomad for its index (an empty
job list) this often when nothing else told it."""
BACKGROUND = ("GET /v1/vars", "GET /v1/var/")


@asynccontextmanager
async def bare_server(bench: Bench, steady: Steady, loop: EventLoop) -> AsyncIterator[Service]:
    """The anchor: its own process answering `GET /jobs` with the bridge's exact bytes, on
    the event loop of the bridge it is compared with."""
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
        "--loop",
        loop,
    )
    service = bench.procs.spawn(f"bare-{loop}", argv, port=port)
    try:
        await wait_http_ok(service, "/health", BARE_READY_TIMEOUT_S)
        yield service
    finally:
        bench.procs.stop(service)


@dataclass(frozen=True)
class Variant:
    """A second bridge with other settings, measured in the same rounds against the bare
    anchor on its own event loop."""

    name: str
    settings: dict[str, str]
    loop: EventLoop


Settings = tuple[tuple[str, str], ...]


def variants_of(named: tuple[tuple[str, Settings], ...]) -> list[Variant]:
    """The profile's variants, each on the event loop its settings choose; one that would
    be the default bridge itself (asyncio where uvloop is not installed) is left out."""
    default = default_event_loop()
    found = []
    for name, settings in named:
        chosen = dict(settings)
        loop = chosen.get("BRIDGE_EVENT_LOOP", default)
        if chosen == {"BRIDGE_EVENT_LOOP": default} or loop not in (default, "asyncio"):
            continue
        found.append(Variant(name, chosen, "uvloop" if loop == "uvloop" else "asyncio"))
    return found


def _reads_per_cpu_s(runs: list[LoadResult]) -> float:
    return statistics.median(ratio(run.rps, run.server_cpu) for run in runs)


def _rps(runs: list[LoadResult]) -> float:
    return statistics.median(run.rps for run in runs) if runs else math.nan


@dataclass(frozen=True)
class ReadComparison:
    """The bridge (default settings, on `loop`) against bare aiohttp on the same loop, at
    one cluster size; with variants, other bridges and their anchors in the same rounds."""

    jobs: int
    body_bytes: int
    loop: EventLoop
    bridge: list[LoadResult]
    bare: list[LoadResult]
    upstream_requests: int
    upstream_paths: dict[str, int]
    bridge_rss_bytes: int
    variants: dict[str, list[LoadResult]] = field(default_factory=dict)
    variant_settings: dict[str, Variant] = field(default_factory=dict)
    bare_by_loop: dict[str, list[LoadResult]] = field(default_factory=dict)

    def variant_ratio(self, name: str) -> float:
        """A variant bridge's throughput ÷ bare on that variant's loop (NaN without it)."""
        variant = self.variant_settings.get(name)
        if variant is None:
            return math.nan
        return ratio(_rps(self.variants[name]), _rps(self.bare_on(variant.loop)))

    def bare_on(self, loop: str) -> list[LoadResult]:
        return self.bare if loop == self.loop else self.bare_by_loop.get(loop, [])

    @property
    def bridge_rps(self) -> float:
        return _rps(self.bridge)

    @property
    def bare_rps(self) -> float:
        return _rps(self.bare)

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
        watches = 1 + len(self.variants)  # every variant bridge has its own watch
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
            "loop": self.loop,
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
            "variants": {
                name: {
                    "settings": variant.settings,
                    "loop": variant.loop,
                    "ratio": self.variant_ratio(name),
                    "bridge_rps": _rps(self.variants[name]),
                    "runs": [run.to_json() for run in self.variants[name]],
                }
                for name, variant in self.variant_settings.items()
            },
            "bridge_runs": [run.to_json() for run in self.bridge],
            "bare_runs": [run.to_json() for run in self.bare],
            "bare_runs_by_loop": {
                loop: [run.to_json() for run in runs] for loop, runs in self.bare_by_loop.items()
            },
        }


@dataclass
class _Server:
    """One server taking a turn in every round, and the runs it got."""

    service: Service
    runs: list[LoadResult] = field(default_factory=list)
    counts_upstream: bool = False


async def compare_reads(
    bench: Bench,
    cluster: Cluster,
    steady: Steady,
    *,
    run_s: float,
    rounds: int,
    variants: list[Variant] | None = None,
) -> ReadComparison:
    """Alternate bare and bridge runs (`rounds` each) so drift hits both sides alike; count
    the Nomad requests the simulator received during the bridge's runs. Each variant bridge
    (other BRIDGE_* settings) takes a turn in every round too, next to a bare anchor on its
    own event loop."""
    assert cluster.bridge is not None
    loop = default_event_loop()
    variants = variants or []
    sim = SimNomad(bench.http, cluster.sim.url)
    rss = rss_bytes(cluster.bridge.pid)
    upstream: dict[str, int] = {}
    async with AsyncExitStack() as stack:
        others = {}
        for variant in variants:
            others[variant.name] = _Server(
                await cluster.spawn_bridge(f"bridge-{variant.name}", variant.settings)
            )
            stack.callback(bench.procs.stop, others[variant.name].service)
        await cluster.steady(bench.http)
        await cluster.upstream_quiet(bench.http)
        anchors = {}
        for anchor_loop in dict.fromkeys([loop, *(v.loop for v in variants)]):
            service = await stack.enter_async_context(bare_server(bench, steady, anchor_loop))
            anchors[anchor_loop] = _Server(service)
        bridge = _Server(cluster.bridge, counts_upstream=True)
        order = [anchors[loop], bridge]
        for variant in variants:
            if anchors[variant.loop] not in order:
                order.append(anchors[variant.loop])
            order.append(others[variant.name])
        await _alternate(bench, sim, order, run_s, rounds, upstream)
    return ReadComparison(
        jobs=len(cluster.job_ids),
        body_bytes=len(steady.body),
        loop=loop,
        bridge=bridge.runs,
        bare=anchors[loop].runs,
        upstream_requests=sum(upstream.values()),
        upstream_paths=upstream,
        bridge_rss_bytes=rss,
        variants={name: server.runs for name, server in others.items()},
        variant_settings={variant.name: variant for variant in variants},
        bare_by_loop={name: server.runs for name, server in anchors.items() if name != loop},
    )


async def _alternate(
    bench: Bench,
    sim: SimNomad,
    servers: list[_Server],
    run_s: float,
    rounds: int,
    upstream: dict[str, int],
) -> None:
    connections = bench.profile.read_connections
    for server in servers:  # warm up every server
        await drive(
            f"{server.service.url}/jobs",
            server_pid=server.service.pid,
            connections=connections,
            duration_s=WARM_UP_S,
        )
    for _ in range(rounds):
        for server in servers:
            if server.counts_upstream:
                await sim.reset_counts()
            server.runs.append(
                await drive(
                    f"{server.service.url}/jobs",
                    server_pid=server.service.pid,
                    connections=connections,
                    duration_s=run_s,
                )
            )
            if server.counts_upstream:
                for path, n in (await sim.request_counts()).items():
                    upstream[path] = upstream.get(path, 0) + n
