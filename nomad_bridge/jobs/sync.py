"""The Nomad reads both watch modes share: a full listing, reads of the jobs that changed,
and noticing Nomad's index go backwards.

A listing (`GET /v1/jobs?meta=true`) is a consistent picture of Nomad at its index: its
stubs carry status, Meta, the job summary and the indexes of the latest writes. Only jobs
whose `JobModifyIndex` moved are read in full (the view needs their task groups).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import TypeVar

from nomad_bridge.jobs.concurrency import bounded_map
from nomad_bridge.jobs.definition_keeper import DefinitionKeeper
from nomad_bridge.jobs.listing import ListedJob, listed
from nomad_bridge.jobs.live import LiveView
from nomad_bridge.nomad import NomadClient
from nomad_bridge.nomad import errors as nomad
from nomad_bridge.nomad.models import Job, JobStub, JobSummary
from nomad_bridge.nomad.query import QueryResult
from nomad_bridge.nomad.retry import RetryPolicy

log = logging.getLogger(__name__)

T = TypeVar("T")

WATCH_RETRY = RetryPolicy(attempts=1)
STALE_SLACK_S = 0.01
"""The watch handles its own failures (backoff, fallback): no retries under it."""


class ViewSync:
    """Brings the view in line with Nomad: listings, targeted reads, index resets."""

    def __init__(
        self,
        client: NomadClient,
        view: LiveView,
        keeper: DefinitionKeeper,
        *,
        read_concurrency: int,
    ) -> None:
        self._client = client
        self._view = view
        self._keeper = keeper
        self._read_concurrency = read_concurrency
        self._floor = 0  # the highest job-list index seen since Nomad's index last reset
        self._reset_pending = False
        self._seen_at = 0.0

    @property
    def floor(self) -> int:
        """The highest job-list index seen (0 before the first)."""
        return self._floor

    def observe_index(self, index: int) -> bool:
        """The job list's index as Nomad gives it now; True when it went backwards (a
        snapshot restore or a rebuilt cluster): the view must be rebuilt from a listing."""
        if index < self._floor:
            log.warning("nomad_index_reset", extra={"was": self._floor, "now": index})
            self._reset_pending = True
        self._floor = index
        self._seen_at = asyncio.get_running_loop().time()
        return self._reset_pending

    def raise_floor(self, index: int) -> None:
        """A write to a job or a summary at `index` was seen (an event): the job list's
        index is at least that, unless Nomad's index goes backwards."""
        self._floor = max(self._floor, index)

    def index_stale(self, after_s: float) -> bool:
        """Whether no job-list index was seen for `after_s` (a timer set for that moment
        may fire a hair early: it counts)."""
        return self.stale_in(after_s) <= STALE_SLACK_S

    def stale_in(self, after_s: float) -> float:
        """Seconds until no job-list index will have been seen for `after_s` (0 if so)."""
        return max(0.0, self._seen_at + after_s - asyncio.get_running_loop().time())

    @property
    def reset_pending(self) -> bool:
        """Nomad's index went backwards since the last listing: list again, from scratch."""
        return self._reset_pending

    async def probe(self) -> int:
        """One small request for Nomad's job-list index (`reset_pending` tells if it went
        backwards)."""
        index = await self._client.jobs_index()
        self.observe_index(index)
        return index

    async def relist(self) -> int:
        """List every job now (not blocking) and take it; the listing's index."""
        return await self.take_listing(await self.list_jobs())

    async def list_jobs(
        self, *, index: int | None = None, wait_s: float | None = None
    ) -> QueryResult[list[JobStub]]:
        listing = await self._client.list_jobs(
            meta=True, index=index, wait_s=wait_s, retry=WATCH_RETRY
        )
        self._view.mark_heard()
        return listing

    async def take_listing(self, listing: QueryResult[list[JobStub]]) -> int:
        """Bring the view in line with a listing; reads only jobs whose spec moved."""
        reset = self.observe_index(listing.index)
        self._reset_pending = False
        if reset:
            self._keeper.forget_known()
        held = {} if reset else self._view.live_jobs()
        stubs = listed(listing.value)
        stale = {
            job_id
            for job_id, stub in stubs.items()
            if (h := held.get(job_id)) is None or h.job.job_modify_index != stub.job_modify_index
        }
        fresh = await self.read_jobs(stale)
        taken: dict[str, ListedJob] = {}
        for job_id, stub in stubs.items():
            previous = held.get(job_id)
            job = (
                previous.job if previous is not None and job_id not in stale else fresh.get(job_id)
            )
            if job is None or job.job_modify_index != stub.job_modify_index:
                # Purged since, or read past the listing: the next listing or event brings
                # it (its index moved past this listing's, so one comes at once).
                if previous is not None:
                    taken[job_id] = previous
                continue
            if previous is not None and job is previous.job and _unchanged(previous, stub):
                taken[job_id] = previous
                continue
            taken[job_id] = ListedJob.in_nomad(job, stub)
        disappeared = set(held) - set(taken)
        saved = None
        if reset or disappeared or not self._view.synced:
            # Read before the update, so that no reader sees a collected job missing.
            saved = await self._keeper.collected({stub.id for stub in listing.value})
        self._view.update(taken, at=listing.index, complete=True, reset=reset, saved=saved)
        self._view.mark_synced()
        self._keeper.queue(fresh.values())
        return listing.index

    async def read_jobs(self, job_ids: Iterable[str]) -> dict[str, Job]:
        """The jobs as Nomad has them now; jobs Nomad no longer has are left out."""
        return await self._read_each(job_ids, self._client.read_job)

    async def read_summaries(self, job_ids: Iterable[str]) -> dict[str, JobSummary]:
        """The jobs' summaries as Nomad has them now; jobs it no longer has are left out."""
        return await self._read_each(job_ids, self._client.job_summary)

    async def _read_each(
        self, job_ids: Iterable[str], read: Callable[[str], Awaitable[QueryResult[T]]]
    ) -> dict[str, T]:
        ids = list(job_ids)
        results = await bounded_map(self._read_concurrency, lambda job_id: read(job_id), ids)
        found: dict[str, T] = {}
        for job_id, result in zip(ids, results, strict=True):
            if isinstance(result, nomad.NotFound):
                continue
            if isinstance(result, BaseException):
                raise result
            found[job_id] = result.value
        return found


def _unchanged(previous: ListedJob, stub: JobStub) -> bool:
    """Whether a job's list entry changed nothing since it was taken: no write to the job
    (status and stop included) nor to its summary."""
    summary = stub.job_summary.modify_index if stub.job_summary is not None else 0
    held = previous.summary.modify_index if previous.summary is not None else 0
    return previous.job.modify_index == stub.modify_index and held == summary
