"""Fixtures for the simulator's tests: `http`, raw HTTP to the simulator (tests/sim/harness.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from nomad_bridge.sim import SimServer
from tests.sim.harness import NomadHttp, nomad_http


@pytest.fixture
async def http(sim_server: SimServer) -> AsyncIterator[NomadHttp]:
    async with nomad_http(sim_server.url) as client:
        yield client
