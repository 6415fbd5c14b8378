"""Following Nomad by its event stream: what a change costs is what changed.

The stream is opened first and the job list read once Nomad's greeting arrived (its first
`{}`, sent once the subscription exists): every event past the listing's index then
reaches the bridge, whatever Nomad's buffer holds, so no change falls in between. (A
stream asked to start before Nomad's buffer silently starts at the oldest item it still
has; events already in the listing are skipped by index.) A reader that falls out of the
buffer is closed by Nomad; the watch then opens a new stream and lists again.

What the events of a step say about each job (`jobs.event_changes`) decides what is
read: a job only to tell a stop from a purge, a summary only where Nomad's rules
(`jobs.summaries`) cannot move the one held.

A read answers with Nomad's state now, which may be past the events received so far. Such
an answer waits (`ahead`) until the stream reaches its index, so that the view never shows
a change before those preceding it: its index stays a promise that everything up to it is
in (see `jobs.live`).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from nomad_bridge.jobs.definition_keeper import DefinitionKeeper
from nomad_bridge.jobs.event_changes import EventDigest, JobChange
from nomad_bridge.jobs.listing import ListedJob
from nomad_bridge.jobs.live import LiveView, written_at
from nomad_bridge.jobs.sync import ViewSync
from nomad_bridge.nomad import NomadClient
from nomad_bridge.nomad import errors as nomad
from nomad_bridge.nomad.events import EventStream
from nomad_bridge.nomad.models import EventBatch, Job

log = logging.getLogger(__name__)

TOPICS = ("Job:*", "Allocation:*", "Evaluation:*")
EMPTY_STREAMS_TOLERATED = 3
"""Streams in a row ended (by Nomad or a proxy) before a heartbeat period with no event:
each costs a listing, so past this many the stream counts as unusable. (Nomad also ends
the stream of a reader that fell out of its buffer: those delivered events.)"""
AHEAD_MAX_S = 2.0
"""A read past the stream shows after this long even if no event catches up with it (Nomad
writes a summary without an event only for `nomad system reconcile summaries`)."""


class StreamUnusable(Exception):
    """The event stream cannot be followed from here: refused, or silent too long."""


class _Greeted:
    """Queue marker: Nomad's first line arrived."""


GREETED = _Greeted()
Item = EventBatch | _Greeted | BaseException | None  # None: Nomad ended the stream


@dataclass
class _Ahead:
    listed: ListedJob
    since_s: float


