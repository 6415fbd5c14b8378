"""The jobs the Cluster API lists, read from Nomad, and their views.

A job is listed when Nomad has it in the configured namespace and it is not a child job, or
when Nomad garbage-collected it but the bridge kept its saved definition (SPEC section 2).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from nomad_bridge.jobs.definitions import DefinitionStore
from nomad_bridge.jobs.errors import JobNotFound
from nomad_bridge.jobs.view import FlagKeys, JobView, collected_job_view, job_view
from nomad_bridge.nomad import NomadClient
from nomad_bridge.nomad import errors as nomad
from nomad_bridge.nomad.models import Job, JobSummary

log = logging.getLogger(__name__)


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


class JobCatalog:
    """Reads one listed job fresh from Nomad, as a mutation needs it for check-and-set."""

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
