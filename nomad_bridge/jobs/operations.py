"""What the Cluster API's mutations do in Nomad: start, stop, and count changes.

Every change goes through Nomad and answers only once Nomad accepted it. Count changes use
Nomad's check-and-set so that no concurrent update — from this replica or another — is
lost (SPEC section 2).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from enum import StrEnum

from nomad_bridge.jobs.bulk import Deadline, run_bulk
from nomad_bridge.jobs.catalog import JobCatalog
from nomad_bridge.jobs.definitions import DefinitionStore
from nomad_bridge.jobs.errors import (
    CountChangeConflict,
    CountOutOfRange,
    TaskGroupNotFound,
)
from nomad_bridge.jobs.listing import ListedJob
from nomad_bridge.jobs.live import LiveView
from nomad_bridge.jobs.view import flag
from nomad_bridge.nomad import NomadClient
from nomad_bridge.nomad import errors as nomad
from nomad_bridge.nomad.retry import backoff_s

log = logging.getLogger(__name__)

MAX_COUNT_SETTING = "BRIDGE_MAX_COUNT"

CONFLICT_BACKOFF_BASE_S = 0.02
CONFLICT_BACKOFF_CAP_S = 0.5
SCALE_MESSAGE_PREFIX = "nomad-bridge"
VIEW_CATCH_UP_TIMEOUT_S = 5.0


class Outcome(StrEnum):
    STARTED = "started"
    RESTORED = "restored"  # re-registered from the saved definition after Nomad's GC
    ALREADY_RUNNING = "already running"
    STOPPED = "stopped"
    ALREADY_STOPPED = "already stopped"


class CountPath(StrEnum):
    """Which Nomad call applied a count change (reported to the client and logged)."""

    SCALE = "scale"  # POST /v1/job/:id/scale, the normal path: records a scaling event
    REGISTER = "register"  # check-and-set re-register, when Nomad refuses to scale
    DEFINITION = "definition"  # the job was garbage-collected: its saved definition changed


@dataclass(frozen=True, slots=True)
class StateChange:
    job_id: str
    outcome: Outcome
    eval_id: str = ""
    index: int = 0  # Nomad's JobModifyIndex of the change (0: nothing was written)


@dataclass(frozen=True, slots=True)
class CountChange:
    job_id: str
    group: str
    previous_count: int
    count: int
    path: CountPath
    attempts: int


@dataclass(frozen=True, slots=True)
class BulkResult:
    """One job's part of startall/stopall: what happened, or why it failed."""

    job_id: str
    change: StateChange | None
    error: Exception | None


class KeyedLocks:
    """One asyncio lock per key, dropped again when nobody holds or waits for it.

    Waiting for a key is bounded: while Nomad hangs, changes of one job would otherwise
    queue behind each other, the k-th answering after k Nomad timeouts.
    """

    def __init__(self, wait_s: float) -> None:
        self._wait_s = wait_s
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}

    @asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[None]:
        lock, users = self._locks.get(key, (asyncio.Lock(), 0))
        self._locks[key] = (lock, users + 1)
        try:
            try:
                async with asyncio.timeout(self._wait_s):
                    await lock.acquire()
            except TimeoutError:
                raise nomad.Timeout(
                    f"another change of job {key!r} is still waiting for Nomad",
                    path="/v1/job/:id",
                ) from None
            try:
                yield
            finally:
                lock.release()
        finally:
            lock, users = self._locks[key]
            if users == 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)


def conflict_backoff_s(attempt: int) -> float:
    """The pause after check-and-set conflict number `attempt`: competing replicas spread out."""
    return backoff_s(attempt, base_s=CONFLICT_BACKOFF_BASE_S, cap_s=CONFLICT_BACKOFF_CAP_S)


