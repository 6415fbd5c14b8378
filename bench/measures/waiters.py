"""Many `waitIndex` long polls on one bridge: what they cost Nomad, the bridge's memory,
and how soon each hears of a change — next to the same number of long polls on a bare
aiohttp handler waiting on one `asyncio.Event` (`bench/bare.py`)."""

from __future__ import annotations

import asyncio
import json
import math
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import Any

import aiohttp

from bench.cluster import Cluster
from bench.measures import Bench
from bench.measures.reads import bare_server
from bench.nomad_http import SimNomad
from bench.processes import python_module, rss_bytes, running_tool, tcp_connections_to
from bench.stats import percentile, ratio
from nomad_bridge.settings import EventLoop

PARK_TIMEOUT_S = 120.0
PARK_POLL_S = 0.2
SETTLE_S = 1.0
"""Quiet time with every waiter parked, before memory and Nomad requests are read."""
UPSTREAM_WINDOW_S = 6.0
"""How long Nomad requests are counted, once with no waiter and once with all parked: the
watch's own background (its index probe, every 3 s by default) is in both windows."""
ANSWER_TIMEOUT_S = 60.0
LONG_POLL = "/jobs?wait=5m"
OPEN_LONG_POLLS = "bridge_long_polls_open"


@dataclass(frozen=True)
class Wake:
    """One server holding `waiters` long polls, then answering them all after one change."""

    waiters: int
    rss_before_bytes: int
    rss_parked_bytes: int
    latencies_s: list[float]
    errors: int

    @property
    def bytes_per_waiter(self) -> float:
        return (self.rss_parked_bytes - self.rss_before_bytes) / self.waiters

    def to_json(self) -> dict[str, Any]:
        samples = self.latencies_s
        return {
            "answered": len(samples),
            "errors": self.errors,
            "wake_p50_s": percentile(samples, 0.50),
            "wake_p99_s": percentile(samples, 0.99),
            "wake_max_s": max(samples) if samples else math.nan,
            "wake_first_s": min(samples) if samples else math.nan,
            # p99 - first answer: the fan-out alone, without the change's own path (for the
            # bridge: the count change, Nomad, the watch's read; for bare: one POST)
            "fanout_p99_s": percentile(samples, 0.99) - min(samples) if samples else math.nan,
            "rss_before_bytes": self.rss_before_bytes,
            "rss_parked_bytes": self.rss_parked_bytes,
            "bytes_per_waiter": self.bytes_per_waiter,
        }


@dataclass(frozen=True)
class WaiterResult:
    waiters: int
    jobs: int
    loop: str
    bridge: Wake
    bare: Wake
    upstream_issued_idle: Counter[str]
    upstream_issued_while_waiting: Counter[str]
    upstream_connections_before: int
    upstream_connections_while_waiting: int

    @property
    def upstream_caused(self) -> int:
        """Nomad requests the waiters caused: per Nomad path, how many more were issued in
        a window with every waiter parked than in as long a window with none (the watch's
        own background is in both), plus connections to Nomad they added (each would carry
        a request in flight)."""
        more = self.upstream_issued_while_waiting - self.upstream_issued_idle
        added = self.upstream_connections_while_waiting - self.upstream_connections_before
        return more.total() + max(0, added)

    def to_json(self) -> dict[str, Any]:
        bridge, bare = self.bridge.to_json(), self.bare.to_json()
        return {
            "waiters": self.waiters,
            "jobs": self.jobs,
            "loop": self.loop,
            **bridge,
            "bare": bare,
            "wake_p99_vs_bare": ratio(bridge["wake_p99_s"], bare["wake_p99_s"]),
            "fanout_p99_vs_bare": ratio(bridge["fanout_p99_s"], bare["fanout_p99_s"]),
            "bytes_per_waiter_vs_bare": ratio(bridge["bytes_per_waiter"], bare["bytes_per_waiter"]),
            "upstream_window_s": UPSTREAM_WINDOW_S,
            "upstream_issued_idle": sum(self.upstream_issued_idle.values()),
            "upstream_issued_while_waiting": sum(self.upstream_issued_while_waiting.values()),
            "upstream_connections_before": self.upstream_connections_before,
            "upstream_connections_while_waiting": self.upstream_connections_while_waiting,
            "upstream_in_flight_for_waiters": self.upstream_caused,
        }


Probe = Callable[[], Awaitable[int]]
Action = Callable[[], Awaitable[None]]


async def _wait_parked(parked: Probe, count: int) -> None:
    deadline = time.monotonic() + PARK_TIMEOUT_S
    while (now := await parked()) < count:
        if time.monotonic() > deadline:
            raise TimeoutError(f"only {now} of {count} long polls parked")
        await asyncio.sleep(PARK_POLL_S)


