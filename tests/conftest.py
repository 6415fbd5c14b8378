"""Fixtures shared by every test package: a simulated Nomad, in-loop or in a thread."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from nomad_bridge.sim import SimConfig, SimServer, Simulator, ThreadHandle, serve_in_thread
from nomad_bridge.sim.testing import fast_config


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
