"""A simulated Nomad seeded with synthetic jobs, and a bridge in front of it: each in its
own process, on loopback ports picked by the kernel."""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from bench.nomad_http import SimNomad
from bench.processes import LOOPBACK, Service, Supervisor, free_port, python_module, wait_http_ok
from bench.seed import write_seed_dir

SIM_READY_TIMEOUT_S = 600.0
BRIDGE_READY_TIMEOUT_S = 600.0
STEADY_QUIET_S = 1.0
STEADY_TIMEOUT_S = 600.0
STEADY_POLL_S = 0.25
UPSTREAM_QUIET_S = 1.0
UPSTREAM_TOLERATED = 1
"""Requests tolerated in a quiet window: the watch renewing its blocking query on its timer."""
_FOREIGN_ENV_PREFIXES = ("NOMAD_", "BRIDGE_")


def service_env(**overrides: str) -> dict[str, str]:
    """This environment without any NOMAD_*/BRIDGE_* setting of the caller's, plus overrides."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(_FOREIGN_ENV_PREFIXES)}
    return env | overrides


@dataclass(frozen=True)
class Steady:
    """The bridge's `GET /jobs` once the cluster stopped moving."""

    body: bytes
    wait_index: int
    jobs: list[dict[str, Any]]


@dataclass
class Cluster:
    procs: Supervisor
    sim: Service
    job_ids: list[str]
    groups: int
    stopped: bool
    bridge_env: dict[str, str] = field(default_factory=dict)
    bridge: Service | None = None

    @property
    def bridge_url(self) -> str:
        assert self.bridge is not None, "the bridge is not running"
        return self.bridge.url

    async def start_bridge(self, settings: dict[str, str] | None = None) -> Service:
        """A fresh bridge process in front of the simulator, once `/ready` (with `settings`,
        BRIDGE_* variables, on top of the cluster's own)."""
        self.stop_bridge()
        self.bridge = await self.spawn_bridge("bridge", self.bridge_env | (settings or {}))
        return self.bridge

    async def spawn_bridge(
        self, name: str, settings: dict[str, str], *, nomad_url: str | None = None
    ) -> Service:
        """A bridge process with `settings` (BRIDGE_* variables), once `/ready`; the caller
        stops it (`procs.stop`), or the supervisor does at the end. It reaches Nomad at
        `nomad_url` (a relay in between), else at the simulator."""
        port = free_port()
        argv = python_module("nomad_bridge", "serve", "--host", LOOPBACK, "--port", str(port))
        env = service_env(NOMAD_ADDR=nomad_url or self.sim.url, **settings)
        bridge = self.procs.spawn(name, argv, port=port, env=env)
        await wait_http_ok(bridge, "/ready", BRIDGE_READY_TIMEOUT_S)
        return bridge

    def stop_bridge(self) -> None:
        if self.bridge is not None:
            self.procs.stop(self.bridge)
            self.bridge = None

    async def steady(self, http: aiohttp.ClientSession) -> Steady:
        """Wait until every job shows all its allocations running (none, when the jobs are
        stopped) and the view's index has not moved for `STEADY_QUIET_S`. Reads through the
        bridge cost Nomad nothing, so watching does not disturb what is watched."""
        deadline = time.monotonic() + STEADY_TIMEOUT_S
        last_index, quiet_since = -1, time.monotonic()
        while time.monotonic() < deadline:
            async with http.get(f"{self.bridge_url}/jobs") as answer:
                answer.raise_for_status()
                body, index = await answer.read(), int(answer.headers["waitIndex"])
            jobs = json.loads(body)
            if index != last_index:
                last_index, quiet_since = index, time.monotonic()
            elif self._settled(jobs) and time.monotonic() - quiet_since >= STEADY_QUIET_S:
                return Steady(body, index, jobs)
            await asyncio.sleep(STEADY_POLL_S)
        raise TimeoutError(f"the cluster did not settle in {STEADY_TIMEOUT_S:.0f}s")

    async def upstream_quiet(self, http: aiohttp.ClientSession) -> None:
        """Wait until the bridge asks Nomad (next to) nothing for `UPSTREAM_QUIET_S`: the
        work of getting in sync, such as writing every job's saved definition, is done."""
        sim = SimNomad(http, self.sim.url)
        deadline = time.monotonic() + STEADY_TIMEOUT_S
        while True:
            await sim.reset_counts()
            await asyncio.sleep(UPSTREAM_QUIET_S)
            if sum((await sim.request_counts()).values()) <= UPSTREAM_TOLERATED:
                return
            if time.monotonic() > deadline:
                raise TimeoutError(f"the bridge kept asking Nomad for {STEADY_TIMEOUT_S:.0f}s")

    def _settled(self, jobs: list[dict[str, Any]]) -> bool:
        if len(jobs) != len(self.job_ids):
            return False
        groups = [group for job in jobs for group in job["taskGroups"]]
        if self.stopped:
            return all(group["summary"]["running"] == 0 for group in groups)
        return all(group["summary"]["running"] == group["count"] for group in groups)


async def start_cluster(
    procs: Supervisor,
    workdir: Path,
    *,
    jobs: int,
    groups: int,
    stopped: bool = False,
    bridge_env: dict[str, str] | None = None,
    bridge: bool = True,
) -> Cluster:
    """Seed and start a simulator (`nomad-bridge sim --seed`), then (`bridge`) a bridge."""
    seed_dir = workdir / f"seed-{jobs}x{groups}{'-stopped' if stopped else ''}"
    job_ids = write_seed_dir(seed_dir, jobs, groups, stopped=stopped)
    port = free_port()
    argv = python_module(
        "nomad_bridge", "sim", "--host", LOOPBACK, "--port", str(port), "--seed", str(seed_dir)
    )
    sim = procs.spawn("sim", argv, port=port, env=service_env())
    cluster = Cluster(procs, sim, job_ids, groups, stopped, dict(bridge_env or {}))
    try:
        await wait_http_ok(sim, "/v1/status/leader", SIM_READY_TIMEOUT_S)
        if bridge:
            await cluster.start_bridge()
    except BaseException:
        stop_cluster(cluster)
        raise
    return cluster


def stop_cluster(cluster: Cluster) -> None:
    cluster.stop_bridge()
    cluster.procs.stop(cluster.sim)


@asynccontextmanager
async def running_cluster(
    procs: Supervisor,
    workdir: Path,
    *,
    jobs: int,
    groups: int,
    stopped: bool = False,
    bridge: bool = True,
) -> AsyncIterator[Cluster]:
    cluster = await start_cluster(
        procs, workdir, jobs=jobs, groups=groups, stopped=stopped, bridge=bridge
    )
    try:
        yield cluster
    finally:
        stop_cluster(cluster)