class JobOperations:
    def __init__(
        self,
        client: NomadClient,
        catalog: JobCatalog,
        definitions: DefinitionStore,
        live: LiveView,
        *,
        count_change_attempts: int,
        bulk_concurrency: int,
        bulk_deadline_s: float,
        max_count: int,
        lock_wait_s: float,
    ) -> None:
        self._client = client
        self._catalog = catalog
        self._definitions = definitions
        self._live = live
        self._attempts = count_change_attempts
        self._bulk_concurrency = bulk_concurrency
        self._bulk_deadline_s = bulk_deadline_s
        self._max_count = max_count
        self._locks = KeyedLocks(lock_wait_s)

    async def start(self, job_id: str) -> StateChange:
        """Start a stopped job; answers once the live view shows it."""
        change = await self._start(job_id)
        await self._seen(change.index)
        return change

    async def stop(self, job_id: str) -> StateChange:
        """Stop a job; answers once the live view shows it."""
        change = await self._stop(job_id)
        await self._seen(change.index)
        return change

    async def _start(self, job_id: str) -> StateChange:
        """Start a stopped job, or re-register a collected one from its saved definition."""
        async with self._locks.hold(job_id):
            for attempt in range(self._attempts):
                listed = await self._catalog.get(job_id)
                if not listed.stopped:
                    return StateChange(job_id, Outcome.ALREADY_RUNNING)
                started = listed.job.with_stop(False).spec()
                try:
                    if listed.collected:
                        # enforce_index=0: register only if nobody registered it meanwhile.
                        response = await self._client.register_job(started, enforce_index=0)
                        outcome = Outcome.RESTORED
                    else:
                        response = await self._client.register_job(
                            started, enforce_index=listed.job.job_modify_index
                        )
                        outcome = Outcome.STARTED
                except nomad.CasConflict:
                    await asyncio.sleep(conflict_backoff_s(attempt + 1))
                    continue
                log.info("job_started", extra={"job": job_id, "outcome": outcome.value})
                return StateChange(job_id, outcome, response.eval_id, response.job_modify_index)
        raise CountChangeConflict(f"job {job_id!r} kept changing while it was being started")

    async def _stop(self, job_id: str) -> StateChange:
        """Stop (deregister without purge); a stopped or collected job is left alone."""
        async with self._locks.hold(job_id):
            listed = await self._catalog.get(job_id)
            if listed.stopped:
                return StateChange(job_id, Outcome.ALREADY_STOPPED)
            response = await self._client.stop_job(job_id)
            log.info("job_stopped", extra={"job": job_id})
            return StateChange(job_id, Outcome.STOPPED, response.eval_id, response.job_modify_index)

    async def start_all(self, autostart_key: str) -> list[BulkResult]:
        """Start every listed, stopped job flagged autostart (a running one needs nothing)."""
        return await self._bulk(
            self._start, lambda stopped, meta: stopped and flag(meta, autostart_key)
        )

    async def stop_all(self) -> list[BulkResult]:
        """Stop every listed job that is not stopped."""
        return await self._bulk(self._stop, lambda stopped, _meta: not stopped)

    async def _bulk(
        self,
        operation: Callable[[str], Awaitable[StateChange]],
        wanted: Callable[[bool, dict[str, str] | None], bool],
    ) -> list[BulkResult]:
        """`operation` on every listed job `wanted(stopped, meta)` selects, answered by the
        bulk deadline (`jobs.bulk`)."""
        deadline = Deadline(self._bulk_deadline_s)
        try:
            async with asyncio.timeout_at(deadline.at):
                listed = await self._catalog.listed_now()
        except TimeoutError:
            # Nomad has not listed the jobs: answer for those the live view would act on.
            targets = [j.id for j in self._live.listed_jobs() if wanted(j.stopped, j.job.meta)]
            if not targets:
                raise deadline.not_listed() from None
            log.warning("bulk_deadline_passed", extra={"not_listed": len(targets)})
            return [BulkResult(job_id, None, deadline.not_listed()) for job_id in sorted(targets)]
        targets = sorted(
            job_id for job_id, (stopped, meta) in listed.states().items() if wanted(stopped, meta)
        )
        outcomes = await run_bulk(
            operation, targets, concurrency=self._bulk_concurrency, deadline=deadline
        )
        out = [
            BulkResult(job_id, None, outcome)
            if isinstance(outcome, Exception)
            else BulkResult(job_id, outcome, None)
            for job_id, outcome in outcomes
        ]
        # One wait for the view, for the last write, instead of one per job; within the deadline.
        index = max((r.change.index for r in out if r.change), default=0)
        await self._seen(index, min(VIEW_CATCH_UP_TIMEOUT_S, deadline.remaining_s()))
        return out

    async def add_to_count(self, job_id: str, group: str, delta: int) -> CountChange:
        """Add a signed delta to a group's count; a delta of 0 sets the count to 0."""
        if delta > self._max_count:  # past it whatever the count is: Nomad need not be asked
            self._check_max(job_id, group, delta, at_least=True)
        return await self._change_count(
            job_id, group, lambda previous_count: previous_count + delta if delta else 0
        )

    async def set_count(self, job_id: str, group: str, count: int) -> CountChange:
        self._check_max(job_id, group, count)
        return await self._change_count(job_id, group, lambda _previous_count: count)

    def _check_max(self, job_id: str, group: str, count: int, *, at_least: bool = False) -> None:
        """The bridge's own bound; a group's scaling policy, checked by Nomad, may be stricter."""
        if count > self._max_count:
            raise CountOutOfRange(
                f"count of {job_id!r}/{group!r} would be {'at least ' if at_least else ''}"
                f"{count}; {MAX_COUNT_SETTING} allows at most {self._max_count}"
            )

    async def _change_count(
        self, job_id: str, group: str, count_from: Callable[[int], int]
    ) -> CountChange:
        """Apply `count_from(previous_count)` as the group's count, with check-and-set."""
        async with self._locks.hold(job_id):
            for attempt in range(self._attempts):
                listed = await self._catalog.get(job_id)
                task_group = listed.job.group(group)
                if task_group is None:
                    raise TaskGroupNotFound(job_id, group)
                previous_count = task_group.count
                count = count_from(previous_count)
                if count < 0:
                    raise CountOutOfRange(
                        f"count of {job_id!r}/{group!r} would be {count}; it must be at least 0"
                    )
                self._check_max(job_id, group, count)
                path = await self._apply_count(listed, group, previous_count, count)
                if path is None:
                    await asyncio.sleep(conflict_backoff_s(attempt + 1))
                    continue
                change = CountChange(job_id, group, previous_count, count, path, attempt + 1)
                log.info(
                    "count_changed",
                    extra={
                        "job": job_id,
                        "group": group,
                        "previous_count": previous_count,
                        "count": count,
                        "path": path.value,
                        "attempts": change.attempts,
                    },
                )
                return change
        raise CountChangeConflict(
            f"job {job_id!r} changed under every one of {self._attempts} attempts; "
            "nothing was changed"
        )

    async def _apply_count(
        self, listed: ListedJob, group: str, previous_count: int, count: int
    ) -> CountPath | None:
        """Apply one check-and-set attempt; None when another writer got there first.

        Nomad's own refusals (a count outside the group's scaling policy is its 400) reach
        the client as they are (`api.problems` maps them).
        """
        job = listed.job
        updated = job.with_group_count(group, count)
        try:
            if listed.saved is not None:
                # The live view hears of the definition written at once (`on_saved`).
                await self._definitions.replace(listed.saved, updated)
                return CountPath.DEFINITION
            try:
                response = await self._client.scale_job(
                    job.id,
                    group,
                    count,
                    message=f"{SCALE_MESSAGE_PREFIX}: {group} count {previous_count} -> {count}",
                    job_modify_index=job.job_modify_index,
                )
                path = CountPath.SCALE
            except nomad.DeploymentActive:
                response = await self._client.register_job(
                    updated.spec(), enforce_index=job.job_modify_index
                )
                path = CountPath.REGISTER
        except nomad.CasConflict:
            return None
        await self._seen(response.job_modify_index)
        return path

    async def _seen(
        self, job_modify_index: int, timeout_s: float = VIEW_CATCH_UP_TIMEOUT_S
    ) -> None:
        """Answer a mutation only once the live view shows it: a read right after sees it."""
        if job_modify_index and not await self._live.caught_up(job_modify_index, timeout_s):
            log.warning("view_behind_write", extra={"index": job_modify_index})
