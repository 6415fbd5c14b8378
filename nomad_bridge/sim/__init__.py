"""An in-process simulator of HashiCorp Nomad's HTTP API (v1.9 baseline), for tests and demos.

It imports nothing from the rest of nomad_bridge: it is another Nomad.
"""

from nomad_bridge.sim.config import SimConfig
from nomad_bridge.sim.controls import Controls, EventStreamFault, OutageMode
from nomad_bridge.sim.server import SimServer, ThreadHandle, run, serve_in_thread
from nomad_bridge.sim.simulator import Simulator

__all__ = [
    "Controls",
    "EventStreamFault",
    "OutageMode",
    "SimConfig",
    "SimServer",
    "Simulator",
    "ThreadHandle",
    "run",
    "serve_in_thread",
]
