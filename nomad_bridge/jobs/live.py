"""The live view: every listed job's view in memory, and the long polls waiting on it.

Reads and long polls are answered from here and cost Nomad nothing; the watch
(`jobs.watch`) keeps it current. The view does no I/O: the watch hands it what changed.

Indexes. A job's entry carries the Nomad index of the latest write to what its view shows:
`max(job ModifyIndex, summary ModifyIndex)`, both raft indexes Nomad itself keeps on the
objects. The view's `waitIndex` is the highest of those (or the index at which a job was
seen to disappear). Both watch modes read these indexes off the same objects, so replicas
in either mode give the same change the same index, and a `waitIndex` from one is
honoured by the other: a view missing a change has an index below that change's.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass

from nomad_bridge.jobs.concurrency import Broadcast
from nomad_bridge.jobs.definitions import SavedDefinition
from nomad_bridge.jobs.listing import ListedJob
from nomad_bridge.jobs.view import FlagKeys, JobView
from nomad_bridge.nomad import errors as nomad

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ViewEntry:
    """One listed job as the view holds it: the Nomad objects, its view and its bytes."""

    listed: ListedJob
    view: JobView
    body: bytes
    index: int  # the Nomad index at which this job's view last changed


def written_at(listed: ListedJob) -> int:
    """The Nomad index of the latest write to the job or its summary (see the module doc)."""
    summary = listed.summary.modify_index if listed.summary is not None else 0
    return max(listed.job.modify_index, summary)


def _dumps(value: object) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


class LiveView:
    """Nomad's listed jobs as last seen, their bodies, and the waiters on them."""

    def __init__(self, keys: FlagKeys) -> None:
        self._keys = keys
        self._live: dict[str, ViewEntry] = {}
        self._collected: dict[str, ViewEntry] = {}
        self._order: list[str] | None = None  # names sorted; None when the set changed
        self._body: bytes | None = b"[]"  # built on the first read after a change
        self._index = 0
        self._nomad_index = 0
        self._changed = Broadcast()  # fired when the view changes
        self._progress = Broadcast()  # fired whenever the view caught up with Nomad
        self._epoch = 0  # +1 whenever Nomad's index went backwards
        self._closing = False
        self._synced = False
        self._error: str | None = None
        self._failure: nomad.NomadError | None = None
        self._heard_at: float | None = None
        self.mode = ""  # how the watch follows Nomad: "events" or "list"

    # --- what readers see --------------------------------------------------------------

    @property
    def index(self) -> int:
        """The `waitIndex` of the whole view (at least 1, as the SPEC wants a positive index)."""
        return max(self._index, 1)

    @property
    def body(self) -> bytes:
        """The `GET /jobs` body, built once per change (on the first read) and shared."""
        if self._body is None:
            if self._order is None:
                self._order = sorted([*self._live, *self._collected])
            entries = (self._live.get(name) or self._collected[name] for name in self._order)
            self._body = b"[" + b",".join(entry.body for entry in entries) + b"]"
        return self._body

    @property
    def nomad_index(self) -> int:
        """The Nomad index the view reflects: every change up to it is in the view."""
        return self._nomad_index

    def entry(self, job_id: str) -> ViewEntry | None:
        return self._live.get(job_id) or self._collected.get(job_id)

    def live_jobs(self) -> dict[str, ListedJob]:
        """The jobs Nomad has, as the view last saw them."""
        return {job_id: entry.listed for job_id, entry in self._live.items()}

    def listed_jobs(self) -> list[ListedJob]:
        """Every listed job, live and collected, as the view holds them."""
        return [entry.listed for entry in [*self._live.values(), *self._collected.values()]]

    def live_job(self, job_id: str) -> ListedJob | None:
        entry = self._live.get(job_id)
        return entry.listed if entry is not None else None

    def collected_ids(self) -> set[str]:
        return set(self._collected)

    async def wait_past(self, index: int, timeout_s: float) -> None:
        """Return once the view's index passes `index`, the wait ends, or the view closes
        (a reset of Nomad's index ends every wait: clients resync)."""
        deadline = asyncio.get_running_loop().time() + timeout_s
        epoch = self._epoch
        while self.index <= index and not self._closing and epoch == self._epoch:
            if not await self._changed.next_fire(deadline):
                return

    async def wait_job_past(self, job_id: str, index: int, timeout_s: float) -> None:
        """Return once one job's own index passes `index` (or it disappears), or the wait ends."""
        deadline = asyncio.get_running_loop().time() + timeout_s
        epoch = self._epoch
        while not self._closing and epoch == self._epoch:
            entry = self.entry(job_id)
            if entry is None or entry.index > index:
                return
            if not await self._changed.next_fire(deadline):
                return

    async def caught_up(self, nomad_index: int, timeout_s: float) -> bool:
        """Wait until the view reflects Nomad at `nomad_index`, so a read after a write sees it."""
        return await self._progress.wait_until(
            lambda: self._nomad_index >= nomad_index or self._closing, timeout_s
        )

    def release_waiters(self) -> None:
        """Answer every waiting request now (graceful shutdown)."""
        self._closing = True
        self._changed.fire()
        self._progress.fire()

    # --- how the watch is doing ----------------------------------------------------------

    @property
    def synced(self) -> bool:
        return self._synced

    @property
    def ready(self) -> bool:
        return self._synced and self._error is None

    @property
    def failure(self) -> nomad.NomadError | None:
        """Why the watch is failing right now, when Nomad said so (None while healthy)."""
        return self._failure

    @property
    def status(self) -> str:
        if not self._synced:
            return "syncing with Nomad" + (f" (last error: {self._error})" if self._error else "")
        return "synced" if self._error is None else f"Nomad watch failing: {self._error}"

    @property
    def sync_age_s(self) -> float:
        """How far the view may trail Nomad: 0 while the watch is healthy (it hears of every
        change as it happens), else the seconds since it last heard from Nomad."""
        if self.ready or self._heard_at is None:
            return 0.0
        return asyncio.get_running_loop().time() - self._heard_at

    async def wait_synced(self, timeout_s: float) -> bool:
        """Wait for the first sync (bounded), so requests right after start-up get answers."""
        await self._progress.wait_until(lambda: self._synced or self._closing, timeout_s)
        return self._synced

    def mark_synced(self) -> None:
        if not self._synced:
            self._synced = True
            log.info("view_synced", extra={"index": self.index, "jobs": len(self._live)})
        self._progress.fire()

    def mark_heard(self) -> None:
        """Nomad answered the watch: the view is current."""
        self._heard_at = asyncio.get_running_loop().time()
        self._error = None
        self._failure = None

    def mark_failing(self, error: BaseException) -> None:
        self._error = f"{type(error).__name__}: {error}"
        self._failure = error if isinstance(error, nomad.NomadError) else None

    # --- what the watch changes ----------------------------------------------------------

    def update(
        self,
        changed: Mapping[str, ListedJob | None],
        *,
        at: int,
        complete: bool = False,
        reset: bool = False,
        saved: Mapping[str, SavedDefinition] | None = None,
    ) -> None:
        """Take what the watch learnt from Nomad at index `at`.

        `changed` maps a job to its state now, or to None when Nomad no longer has it; with
        `complete` it is every job Nomad has (a full listing), and jobs missing from it are
        gone. `reset` (Nomad's index went backwards) rebuilds every entry and ends every
        wait. `saved` are the saved definitions, read when jobs disappeared: those jobs stay
        listed as collected.
        """
        if reset:
            self._live, self._collected = {}, {}
        gone = set(self._live) - set(changed) if complete else set()
        gone |= {job_id for job_id, listed in changed.items() if listed is None}
        gone = {job_id for job_id in gone if job_id in self._live}
        moved_to = 0
        for job_id, listed in changed.items():
            if listed is not None:
                moved_to = max(moved_to, self._take(job_id, listed))
        for job_id in gone:
            del self._live[job_id]
            moved_to = max(moved_to, at)
        if gone:
            self._order = None
        if saved is not None:
            moved_to = max(moved_to, self._take_collected(saved, at))
        self._nomad_index = at if reset else max(self._nomad_index, at)
        if moved_to or reset:
            self._publish(moved_to, reset=reset)
        self._progress.fire()

    def take_definitions(self, saved: Mapping[str, SavedDefinition], at: int = 0) -> None:
        """Every saved definition as it is now: those of jobs Nomad no longer has are listed."""
        moved_to = self._take_collected(saved, at)
        if moved_to:
            self._publish(moved_to, reset=False)

    def take_definition(self, definition: SavedDefinition) -> None:
        """One definition just written: a collected job's view follows it."""
        moved_to = self._take_collected({definition.job.id: definition}, 0, complete=False)
        if moved_to:
            self._publish(moved_to, reset=False)

    def _take(self, job_id: str, listed: ListedJob) -> int:
        """Hold a live job's new state; the index its view changed at, or 0 if it did not."""
        previous = self._live.get(job_id)
        if previous is not None and previous.listed is listed:
            return 0
        view = listed.view(self._keys)
        body = _dumps(view.to_json_dict())
        if previous is not None and previous.body == body:
            self._live[job_id] = ViewEntry(listed, previous.view, previous.body, previous.index)
            return 0
        index = written_at(listed)
        if previous is not None and index <= previous.index:
            index = previous.index + 1  # never let a job's own index stand still on a change
        self._live[job_id] = ViewEntry(listed, view, body, index)
        if previous is None:
            self._order = None
            self._collected.pop(job_id, None)  # a collected job registered again
        return index

    def _take_collected(
        self, saved: Mapping[str, SavedDefinition], at: int, *, complete: bool = True
    ) -> int:
        collected: dict[str, ViewEntry] = {} if complete else dict(self._collected)
        moved_to = 0
        for job_id, definition in saved.items():
            if job_id in self._live:
                continue
            previous = self._collected.get(job_id)
            listed = ListedJob.from_definition(definition)
            body = _dumps(listed.view(self._keys).to_json_dict())
            if previous is not None and previous.body == body:
                collected[job_id] = previous
                continue
            index = max(at, definition.modify_index)
            collected[job_id] = ViewEntry(listed, listed.view(self._keys), body, index)
            moved_to = max(moved_to, index)
        if set(collected) != set(self._collected):
            moved_to = max(moved_to, at, 1)
            self._order = None
        self._collected = collected
        return moved_to

    def _publish(self, index: int, *, reset: bool) -> None:
        """A change clients can see: new body, new index, every waiter woken."""
        if reset:
            self._epoch += 1
            self._index = index
            self._order = None
        else:
            self._index = max(self._index, index) if index > self._index else self._index + 1
        self._body = None
        self._changed.fire()
