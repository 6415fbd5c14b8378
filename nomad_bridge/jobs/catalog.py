"""The jobs the Cluster API lists, read from Nomad, and their views.

A job is listed when Nomad has it in the configured namespace and it is not a child job, or
when Nomad garbage-collected it but the bridge kept its saved definition (SPEC section 2).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import TypeVar

from nomad_bridge.jobs.definitions import DefinitionStore
from nomad_bridge.jobs.errors import JobNotFound
from nomad_bridge.jobs.view import FlagKeys, JobView, collected_job_view, job_view
from nomad_bridge.nomad import NomadClient
from nomad_bridge.nomad import errors as nomad
from nomad_bridge.nomad.endpoints import routable_job_id
from nomad_bridge.nomad.models import Job, JobSummary

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")


@dataclass(frozen=True, slots=True)
class ListedJob:
    """A listed job: Nomad's job and summary, or only the saved definition once collected."""

    job: Job
    summary: JobSummary | None
    collected: bool = False

    @property
    def id(self) -> str:
        return self.job.id

    @property
    def stopped(self) -> bool:
        return self.collected or self.job.stop

    def view(self, keys: FlagKeys) -> JobView:
        if self.collected:
            return collected_job_view(self.job, keys)
        return job_view(self.job, self.summary, keys)


async def bounded_map(
    limit: int, func: Callable[[T], Awaitable[R]], items: Iterable[T]
) -> list[R | BaseException]:
    """Run `func` over `items` with at most `limit` at once; failures come back as values."""
    semaphore = asyncio.Semaphore(limit)

    async def run(item: T) -> R:
        async with semaphore:
            return await func(item)

    return await asyncio.gather(*(run(item) for item in items), return_exceptions=True)


class JobCatalog:
    """Reads listed jobs fresh from Nomad: one, as a mutation needs it for check-and-set, or
    all, as startall/stopall need them."""

    def __init__(self, client: NomadClient, definitions: DefinitionStore) -> None:
        self._client = client
        self._definitions = definitions

    async def get(self, job_id: str) -> ListedJob:
        """One listed job; `JobNotFound` for unknown and child jobs."""
        try:
            job = (await self._client.read_job(job_id)).value
        except nomad.NotFound:
            definition = await self._definitions.load(job_id)
            if definition is None:
                raise JobNotFound(job_id) from None
            return ListedJob(definition, None, collected=True)
        if job.parent_id:
            raise JobNotFound(job_id)
        return ListedJob(job, None)

    async def listed_now(self) -> dict[str, tuple[bool, dict[str, str] | None]]:
        """Every listed job's (stopped, Meta) as Nomad has them now.

        Bulk operations act on Nomad's present state (the job list and the saved definitions)
        rather than on the live view, which may trail a change made directly in Nomad.
        """
        stubs = (await self._client.list_jobs(meta=True)).value
        listed = {
            stub.id: (stub.stop, stub.meta)
            for stub in stubs
            if not stub.parent_id and routable_job_id(stub.id)  # as the live view lists them
        }
        in_nomad = {stub.id for stub in stubs}
        for job_id, saved in (await self._definitions.load_all()).items():
            if job_id not in in_nomad:
                listed[job_id] = (True, saved.job.meta)
        return listed
