"""Fixtures for the bridge: the real app, in front of the real simulator, on loopback."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer

from nomad_bridge.app import create_app
from nomad_bridge.nomad import NomadSettings
from nomad_bridge.settings import BridgeSettings
from nomad_bridge.sim import SimConfig, SimServer, Simulator

EXAMPLE_JOBS_DIR = Path(__file__).resolve().parents[2] / "deploy" / "jobs"
WAIT_TIMEOUT_S = 10.0

BridgeClient = TestClient[aiohttp.web.Request, aiohttp.web.Application]


def job_spec(job_id: str, groups: dict[str, int], **fields: Any) -> dict[str, Any]:
    """A minimal Nomad job spec (`{"Job": ...}`'s inside) with the given groups and counts."""
    spec: dict[str, Any] = {
        "ID": job_id,
        "Name": job_id,
        "Type": "service",
        "Datacenters": ["dc1"],
        "TaskGroups": [
            {
                "Name": name,
                "Count": count,
                "Tasks": [{"Name": "main", "Driver": "docker", "Config": {"image": "busybox"}}],
            }
            for name, count in groups.items()
        ],
    }
    spec.update(fields)
    return spec


async def wait_until(
    condition: Callable[[], Awaitable[bool]], timeout_s: float = WAIT_TIMEOUT_S
) -> None:
    """Poll a condition until it holds; fail the test if it never does."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not await condition():
        if asyncio.get_running_loop().time() > deadline:
            pytest.fail(f"condition not met within {timeout_s} s")
        await asyncio.sleep(0.02)


async def in_sync(bridge: BridgeClient, probe: NomadProbe) -> None:
    """Wait until the bridge's live view reflects everything Nomad has now."""
    target = await probe.index()

    async def caught_up() -> bool:
        response = await bridge.get("/ready")
        return response.status == 200 and (await response.json())["nomadIndex"] >= target

    await wait_until(caught_up)


class NomadProbe:
    """Reads what Nomad (the simulator) ended up with, over its HTTP API, independently."""

    def __init__(self, session: aiohttp.ClientSession, url: str) -> None:
        self._session = session
        self._url = url

    async def get(self, path: str) -> tuple[int, Any]:
        async with self._session.get(self._url + path) as response:
            text = await response.text()
            try:
                return response.status, json.loads(text)
            except json.JSONDecodeError:
                return response.status, text

    async def index(self, path: str = "/v1/jobs") -> int:
        async with self._session.get(self._url + path) as response:
            return int(response.headers["X-Nomad-Index"])

    async def job(self, job_id: str) -> dict[str, Any]:
        status, body = await self.get(f"/v1/job/{job_id}")
        assert status == 200, body
        return dict(body)

    async def group_count(self, job_id: str, group: str) -> int:
        job = await self.job(job_id)
        return next(g["Count"] for g in job["TaskGroups"] if g["Name"] == group)

    async def deployed(self, job_id: str) -> None:
        """Wait until every group's allocations are placed and healthy (no active deployment)."""

        async def healthy() -> bool:
            status, scale = await self.get(f"/v1/job/{job_id}/scale")
            groups = scale["TaskGroups"].values() if status == 200 else []
            return bool(groups) and all(g["Healthy"] == g["Desired"] for g in groups)

        await wait_until(healthy)

    async def placed(self, job_id: str) -> None:
        """Wait until every group's allocations are placed (a deployment, if any, exists)."""

        async def placed() -> bool:
            status, scale = await self.get(f"/v1/job/{job_id}/scale")
            groups = scale["TaskGroups"].values() if status == 200 else []
            return bool(groups) and all(g["Placed"] == g["Desired"] for g in groups)

        await wait_until(placed)

    async def register(self, spec: dict[str, Any]) -> dict[str, Any]:
        async with self._session.put(self._url + "/v1/jobs", json={"Job": spec}) as response:
            assert response.status == 200, await response.text()
            return dict(await response.json())

    async def put_variable(self, path: str, items: dict[str, str]) -> dict[str, Any]:
        async with self._session.put(self._url + f"/v1/var/{path}", json={"Items": items}) as put:
            assert put.status == 200, await put.text()
            return dict(await put.json())

    async def stop(self, job_id: str) -> None:
        async with self._session.delete(self._url + f"/v1/job/{job_id}") as response:
            assert response.status == 200, await response.text()


PERIODIC = {"Enabled": True, "SpecType": "cron", "Spec": "*/15 * * * *"}


@pytest.fixture
def sim_config(sim_config: SimConfig) -> SimConfig:
    """The shared fast simulator, with a second namespace to prove the bridge ignores it."""
    sim_config.namespaces = ["default", "other"]
    return sim_config


@pytest.fixture
def bridge_settings() -> BridgeSettings:
    return BridgeSettings()


@pytest.fixture
def nomad_settings(sim_server: SimServer) -> NomadSettings:
    return NomadSettings(addr=sim_server.url, token=None, region=None, namespace="default")


@pytest.fixture
async def nomad_probe(sim_server: SimServer) -> AsyncIterator[NomadProbe]:
    async with aiohttp.ClientSession() as session:
        yield NomadProbe(session, sim_server.url)


MakeBridge = Callable[..., Awaitable[BridgeClient]]


@pytest.fixture
async def make_bridge(nomad_settings: NomadSettings) -> AsyncIterator[MakeBridge]:
    """Start bridge replicas; they stop before the simulator does (fixture order)."""
    async with AsyncExitStack() as stack:

        async def start(
            settings: BridgeSettings | None = None, nomad: NomadSettings | None = None
        ) -> BridgeClient:
            app = create_app(settings or BridgeSettings(), nomad or nomad_settings)
            return await stack.enter_async_context(TestClient(TestServer(app)))

        yield start


@pytest.fixture
async def bridge(make_bridge: MakeBridge, bridge_settings: BridgeSettings) -> BridgeClient:
    return await make_bridge(bridge_settings)


@pytest.fixture
def example_jobs(simulator: Simulator) -> list[str]:
    """The simulator seeded with deploy/jobs, as `make run` does."""
    return sorted(simulator.seed_from_dir(EXAMPLE_JOBS_DIR))