def _shares(total: int, per_client: int) -> list[int]:
    clients = max(1, math.ceil(total / per_client))
    return [total // clients + (1 if i < total % clients else 0) for i in range(clients)]


async def park_and_wake(
    bench: Bench,
    *,
    url: str,
    pid: int,
    count: int,
    wait_index: int,
    parked: Probe,
    while_parked: Action,
    change: Action,
) -> Wake:
    """`count` long polls from client processes on `url`; once all are parked (and
    `while_parked` has looked around), one `change`; each waiter's answer is timed from it."""
    rss_before = rss_bytes(pid)
    async with AsyncExitStack() as stack:
        clients = []
        for share in _shares(count, bench.profile.waiters_per_client):
            argv = python_module(
                "bench.waitclient",
                url,
                "--count",
                str(share),
                "--wait-index",
                str(wait_index),
                "--timeout-s",
                str(PARK_TIMEOUT_S + ANSWER_TIMEOUT_S),
            )
            clients.append(await stack.enter_async_context(running_tool(argv)))
        for client in clients:
            assert client.stdout is not None
            line = await asyncio.wait_for(client.stdout.readline(), PARK_TIMEOUT_S)
            if not line.startswith(b"sent "):
                raise RuntimeError(f"waiter client failed: {line!r}")
        await _wait_parked(parked, count)
        await asyncio.sleep(SETTLE_S)
        rss_parked = rss_bytes(pid)
        await while_parked()
        changed_at = time.monotonic()
        await change()
        stamps: list[float] = []
        errors = 0
        for client in clients:
            assert client.stdout is not None
            report = json.loads(await asyncio.wait_for(client.stdout.read(), ANSWER_TIMEOUT_S))
            stamps += report["answers"]
            errors += report["errors"]
            await asyncio.wait_for(client.wait(), ANSWER_TIMEOUT_S)
    latencies = [stamp - changed_at for stamp in stamps]
    return Wake(count, rss_before, rss_parked, latencies, errors)


async def _warm_up(http: aiohttp.ClientSession, url: str, long_poll_index: int | None) -> None:
    """First requests pay for lazy set-up (imports, first long poll); not per waiter."""
    for _ in range(10):
        async with http.get(url) as answer:
            await answer.read()
    if long_poll_index is not None:
        headers = {"waitIndex": str(long_poll_index)}
        async with http.get(f"{url}?wait=0.1s", headers=headers) as answer:
            await answer.read()


async def _issued_in(sim: SimNomad, window_s: float) -> Counter[str]:
    """Nomad requests per path received in the next `window_s`."""
    await sim.reset_counts()
    await asyncio.sleep(window_s)
    return await sim.request_counts()


async def _open_long_polls(http: aiohttp.ClientSession, bridge_url: str) -> int:
    async with http.get(f"{bridge_url}/metrics") as answer:
        answer.raise_for_status()
        for line in (await answer.text()).splitlines():
            if line.startswith(OPEN_LONG_POLLS + " "):
                return int(float(line.split()[1]))
    raise RuntimeError(f"the bridge's /metrics has no {OPEN_LONG_POLLS}")


async def measure_waiters(
    bench: Bench, cluster: Cluster, count: int, round_no: int, loop: EventLoop
) -> WaiterResult:
    """`count` long polls on a fresh bridge, woken by one `updatecounts` through it; then
    as many on the bare anchor serving the same bytes, woken by its `POST /fire`: both on
    the event loop `loop`."""
    http = bench.http
    bridge = await cluster.start_bridge({"BRIDGE_EVENT_LOOP": loop})
    steady = await cluster.steady(http)
    sim = SimNomad(http, cluster.sim.url)
    await _warm_up(http, f"{bridge.url}/jobs", steady.wait_index)
    await cluster.upstream_quiet(http)
    connections_before = tcp_connections_to(bridge.pid, cluster.sim.port)
    issued_idle = await _issued_in(sim, UPSTREAM_WINDOW_S)
    looked: dict[str, int] = {}
    issued_waiting: Counter[str] = Counter()

    async def look_around() -> None:
        looked["connections"] = tcp_connections_to(bridge.pid, cluster.sim.port)
        issued_waiting.update(await _issued_in(sim, UPSTREAM_WINDOW_S))

    async def count_change() -> None:
        job_id = cluster.job_ids[round_no % len(cluster.job_ids)]
        change = {"jobID": job_id, "taskGroup": "group-0", "count": 1}
        async with http.post(f"{bridge.url}/jobs/updatecounts", json=change) as answer:
            answer.raise_for_status()

    bridge_wake = await park_and_wake(
        bench,
        url=f"{bridge.url}{LONG_POLL}",
        pid=bridge.pid,
        count=count,
        wait_index=steady.wait_index,
        parked=lambda: _open_long_polls(http, bridge.url),
        while_parked=look_around,
        change=count_change,
    )
    cluster.stop_bridge()  # the anchor gets the machine to itself, as the bridge had
    async with bare_server(bench, steady, loop) as bare:
        await _warm_up(http, f"{bare.url}/jobs", None)

        async def bare_parked() -> int:
            async with http.get(f"{bare.url}/parked") as answer:
                return int(await answer.text())

        async def fire() -> None:
            async with http.post(f"{bare.url}/fire") as answer:
                answer.raise_for_status()

        async def nothing() -> None:
            return None

        bare_wake = await park_and_wake(
            bench,
            url=f"{bare.url}/jobs",
            pid=bare.pid,
            count=count,
            wait_index=steady.wait_index,
            parked=bare_parked,
            while_parked=nothing,
            change=fire,
        )
    return WaiterResult(
        waiters=count,
        jobs=len(cluster.job_ids),
        loop=loop,
        bridge=bridge_wake,
        bare=bare_wake,
        upstream_issued_idle=issued_idle,
        upstream_issued_while_waiting=issued_waiting,
        upstream_connections_before=connections_before,
        upstream_connections_while_waiting=looked["connections"],
    )