class EventFollower:
    """Keeps the view current from Nomad's event stream, reading only what changed."""

    mode = "events"

    def __init__(
        self,
        client: NomadClient,
        sync: ViewSync,
        view: LiveView,
        keeper: DefinitionKeeper,
        *,
        heartbeat_s: float,
        greeting_timeout_s: float,
    ) -> None:
        self._client = client
        self._sync = sync
        self._view = view
        self._keeper = keeper
        self._silence_s = 2 * heartbeat_s
        self._greeting_timeout_s = greeting_timeout_s
        self._position = 0  # every event up to this index is in the view
        self._ahead: dict[str, _Ahead] = {}
        self._digest = EventDigest()
        self._empty_streams = 0  # streams in a row that ended early without an event
        self._idle = False  # every event received is in the view

    async def follow(self) -> None:
        """Open the stream, list, then apply events until Nomad ends the stream (return)
        or it fails (raise; `StreamUnusable` when it cannot be followed from here)."""
        if self._sync.floor == 0:
            await self._sync.probe()  # start near now rather than at the oldest event
        self._ahead.clear()
        self._digest.forget()  # allocations may have moved while no stream was open
        stream = self._client.event_stream(
            TOPICS, index=self._sync.floor + 1, read_timeout_s=self._silence_s
        )
        queue: asyncio.Queue[Item] = asyncio.Queue()
        reader = asyncio.create_task(self._read(stream, queue), name="nomad-event-stream")
        try:
            await self._greeting(queue)
            self._position = await self._sync.relist()
            opened, delivered = asyncio.get_running_loop().time(), False
            while True:
                self._idle = queue.empty() and not self._ahead
                items = await self._next_items(queue)
                self._idle = False
                batches = [item for item in items if isinstance(item, EventBatch)]
                delivered = delivered or bool(batches)
                await self._step(batches)
                for item in items:
                    if item is None:
                        log.info("event_stream_ended", extra={"index": self._position})
                        self._count_empty(opened, delivered)
                        return
                    if isinstance(item, BaseException):
                        raise item
        finally:
            reader.cancel()
            await asyncio.gather(reader, return_exceptions=True)
            await stream.aclose()

    def vouch(self, index: int) -> None:
        """The view reflects Nomad at a job-list index a probe saw a probe period ago, once
        every event received is in it: Nomad publishes an event as it commits the change,
        so the events up to that index have had the period to arrive. (Changes in other
        namespaces move that index and send this stream nothing.)"""
        if self._idle and index > self._view.nomad_index:
            self._view.update({}, at=index)

    def _count_empty(self, opened_s: float, delivered: bool) -> None:
        """Nomad ended the stream (restart, lost leadership, restore, a reader fallen out of
        its buffer): follow it again, unless streams keep ending at once, empty."""
        lived_s = asyncio.get_running_loop().time() - opened_s
        empty = not delivered and lived_s < self._silence_s / 2
        self._empty_streams = self._empty_streams + 1 if empty else 0
        if self._empty_streams >= EMPTY_STREAMS_TOLERATED:
            self._empty_streams = 0
            raise StreamUnusable(f"{EMPTY_STREAMS_TOLERATED} streams in a row ended at once")

    async def _read(self, stream: EventStream, queue: asyncio.Queue[Item]) -> None:
        greeted = False
        try:
            while True:
                batch = await stream.next_line()
                self._view.mark_heard()
                if not greeted:
                    greeted = True
                    queue.put_nowait(GREETED)
                if batch is not None:
                    queue.put_nowait(batch)
        except StopAsyncIteration:
            queue.put_nowait(None if greeted else StreamUnusable("closed before any line"))
        except nomad.Timeout:
            queue.put_nowait(StreamUnusable(f"no line for {self._silence_s:.0f} s"))
        except nomad.UnexpectedAnswer as error:
            # Before any line, an answer the bridge cannot use (Nomad refuses the token's
            # capability with a 500); after, Nomad ending the stream with an error line.
            queue.put_nowait(None if greeted else StreamUnusable(f"refused: {error}"))
        except (nomad.Unavailable, nomad.UnroutableID) as error:
            queue.put_nowait(error)
        except nomad.NomadError as error:  # 403, 404, 400: refused
            queue.put_nowait(StreamUnusable(f"refused: {error}"))
        except Exception as error:  # handed to the watch, which logs it
            queue.put_nowait(error)

    async def _greeting(self, queue: asyncio.Queue[Item]) -> None:
        try:
            async with asyncio.timeout(self._greeting_timeout_s):
                first = await queue.get()
        except TimeoutError:
            raise StreamUnusable(
                f"no greeting within {self._greeting_timeout_s:.0f} s (a buffering proxy?)"
            ) from None
        if isinstance(first, BaseException):
            raise first

    async def _next_items(self, queue: asyncio.Queue[Item]) -> list[Item]:
        """Everything the stream delivered since the last step (waiting for at least one
        item, or only until an answer held back must show)."""
        try:
            async with asyncio.timeout(AHEAD_MAX_S if self._ahead else None):
                items = [await queue.get()]
        except TimeoutError:
            return []
        while not queue.empty():
            items.append(queue.get_nowait())
        return items

    async def _step(self, batches: list[EventBatch]) -> None:
        position = self._position
        wanted: dict[str, JobChange] = {}
        for batch in batches:
            if batch.index <= position:
                continue  # in the listing already
            for event in batch.events:
                self._digest.take(wanted, event, batch.index, self._held)
            position = batch.index
        changed = await self._resolve(wanted, position)
        for job_id, ahead in list(self._ahead.items()):
            due = written_at(ahead.listed) <= position
            if job_id not in changed and (due or self._waited_too_long(ahead)):
                changed[job_id] = ahead.listed
                del self._ahead[job_id]
        respecified = [
            listed.job
            for job_id, listed in changed.items()
            if listed is not None and _respecified(self._view.live_job(job_id), listed)
        ]
        removed = {job_id for job_id, listed in changed.items() if listed is None}
        saved = None
        if removed:
            saved = await self._keeper.collected(self._view.live_jobs().keys() - removed)
        self._view.update(changed, at=position, saved=saved)
        self._keeper.queue(respecified)
        self._position = position
        written = [written_at(listed) for listed in changed.values() if listed is not None]
        self._sync.raise_floor(max(written, default=position if removed else 0))

    def _held(self, job_id: str) -> ListedJob | None:
        ahead = self._ahead.get(job_id)
        return ahead.listed if ahead is not None else self._view.live_job(job_id)

    async def _resolve(
        self, wanted: dict[str, JobChange], position: int
    ) -> dict[str, ListedJob | None]:
        """Read what the events ask for; each job's state now, or None once purged."""
        verify = [job_id for job_id, want in wanted.items() if want.verify]
        stale = [
            job_id
            for job_id, want in wanted.items()
            if want.read_after and _older(self._held(job_id), want.read_after)
        ]
        jobs, summaries = await asyncio.gather(
            self._sync.read_jobs(verify), self._sync.read_summaries(stale)
        )
        changed: dict[str, ListedJob | None] = {}
        for job_id, want in wanted.items():
            held = self._held(job_id)
            job = _newest(want.job, held.job if held is not None else None)
            if want.verify:
                job = jobs.get(job_id)
                if job is None:  # purged
                    self._ahead.pop(job_id, None)
                    changed[job_id] = None
                    continue
            summary = want.summary or (held.summary if held is not None else None)
            if job_id in stale:
                summary = summaries.get(job_id)
            if job is None or summary is None:
                continue  # purged meanwhile: its deregistration event is on its way
            if held is not None and job is held.job and summary is held.summary:
                continue
            listed = ListedJob(job, summary)
            if written_at(listed) > position:
                self._ahead[job_id] = _Ahead(listed, asyncio.get_running_loop().time())
                continue
            self._ahead.pop(job_id, None)
            changed[job_id] = listed
        return changed

    def _waited_too_long(self, ahead: _Ahead) -> bool:
        return asyncio.get_running_loop().time() - ahead.since_s > AHEAD_MAX_S


def _newest(event_job: Job | None, held_job: Job | None) -> Job | None:
    if event_job is None or (
        held_job is not None and held_job.modify_index > event_job.modify_index
    ):
        return held_job
    return event_job


def _respecified(held: ListedJob | None, listed: ListedJob) -> bool:
    """Whether the job's spec moved (its saved definition may be behind)."""
    return held is None or held.job.job_modify_index != listed.job.job_modify_index


def _older(held: ListedJob | None, index: int) -> bool:
    """Whether the summary held may be older than a change at `index`."""
    return held is None or held.summary is None or held.summary.modify_index < index
