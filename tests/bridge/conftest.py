"""The bridge's tests run the real app in front of the real simulator, on loopback (the
fixtures are in tests/conftest.py, shared with the reliability tests)."""

from __future__ import annotations

import pytest

from nomad_bridge.sim import SimConfig


@pytest.fixture
def sim_config(sim_config: SimConfig) -> SimConfig:
    """The shared fast simulator, with a second namespace to prove the bridge ignores it."""
    sim_config.namespaces = ["default", "other"]
    return sim_config
