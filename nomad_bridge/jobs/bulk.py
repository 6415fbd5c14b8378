"""startall/stopall: many jobs, a bounded number at a time, answered by a deadline.

Each job gets the same change `start`/`stop` makes; what is bulk is how they run. At most
`concurrency` run at once, and whatever is unfinished when the deadline passes is cancelled
and answered as such (504) instead of holding the answer past a proxy's timeout. A change
already sent to Nomad is not undone: Nomad may still apply it, and `GET /jobs` shows it.
Repeating the call is safe (a running job is not started again, a stopped one not stopped
again), so a client's next step is to look, then ask again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import TypeVar

from nomad_bridge.nomad import errors as nomad

log = logging.getLogger(__name__)

R = TypeVar("R")

DEADLINE_SETTING = "BRIDGE_BULK_DEADLINE_S"
ANSWER_MARGIN_S = 0.2
"""The work stops this much before the deadline (at most a tenth of it): time to answer."""


class DeadlinePassed(nomad.Timeout):
    """The bulk call's deadline passed before this job's change was done (504)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, path="/v1/job/:id")

    def __str__(self) -> str:
        return self.message


class Deadline:
    """When one bulk call must stop working to answer in time, on the event loop's clock."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        margin_s = min(ANSWER_MARGIN_S, seconds / 10)
        self.at = asyncio.get_running_loop().time() + seconds - margin_s

    def remaining_s(self) -> float:
        return max(0.0, self.at - asyncio.get_running_loop().time())

    def _passed(self, when: str, then: str) -> DeadlinePassed:
        return DeadlinePassed(f"{DEADLINE_SETTING} ({self.seconds:g} s) passed {when}; {then}")

    def unfinished(self) -> DeadlinePassed:
        return self._passed(
            "while waiting for Nomad", "a change already sent may still take effect"
        )

    def not_attempted(self) -> DeadlinePassed:
        return self._passed("before its turn", "nothing was sent to Nomad for it")

    def not_listed(self) -> DeadlinePassed:
        return self._passed("before Nomad listed the jobs", "nothing was sent to Nomad for it")


async def run_bulk(
    operation: Callable[[str], Awaitable[R]],
    job_ids: Iterable[str],
    *,
    concurrency: int,
    deadline: Deadline,
) -> list[tuple[str, R | Exception]]:
    """`operation` on every job, at most `concurrency` at once; each job's result or error,
    in the order given. One job's failure never stops the others; at the deadline the
    unfinished ones are cancelled and get a `DeadlinePassed`."""
    semaphore = asyncio.Semaphore(concurrency)
    begun: set[str] = set()

    async def run(job_id: str) -> R | Exception:
        async with semaphore:
            begun.add(job_id)
            try:
                return await operation(job_id)
            except Exception as error:
                return error

    tasks: dict[str, asyncio.Task[R | Exception]] = {}
    try:
        async with asyncio.timeout_at(deadline.at), asyncio.TaskGroup() as group:
            for job_id in job_ids:
                tasks[job_id] = group.create_task(run(job_id))
    except TimeoutError:
        pass  # the unfinished tasks were cancelled: answered below
    outcomes: list[tuple[str, R | Exception]] = []
    for job_id, task in tasks.items():
        if task.cancelled():
            outcomes.append(
                (job_id, deadline.unfinished() if job_id in begun else deadline.not_attempted())
            )
            continue
        outcome = task.result()
        if isinstance(outcome, Exception):
            log.warning("bulk_job_failed", extra={"job": job_id, "error": str(outcome)})
        outcomes.append((job_id, outcome))
    if unfinished := sum(task.cancelled() for task in tasks.values()):
        log.warning(
            "bulk_deadline_passed",
            extra={"jobs": len(tasks), "unfinished": unfinished, "deadline_s": deadline.seconds},
        )
    return outcomes
