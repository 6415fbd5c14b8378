"""Fixtures shared by every test package: a simulated Nomad, in-loop or in a thread, and the
bridge (the real app in front of it, on loopback).

Helpers (job specs, waiting, the Nomad probe) are in tests/support.py.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer

from nomad_bridge.app import create_app
from nomad_bridge.nomad import NomadSettings
from nomad_bridge.settings import BridgeSettings
from nomad_bridge.sim import SimConfig, SimServer, Simulator, ThreadHandle, serve_in_thread
from nomad_bridge.sim.testing import fast_config
from tests.support import EXAMPLE_JOBS_DIR, BridgeClient, MakeBridge, NomadProbe


@pytest.fixture
def sim_config() -> SimConfig:
    """Simulated time compressed so allocations settle within tens of milliseconds."""
    return fast_config()


@pytest.fixture
def simulator(sim_config: SimConfig) -> Simulator:
    return Simulator(sim_config)


@pytest.fixture
async def sim_server(simulator: Simulator) -> AsyncIterator[SimServer]:
    """The simulator serving Nomad's HTTP API on 127.0.0.1, on the test's event loop."""
    server = SimServer(simulator)
    await server.start(host="127.0.0.1", port=0)
    yield server
    await server.stop()


@pytest.fixture
def threaded_sim(simulator: Simulator) -> Iterator[ThreadHandle]:
    """The simulator served from its own thread, for synchronous clients (python-nomad)."""
    with serve_in_thread(simulator) as handle:
        yield handle


@pytest.fixture
def unix_socket_path() -> Iterator[Path]:
    """Where a test's unix socket goes: a short path (the kernel allows at most 107 bytes,
    pytest's tmp_path is often longer)."""
    directory = Path(tempfile.mkdtemp(prefix="nb-"))
    yield directory / "api.sock"
    shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
async def unix_sim_server(simulator: Simulator, unix_socket_path: Path) -> AsyncIterator[SimServer]:
    """The simulator serving Nomad's HTTP API on a unix socket (`url` is `unix:///...`), as
    a task reaches its agent's Task API."""
    server = SimServer(simulator)
    await server.start(unix=unix_socket_path)
    yield server
    await server.stop()


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
