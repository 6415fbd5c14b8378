"""The live view: one upstream watch of Nomad keeps every listed job's view in memory.

A naive port costs Nomad 1 + 2N requests per `GET /jobs` and one blocking query per waiting
client — the pattern that exhausted connections in Nomad's own UI. Here one blocking query
on `/v1/jobs?meta=true` (its stubs carry status, Meta and the job summary) plus a read of
each job whose spec changed (`JobModifyIndex`) keeps the view current; reads and long polls
are answered from memory and cost Nomad nothing.

The view's index (`waitIndex`) advances only when what a client sees changes, and then to
the Nomad index at which the change was observed, so replicas that watched the same change
report the same index.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from nomad_bridge.jobs import listing
from nomad_bridge.jobs.catalog import bounded_map
from nomad_bridge.jobs.definitions import DefinitionStore, SavedDefinition
from nomad_bridge.jobs.errors import BridgeError
from nomad_bridge.jobs.listing import ListedJob
from nomad_bridge.jobs.view import FlagKeys, JobView
from nomad_bridge.nomad import NomadClient
from nomad_bridge.nomad import errors as nomad
from nomad_bridge.nomad.models import Job, JobStub
from nomad_bridge.nomad.query import DEFAULT_BLOCKING_WAIT_S
from nomad_bridge.nomad.retry import RetryPolicy, backoff_s

log = logging.getLogger(__name__)

RETRY_BASE_S = 0.1
WATCH_RETRY = RetryPolicy(attempts=1)
RETRY_CAP_S = 1.0  # one cheap list a second while Nomad is down: catch up at once
DEFINITIONS_REFRESH_S = 30.0


@dataclass(frozen=True, slots=True)
class ViewEntry:
    """One listed job as the view holds it: the Nomad objects, its view and its bytes."""

    listed: ListedJob
    view: JobView
    body: bytes
    index: int  # the view index at which this job's view last changed


class Broadcast:
    """Wakes every current waiter at once; a waiter arriving later waits for the next fire.

    Waiting costs no task per waiter (`asyncio.timeout`, not `wait_for`): thousands of long
    polls are thousands of futures on one event.
    """

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def fire(self) -> None:
        event, self._event = self._event, asyncio.Event()
        event.set()

    async def wait_until(self, condition: Callable[[], bool], timeout_s: float) -> bool:
        """Wait, re-checking on every fire, until `condition` holds or the time is up."""
        deadline = asyncio.get_running_loop().time() + timeout_s
        while not condition():
            if not await self.next_fire(deadline):
                return condition()
        return True

    async def next_fire(self, deadline: float) -> bool:
        """Wait for the next fire until the loop's clock reads `deadline`; False if none came.
        Long polls call this in their own loop: no closure, one frame less per waiter."""
        try:
            async with asyncio.timeout_at(deadline):
                await self._event.wait()
        except TimeoutError:
            return False
        return True


def _same_stub(before: JobStub | None, now: JobStub) -> bool:
    """Whether a job's list entry changed nothing its view shows (spec, status, counters)."""
    return (
        before is not None
        and before.job_modify_index == now.job_modify_index
        and before.status == now.status
        and before.stop == now.stop
        and before.job_summary == now.job_summary
    )


def _dumps(value: object) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


