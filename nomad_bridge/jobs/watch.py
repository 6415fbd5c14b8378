"""The watch: one per process, it keeps the live view current.

Two ways to follow Nomad, behind one interface (`Follower`): its event stream
(`follow_events`, cost per change) and its blocking job list (`follow_list`, the whole
list per change). `BRIDGE_WATCH=auto` follows events and falls back to the list while the
stream is refused (403, a proxy that breaks streaming) or silent past twice Nomad's
heartbeat, trying the stream again every `events_retry_s`; `events` and `list` keep to
one. Both give the same view with the same indexes (see `jobs.live`).

Whenever `probe_s` passed without news of Nomad's index, one tiny request asks for it
(`NomadClient.jobs_index`): an index below one seen before means a snapshot restore, and
the view is rebuilt from a new listing, answering every waiter.

Failures (Nomad down) are retried in the same mode with capped, jittered backoff; reads
keep answering from the last view meanwhile.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Literal, Protocol

from nomad_bridge.jobs.definition_keeper import REFRESH_S, DefinitionKeeper
from nomad_bridge.jobs.definitions import DefinitionStore
from nomad_bridge.jobs.follow_events import EventFollower, StreamUnusable
from nomad_bridge.jobs.follow_list import ListFollower
from nomad_bridge.jobs.live import LiveView
from nomad_bridge.jobs.sync import ViewSync
from nomad_bridge.nomad import NomadClient
from nomad_bridge.nomad import errors as nomad
from nomad_bridge.nomad.retry import backoff_s

log = logging.getLogger(__name__)

WatchMode = Literal["auto", "events", "list"]
RETRY_BASE_S = 0.1
RETRY_CAP_S = 1.0  # one cheap attempt a second while Nomad is down: catch up at once


class Follower(Protocol):
    """A way of following Nomad: list first, then keep the view current."""

    mode: str

    async def follow(self) -> None:
        """Run until the source ends (return) or fails (raise)."""

    def vouch(self, index: int) -> None:
        """Nomad's job-list index, as a probe saw it at least a probe period ago."""


class Watch:
    """Follows Nomad in the configured mode, falling back, probing and retrying."""

    def __init__(
        self,
        client: NomadClient,
        view: LiveView,
        definitions: DefinitionStore,
        *,
        mode: WatchMode,
        read_concurrency: int,
        list_wait_s: float,
        probe_s: float,
        heartbeat_s: float,
        events_retry_s: float,
        greeting_timeout_s: float,
        definitions_refresh_s: float = REFRESH_S,
    ) -> None:
        self._view = view
        self._mode = mode
        self._probe_s = probe_s
        self._heartbeat_s = heartbeat_s
        self._events_retry_s = events_retry_s
        self._keeper = DefinitionKeeper(definitions, view, refresh_s=definitions_refresh_s)
        self._sync = ViewSync(client, view, self._keeper, read_concurrency=read_concurrency)
        self._events = EventFollower(
            client,
            self._sync,
            view,
            self._keeper,
            heartbeat_s=heartbeat_s,
            greeting_timeout_s=greeting_timeout_s,
        )
        self._list = ListFollower(self._sync, wait_s=list_wait_s)
        self._events_from = 0.0  # before this loop time, `auto` follows the list
        self._probed = 0  # the last probe's index, vouched for at the next probe

    async def run(self) -> None:
        """Watch Nomad until cancelled."""
        keeper = asyncio.create_task(self._keeper.run(), name="nomad-definitions")
        try:
            await self._follow_forever()
        finally:
            keeper.cancel()
            await asyncio.gather(keeper, return_exceptions=True)

    async def _follow_forever(self) -> None:
        failures = 0
        while True:
            follower = self._choose()
            try:
                await self._supervise(follower)
                failures = 0
            except StreamUnusable as why:
                if self._mode == "auto":
                    self._fall_back(str(why))
                    continue
                failures += 1
                await self._failed(why, failures)
            except Exception as error:  # the watch must outlive any one failure
                failures += 1
                await self._failed(error, failures)

    def _choose(self) -> Follower:
        now = asyncio.get_running_loop().time()
        if self._mode == "list" or (self._mode == "auto" and now < self._events_from):
            follower: Follower = self._list
        else:
            follower = self._events
        if follower.mode != self._view.mode:
            log.info("watch_mode", extra={"mode": follower.mode, "setting": self._mode})
            self._view.mode = follower.mode
        return follower

    async def _supervise(self, follower: Follower) -> None:
        """Run the follower, probing Nomad's index meanwhile; end it on an index reset, or
        (auto) when it is time to try the event stream again."""
        self._probed = 0
        task = asyncio.create_task(follower.follow(), name=f"nomad-watch-{follower.mode}")
        try:
            wait_s = self._probe_s
            while True:
                done, _ = await asyncio.wait({task}, timeout=wait_s)
                if done:
                    task.result()  # raises the follower's failure
                    return
                if await self._reset_seen(follower) or self._events_due(follower):
                    return
                # Next, when the index will have gone unseen for `probe_s`: a steady beat
                # while nothing else tells it; a whole period after a failed probe.
                wait_s = self._sync.stale_in(self._probe_s) or self._probe_s
        finally:
            if not task.done():
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)

    async def _reset_seen(self, follower: Follower) -> bool:
        """Ask Nomad for its index if nothing told it for `probe_s`; True on a reset."""
        if not self._view.synced or not self._sync.index_stale(self._probe_s):
            return False
        try:
            index = await self._sync.probe()
        except nomad.NomadError:
            return False  # the follower notices Nomad being down, and says so
        if self._sync.reset_pending:
            return True
        if self._probed:
            follower.vouch(self._probed)
        self._probed = index
        return False

    def _events_due(self, follower: Follower) -> bool:
        now = asyncio.get_running_loop().time()
        return self._mode == "auto" and follower.mode == "list" and now >= self._events_from

    def _fall_back(self, reason: str) -> None:
        self._events_from = asyncio.get_running_loop().time() + self._events_retry_s
        log.warning(
            "event_stream_unusable",
            extra={"reason": reason, "fallback": "list", "retry_s": self._events_retry_s},
        )

    async def _failed(self, error: BaseException, failures: int) -> None:
        self._view.mark_failing(error)
        delay = backoff_s(failures + 1, base_s=RETRY_BASE_S, cap_s=RETRY_CAP_S)
        log.warning(
            "nomad_watch_failed",
            extra={"error": f"{type(error).__name__}: {error}", "retry_s": round(delay, 3)},
            exc_info=not isinstance(error, nomad.NomadError | StreamUnusable),
        )
        await asyncio.sleep(delay)
