"""The listed jobs read fresh from Nomad, as mutations and the operator CLI need them.

The live view answers reads from memory; a change is decided on what Nomad has now, so it
reads here: one job (with its saved definition once Nomad collected it) for check-and-set,
or the whole listing, as startall/stopall act on Nomad's present state rather than on a
view that may trail a change made directly in Nomad. Works on the server's client and on
the CLI's python-nomad adapter alike.
"""

from __future__ import annotations

from dataclasses import dataclass

from nomad_bridge.jobs import listing
from nomad_bridge.jobs.definitions import DefinitionStore, SavedDefinition
from nomad_bridge.jobs.errors import JobNotFound
from nomad_bridge.jobs.listing import ListedJob
from nomad_bridge.nomad import errors as nomad
from nomad_bridge.nomad.models import Job, JobStub
from nomad_bridge.nomad.protocol import NomadApi


@dataclass(frozen=True, slots=True)
class Listing:
    """Every listed job as Nomad has them now: its list entries, and the saved definitions
    of the jobs it collected."""

    in_nomad: dict[str, JobStub]
    collected: dict[str, SavedDefinition]

    def states(self) -> dict[str, tuple[bool, dict[str, str] | None]]:
        """Every listed job's (stopped, Meta): what startall and stopall choose jobs by."""
        states = {job_id: (stub.stop, stub.meta) for job_id, stub in self.in_nomad.items()}
        return states | {job_id: (True, saved.job.meta) for job_id, saved in self.collected.items()}


class JobCatalog:
    """Reads listed jobs fresh from Nomad (through `NomadApi`)."""

    def __init__(self, nomad_api: NomadApi, definitions: DefinitionStore) -> None:
        self._nomad = nomad_api
        self._definitions = definitions

    async def get(self, job_id: str) -> ListedJob:
        """One listed job; `JobNotFound` for unknown and child jobs."""
        job = await self.in_nomad(job_id)
        if job is not None:
            return ListedJob(job, None)
        saved = await self._definitions.load(job_id)
        if saved is None:
            raise JobNotFound(job_id)
        return ListedJob.from_definition(saved)

    async def in_nomad(self, job_id: str) -> Job | None:
        """The job as Nomad has it, None if Nomad has none; `JobNotFound` if it has one that
        is not listed (a child job)."""
        try:
            job = (await self._nomad.read_job(job_id)).value
        except nomad.NotFound:
            return None
        if not listing.is_listed(job):
            raise JobNotFound(job_id)
        return job

    async def listed_now(self) -> Listing:
        """Every listed job: Nomad's job list and the saved definitions, read now."""
        stubs = (await self._nomad.list_jobs(meta=True)).value
        collected = await self._definitions.load_collected({stub.id for stub in stubs})
        return Listing(listing.listed(stubs), collected)
