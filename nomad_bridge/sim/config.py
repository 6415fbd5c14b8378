"""Settings of one simulated cluster: identity, namespaces, and how fast simulated time runs."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(kw_only=True)
class SimConfig:
    """What the simulated Nomad looks like and how quickly its clients act.

    Nomad's own defaults are in the field comments; the delays stand in for work real
    clients do (pulling images, starting tasks), compressed so demos and tests stay quick.
    """

    acl_token: str | None = None
    """With a token set ACLs are on: every API call must present it (403 otherwise)."""
    region: str = "global"
    datacenter: str = "dc1"
    namespaces: list[str] = field(default_factory=lambda: ["default"])
    node_count: int = 3
    """Simulated client nodes; allocations are spread over them round-robin."""
    leader_address: str = "127.0.0.1:4647"

    eval_delay_s: float = 0.05
    """Time an evaluation waits in the broker before a scheduler worker plans it."""
    alloc_start_delay_s: float = 0.5
    """Client time from a placed allocation (pending) to running."""
    alloc_stop_delay_s: float = 0.2
    """Client time from DesiredStatus=stop to the client reporting complete."""
    batch_run_s: float = 2.0
    """How long a batch allocation runs before it completes successfully."""
    deployment_min_healthy_s: float = 1.0
    """Running time before an allocation counts healthy for its deployment (Nomad: 10s)."""
    reschedule_delay_s: float = 1.0
    """Delay before a failed allocation is replaced (Nomad: 30s service, 5s batch)."""

    heartbeat_interval_s: float = 30.0
    """Event-stream `{}` period, on a ticker (Nomad: a fixed 30 s, nomad/event_endpoint.go)."""
    event_buffer_size: int = 100
    """Nomad's `event_buffer_size` (default 100; 0 also means 100): entries kept after the
    buffer's head for replay, so size + 1 once it has wrapped (nomad/stream/event_buffer.go)."""
    job_tracked_versions: int = 6
    """Job versions kept per job (Nomad's `job_tracked_versions`: 6)."""
