"""Fixtures for the bridge: the real app, in front of the real simulator, on loopback.

Helpers (job specs, waiting, the Nomad probe) are in tests/support.py.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer

from nomad_bridge.app import create_app
from nomad_bridge.nomad import NomadSettings
from nomad_bridge.settings import BridgeSettings
from nomad_bridge.sim import SimConfig, SimServer, Simulator
from tests.support import EXAMPLE_JOBS_DIR, BridgeClient, MakeBridge, NomadProbe


@pytest.fixture
def sim_config(sim_config: SimConfig) -> SimConfig:
    """The shared fast simulator, with a second namespace to prove the bridge ignores it."""
    sim_config.namespaces = ["default", "other"]
    return sim_config


@pytest.fixture
def bridge_settings() -> BridgeSettings:
    """Default settings, but the watch's index probe (every 3 s by default) rare enough
    never to land in a test that counts Nomad requests."""
    return BridgeSettings(watch_probe_s=60.0)


@pytest.fixture
def nomad_settings(sim_server: SimServer) -> NomadSettings:
    return NomadSettings(addr=sim_server.url, token=None, region=None, namespace="default")


@pytest.fixture
async def nomad_probe(sim_server: SimServer) -> AsyncIterator[NomadProbe]:
    """Nomad read directly, with the management token when the simulator has ACLs on."""
    token = sim_server.sim.config.acl_token
    headers = {"X-Nomad-Token": token} if token else {}
    async with aiohttp.ClientSession(headers=headers) as session:
        yield NomadProbe(session, sim_server.url)


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