class LiveView:
    """Nomad's listed jobs, kept current by one watch; waiters are woken on every change."""

    def __init__(
        self,
        client: NomadClient,
        definitions: DefinitionStore,
        keys: FlagKeys,
        *,
        read_concurrency: int,
        watch_wait_s: float = DEFAULT_BLOCKING_WAIT_S,
        definitions_refresh_s: float = DEFINITIONS_REFRESH_S,
    ) -> None:
        self._client = client
        self._definitions = definitions
        self._keys = keys
        self._read_concurrency = read_concurrency
        self._watch_wait_s = watch_wait_s
        self._definitions_refresh_s = definitions_refresh_s
        self._live: dict[str, ViewEntry] = {}
        self._collected: dict[str, ViewEntry] = {}
        self._stubs: dict[str, JobStub] = {}  # the listed entries of Nomad's job list
        self._in_nomad: set[str] = set()  # every job ID Nomad has, listed or not
        self._unsaved: dict[str, Job] = {}  # specs whose saved definition may be behind
        self._unsaved_ready = asyncio.Event()
        self._index = 0
        self._nomad_index = 0
        self._body = b"[]"
        self._changed = Broadcast()  # fired when the view changes
        self._progress = Broadcast()  # fired after every answer of the watch
        self._synced = False
        self._error: str | None = None
        self._closing = False
        self._epoch = 0  # +1 whenever Nomad's index went backwards
        self._heard_at: float | None = None
        self._failure: nomad.NomadError | None = None  # the watch's last failure, if Nomad's

    # --- what readers see --------------------------------------------------------------

    @property
    def index(self) -> int:
        """The `waitIndex` of the whole view (at least 1, as the SPEC wants a positive index)."""
        return max(self._index, 1)

    @property
    def body(self) -> bytes:
        """The `GET /jobs` body, serialised once per change and shared by every reader."""
        return self._body

    @property
    def sync_age_s(self) -> float:
        """How far the view may trail Nomad: 0 while the watch is healthy (a blocking query
        in flight answers on any change), else the seconds since it last heard from Nomad."""
        if self.ready or self._heard_at is None:
            return 0.0
        return asyncio.get_running_loop().time() - self._heard_at

    @property
    def failure(self) -> nomad.NomadError | None:
        """Why the watch is failing right now, when Nomad said so (None while healthy)."""
        return self._failure

    @property
    def synced(self) -> bool:
        return self._synced

    async def wait_synced(self, timeout_s: float) -> bool:
        """Wait for the first sync (bounded), so requests right after start-up get answers."""
        await self._progress.wait_until(lambda: self._synced or self._closing, timeout_s)
        return self._synced

    @property
    def ready(self) -> bool:
        return self._synced and self._error is None

    @property
    def status(self) -> str:
        if not self._synced:
            return "syncing with Nomad" + (f" (last error: {self._error})" if self._error else "")
        return "synced" if self._error is None else f"Nomad watch failing: {self._error}"

    @property
    def nomad_index(self) -> int:
        """The Nomad index the view reflects (the job list's `X-Nomad-Index`)."""
        return self._nomad_index

    def entry(self, job_id: str) -> ViewEntry | None:
        return self._live.get(job_id) or self._collected.get(job_id)

    def entries(self) -> list[ViewEntry]:
        return sorted([*self._live.values(), *self._collected.values()], key=lambda e: e.view.name)

    def listed_jobs(self) -> list[ListedJob]:
        return [entry.listed for entry in self.entries()]

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

    # --- the watch ---------------------------------------------------------------------

    async def run(self) -> None:
        """Watch Nomad until cancelled; failures are retried with capped, jittered backoff."""
        helpers = [
            asyncio.create_task(self._refresh_definitions_forever()),
            asyncio.create_task(self._save_definitions_forever()),
        ]
        try:
            await self._watch_jobs()
        finally:
            for task in helpers:
                task.cancel()
            await asyncio.gather(*helpers, return_exceptions=True)

    async def _watch_jobs(self) -> None:
        failures = 0
        index = 0
        while True:
            try:
                # After a failure ask without blocking: a Nomad restored with a lower index
                # would otherwise hold a query on the old index until its wait ends.
                listing = await self._client.list_jobs(
                    meta=True,
                    index=None if failures else index or None,
                    wait_s=self._watch_wait_s,
                    retry=WATCH_RETRY,  # the watch's own backoff handles failures
                )
                if listing.index < index:
                    log.warning("nomad_index_reset", extra={"was": index, "now": listing.index})
                    self._forget_everything()
                first_sync = not self._synced
                await self._apply(listing.value, listing.index, reset=listing.index < index)
                if first_sync:
                    await self.refresh_definitions()
                    self._synced = True
                    self._progress.fire()
                    log.info("view_synced", extra={"index": self.index, "jobs": len(self._live)})
                index = max(listing.index, 1)
                self._heard_at = asyncio.get_running_loop().time()
                failures = 0
                self._error = None
                self._failure = None
            except Exception as error:  # the watch must outlive any one failure
                failures += 1
                self._error = f"{type(error).__name__}: {error}"
                self._failure = error if isinstance(error, nomad.NomadError) else None
                delay = backoff_s(failures + 1, base_s=RETRY_BASE_S, cap_s=RETRY_CAP_S)
                log.warning(
                    "nomad_watch_failed",
                    extra={"error": self._error, "retry_s": round(delay, 3)},
                    exc_info=not isinstance(error, nomad.NomadError),
                )
                await asyncio.sleep(delay)

    async def _refresh_definitions_forever(self) -> None:
        while True:
            await asyncio.sleep(self._definitions_refresh_s)
            if not self._synced:
                continue
            try:
                await self.refresh_definitions()
            except Exception as error:  # keep refreshing after any failure
                log.warning(
                    "definitions_refresh_failed",
                    extra={"error": str(error)},
                    exc_info=not isinstance(error, nomad.NomadError),
                )

    def _forget_everything(self) -> None:
        """After Nomad's index went backwards (a snapshot restore): rebuild from scratch."""
        self._stubs.clear()
        self._definitions.forget_known()

    async def _apply(self, stubs: Iterable[JobStub], list_index: int, *, reset: bool) -> None:
        stubs = list(stubs)
        listed = listing.listed(stubs)
        in_nomad = {stub.id for stub in stubs}
        stale = [
            stub
            for stub in listed.values()
            if reset
            or (entry := self._live.get(stub.id)) is None
            or entry.listed.job.job_modify_index != stub.job_modify_index
        ]
        fresh = await self._read_jobs(stale)
        entries: dict[str, ViewEntry] = {}
        changed = reset or bool(set(self._live) - set(listed))
        for job_id, stub in listed.items():
            previous = None if reset else self._live.get(job_id)
            if (
                previous is not None
                and job_id not in fresh
                and _same_stub(self._stubs.get(job_id), stub)
            ):
                entries[job_id] = previous  # nothing it shows can have changed
                continue
            job = fresh.get(job_id) or (previous.listed.job if previous else None)
            if job is None:
                continue  # purged between the list and the read
            entry = self._entry(ListedJob.in_nomad(job, stub), previous, list_index)
            changed = changed or previous is None or entry.body != previous.body
            entries[job_id] = entry
        disappeared = set(self._live) - set(entries)
        # Collected (or purged): a saved definition keeps it listed as dead. Read them
        # before the swap so that no reader sees the job missing in between.
        saved = await self._definitions.load_all() if disappeared and self._synced else None
        self._live = entries
        self._stubs = listed
        self._in_nomad = in_nomad
        self._collected = {k: v for k, v in self._collected.items() if k not in in_nomad}
        self._nomad_index = list_index
        if saved is not None:
            self._take_definitions(saved, list_index)
        if changed:
            self._publish(list_index, reset=reset)
        self._progress.fire()
        self._queue_definitions(fresh.values())

    def _entry(self, listed: ListedJob, previous: ViewEntry | None, index: int) -> ViewEntry:
        view = listed.view(self._keys)
        body = _dumps(view.to_json_dict())
        if previous is not None and previous.body == body:
            return ViewEntry(listed, previous.view, previous.body, previous.index)
        return ViewEntry(listed, view, body, index)

    async def _read_jobs(self, stubs: list[JobStub]) -> dict[str, Job]:
        results = await bounded_map(
            self._read_concurrency, lambda stub: self._client.read_job(stub.id), stubs
        )
        fresh: dict[str, Job] = {}
        for stub, result in zip(stubs, results, strict=True):
            if isinstance(result, nomad.NotFound):
                continue
            if isinstance(result, BaseException):
                raise result
            fresh[stub.id] = result.value
        return fresh

    def _queue_definitions(self, jobs: Iterable[Job]) -> None:
        """Hand changed specs to the saver: readers and writers never wait for Variables."""
        for job in jobs:
            self._unsaved[job.id] = job
        if self._unsaved:
            self._unsaved_ready.set()

    async def _save_definitions_forever(self) -> None:
        """Write queued definitions in the background; the latest spec of a job wins."""
        while True:
            await self._unsaved_ready.wait()
            self._unsaved_ready.clear()
            jobs, self._unsaved = list(self._unsaved.values()), {}
            results = await bounded_map(self._read_concurrency, self._definitions.save, jobs)
            for job, result in zip(jobs, results, strict=True):
                if isinstance(result, Exception):
                    log.warning(
                        "definition_save_failed",
                        extra={"job": job.id, "error": str(result)},
                        exc_info=not isinstance(result, nomad.NomadError | BridgeError),
                    )
                elif isinstance(result, BaseException):
                    raise result

    async def refresh_definitions(self, index: int | None = None) -> None:
        """Re-read saved definitions: jobs Nomad collected stay listed, as `dead`."""
        self._take_definitions(await self._definitions.load_all(), index)

    def _take_definitions(self, definitions: dict[str, SavedDefinition], index: int | None) -> None:
        collected: dict[str, ViewEntry] = {}
        changed_at = 0
        for job_id, saved in listing.collected(definitions, self._in_nomad).items():
            previous = self._collected.get(job_id)
            at = max(index or 0, saved.modify_index)
            entry = self._entry(ListedJob.from_definition(saved), previous, at)
            if previous is None or previous.body != entry.body:
                changed_at = max(changed_at, at)
            collected[job_id] = entry
        if set(collected) != set(self._collected):
            changed_at = max(changed_at, index or 0, self._index + 1)
        self._collected = collected
        if changed_at:
            self._publish(changed_at, reset=False)

    def _publish(self, index: int, *, reset: bool) -> None:
        """A change clients can see: new body, new index, every waiter woken."""
        if reset:
            self._epoch += 1
        self._index = index if reset else max(self._index, index)
        self._body = b"[" + b",".join(entry.body for entry in self.entries()) + b"]"
        self._changed.fire()
