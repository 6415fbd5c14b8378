"""Fixtures for the simulator's tests: `http`, raw HTTP to the simulator (tests/sim/harness.py),
and `no_nomad_environment` for the python-nomad contract modules."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from nomad_bridge.sim import SimServer
from tests.sim.harness import NomadHttp, nomad_http
from tests.support import clear_environment


@pytest.fixture
async def http(sim_server: SimServer) -> AsyncIterator[NomadHttp]:
    async with nomad_http(sim_server.url) as client:
        yield client


@pytest.fixture
def no_nomad_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """python-nomad reads NOMAD_* variables; the developer's shell must not redirect it."""
    clear_environment(monkeypatch)
