"""Test controls: the knobs a real cluster would need an operator (or a disaster) to turn.

All methods run on the simulator's event loop (directly in async tests, through
`handle.call` from other threads, or over HTTP under `/_sim/`). None of this exists in
Nomad; it only changes what the simulated Nomad does next.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Literal

from nomad_bridge.sim import gc, restore
from nomad_bridge.sim.acl import RuleSpec

if TYPE_CHECKING:
    from nomad_bridge.sim.simulator import Simulator

log = logging.getLogger(__name__)

OutageMode = Literal["refuse", "unavailable", "hang"]
OUTAGE_MODES: tuple[str, ...] = ("refuse", "unavailable", "hang")
OutageListener = Callable[["OutageMode | None"], None]
EventStreamFault = Literal["stall", "forbidden"]
EVENT_STREAM_FAULTS: tuple[str, ...] = ("stall", "forbidden")


class Controls:
    """`sim.controls`: latency, outages, failures, GC, index reset, counts, children, holds,
    event-stream settings and faults, ACL tokens and policies."""

    def __init__(self, sim: Simulator) -> None:
        self._sim = sim
        self.latency_s = 0.0
        self.outage: OutageMode | None = None
        self.unavailable_status = 503
        self.unavailable_body = "No cluster leader"
        self._request_counts: Counter[str] = Counter()
        self._outage_listeners: list[OutageListener] = []
        self._outage_over: asyncio.Event | None = None
        self.event_stream_fault: EventStreamFault | None = None

    # -- network behaviour ------------------------------------------------------------

    def set_latency(self, seconds: float) -> None:
        """Delay every Nomad API request by `seconds` before it is handled."""
        if seconds < 0:
            raise ValueError("latency must be >= 0")
        self.latency_s = seconds

    def set_outage(self, mode: OutageMode | None) -> None:
        """`refuse`: the listening socket closes (connections refused, open ones dropped)
        until cleared, then reopens on the same port. `unavailable`: every request gets
        503 `No cluster leader`, as through a proxy when no server has a leader. `hang`:
        requests are accepted and never answered until cleared. None clears the outage.
        """
        if mode is not None and mode not in OUTAGE_MODES:
            raise ValueError(f"unknown outage mode {mode!r}; expected one of {OUTAGE_MODES}")
        self.outage = mode
        log.info("sim_outage", extra={"mode": mode})
        if mode != "hang" and self._outage_over is not None:
            self._outage_over.set()
            self._outage_over = None
        for listener in list(self._outage_listeners):
            listener(mode)

    def add_outage_listener(self, listener: OutageListener) -> None:
        self._outage_listeners.append(listener)

    def remove_outage_listener(self, listener: OutageListener) -> None:
        if listener in self._outage_listeners:
            self._outage_listeners.remove(listener)

    async def wait_outage_over(self) -> None:
        """Where a hung request waits; released by clearing the outage or shutdown."""
        if self._outage_over is None:
            self._outage_over = asyncio.Event()
        await self._outage_over.wait()

    def release_hung(self) -> None:
        if self._outage_over is not None:
            self._outage_over.set()
            self._outage_over = None

    # -- request accounting ---------------------------------------------------------------

    @property
    def request_counts(self) -> Counter[str]:
        """Requests received per "METHOD /path" (raw path, no query), since the last reset."""
        return Counter(self._request_counts)

    def count_request(self, method: str, path: str) -> None:
        self._request_counts[f"{method} {path}"] += 1

    def reset_request_counts(self) -> None:
        self._request_counts.clear()

    # -- cluster events -----------------------------------------------------------------

    def fail_allocations(
        self, job_id: str, group: str, count: int = 1, *, namespace: str = "default"
    ) -> list[str]:
        """Make `count` live allocations of the group fail (tasks crash); returns their IDs."""
        return self._sim.scheduler.fail_allocations(namespace, job_id, group, count)

    def lose_allocations(
        self, job_id: str, group: str, count: int = 1, *, namespace: str = "default"
    ) -> list[str]:
        """Make the nodes of `count` live allocations go down (allocs become lost)."""
        return self._sim.scheduler.lose_allocations(namespace, job_id, group, count)

    def garbage_collect(self) -> list[str]:
        """Run a forced GC now, as `PUT /v1/system/gc`; returns the collected job IDs."""
        return gc.garbage_collect(self._sim.store, self._sim.scheduler)

    def reset_index(self, to: int = 1) -> int:
        """Move every index back so the latest is `to` (see `restore.shift_indexes`).

        Event-stream subscribers are closed and the event buffer emptied, as a restore
        does; blocked queries re-run, see an index below what they wait for and keep
        waiting (until the index passes it again or their wait ends), as in Nomad.
        """
        index = restore.shift_indexes(self._sim.store, to)
        self._sim.events.reset()
        self._sim.store.wake_all()
        return index

    def add_child_job(
        self, parent_id: str, *, kind: str = "periodic", namespace: str = "default"
    ) -> str:
        """Launch a child of a periodic (`kind="periodic"`) or parameterized
        (`kind="dispatch"`) job, as the periodic dispatcher or `job dispatch` would."""
        return self._sim.jobs.add_child(parent_id, namespace=namespace, kind=kind)

    def hold_deployments(self, hold: bool = True) -> None:
        """While held, deployments stay active even when every allocation is healthy."""
        self._sim.scheduler.hold_deployments = hold

    # -- the event stream ---------------------------------------------------------------

    def set_event_buffer_size(self, size: int) -> None:
        """Nomad's `event_buffer_size` (0 means its default, 100), applied at once: the
        newest entries are kept."""
        self._sim.events.resize(size)
        self._sim.config.event_buffer_size = size

    def set_event_heartbeat(self, seconds: float) -> None:
        """The `{}` heartbeat interval of open and new streams (Nomad: 30 s, fixed)."""
        if seconds <= 0:
            raise ValueError("heartbeat interval must be > 0")
        self._sim.config.heartbeat_interval_s = seconds
        self._sim.events.wake()

    def set_event_stream_fault(self, mode: EventStreamFault | None) -> None:
        """`stall`: event streams send nothing more, heartbeats included, and keep their
        connection open, as behind a proxy that buffers; what was held back is sent when the
        fault clears. `forbidden`: new streams are refused with 403 `Permission denied`,
        exactly as Nomad refuses a token lacking read-job. None clears the fault."""
        if mode is not None and mode not in EVENT_STREAM_FAULTS:
            raise ValueError(f"unknown fault {mode!r}; expected one of {EVENT_STREAM_FAULTS}")
        self.event_stream_fault = mode
        log.info("sim_event_stream_fault mode=%s", mode)
        self._sim.events.wake()

    def drop_event_streams(self) -> int:
        """Cut the connection of every open event stream (no end of response); returns how
        many were cut."""
        return self._sim.events.drop_all()

    # -- ACL ------------------------------------------------------------------------------

    def set_acl_policy(self, name: str, namespaces: Mapping[str, RuleSpec]) -> None:
        """Create or replace a policy, e.g. `{"default": "read"}`,
        `{"default": ["list-jobs"]}` or `{"*": {"policy": "write", "variables":
        {"nomad-bridge/*": ["read", "write", "list", "destroy"]}}}`. Open event streams
        whose token no longer allows them are closed, as Nomad's broker does."""
        self._sim.acl.upsert_policy(name, namespaces)
        self._sim.recheck_event_streams()

    def delete_acl_policy(self, name: str) -> None:
        self._sim.acl.delete_policy(name)
        self._sim.recheck_event_streams()

    def create_acl_token(
        self,
        policies: Sequence[str] = (),
        *,
        management: bool = False,
        secret_id: str | None = None,
        ttl_s: float | None = None,
    ) -> str:
        """A client token with `policies` (or a management token); returns its secret.
        ACLs must be on (SimConfig.acl_token). With `ttl_s` the token expires."""
        token = self._sim.acl.create_token(
            policies, management=management, secret_id=secret_id, ttl_s=ttl_s
        )
        return token.secret_id

    def delete_acl_token(self, secret_id: str) -> bool:
        """Revoke a token: later requests with it are 403, and the event streams opened
        with it are closed (`subscription closed by server, client should resubscribe`)."""
        deleted = self._sim.acl.delete_token(secret_id)
        self._sim.recheck_event_streams()
        return deleted
