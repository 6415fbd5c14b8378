"""The bridge fixtures (tests/bridge/conftest.py), re-exported for the reliability tests."""

from tests.bridge.conftest import (
    bridge,
    bridge_settings,
    example_jobs,
    make_bridge,
    nomad_probe,
    nomad_settings,
    sim_config,
)

__all__ = [
    "bridge",
    "bridge_settings",
    "example_jobs",
    "make_bridge",
    "nomad_probe",
    "nomad_settings",
    "sim_config",
]
