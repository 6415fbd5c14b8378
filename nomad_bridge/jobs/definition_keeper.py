"""Saved definitions kept in step with the live view, off its path.

Every spec the watch sees change is saved in the background, latest spec per job, with a
few requests at a time: the view never waits for Variables, and the watch's own reads stay
ahead of the saver's in Nomad's queue. Definitions of jobs Nomad collected are read when
jobs disappear and every `refresh_s` (another replica or the CLI may have changed them);
one the bridge writes itself shows in the view at once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Container, Iterable

from nomad_bridge.jobs.concurrency import bounded_map
from nomad_bridge.jobs.definitions import DefinitionStore, SavedDefinition
from nomad_bridge.jobs.errors import BridgeError
from nomad_bridge.jobs.live import LiveView
from nomad_bridge.nomad import errors as nomad
from nomad_bridge.nomad.models import Job

log = logging.getLogger(__name__)

SAVE_CONCURRENCY = 4
SAVE_RATE_PER_S = 100.0
"""Definition writes a second at most (a cold start's first save of every job: 5,000 take
50 s; later starts write only what changed)."""
REFRESH_S = 30.0


class DefinitionKeeper:
    """Saves changed specs and keeps the view's collected jobs current."""

    def __init__(
        self, store: DefinitionStore, view: LiveView, *, refresh_s: float = REFRESH_S
    ) -> None:
        self._store = store
        self._view = view
        self._refresh_s = refresh_s
        self._unsaved: dict[str, Job] = {}  # the latest spec of each job not yet saved
        self._unsaved_ready = asyncio.Event()
        store.on_saved(self._written)

    def queue(self, jobs: Iterable[Job]) -> None:
        """Hand changed specs to the saver; the latest spec of a job wins."""
        for job in jobs:
            self._unsaved[job.id] = job
        if self._unsaved:
            self._unsaved_ready.set()

    async def collected(self, in_nomad: Container[str]) -> dict[str, SavedDefinition]:
        """The saved definitions of the jobs Nomad does not have (`in_nomad` it has)."""
        return await self._store.load_collected(in_nomad)

    async def refresh(self) -> None:
        """Re-read saved definitions: jobs Nomad collected stay listed, as `dead`."""
        self._view.take_definitions(await self.collected(self._view.live_jobs()))

    def forget_known(self) -> None:
        """Nomad's index went backwards: what the store remembers of variables is stale."""
        self._store.forget_known()

    async def run(self) -> None:
        """Save and refresh until cancelled."""
        await asyncio.gather(self._save_forever(), self._refresh_forever())

    async def _save_forever(self) -> None:
        while True:
            await self._unsaved_ready.wait()
            self._unsaved_ready.clear()
            while self._unsaved:
                await self._save_some()

    async def _save_some(self) -> None:
        """Save a few of the queued specs, then pause as long as their writes ask: at a cold
        start in front of thousands of jobs the writes trickle (`SAVE_RATE_PER_S`) rather
        than flood Nomad ahead of the watch's own reads."""
        jobs = list(self._unsaved.values())[:SAVE_CONCURRENCY]
        for job in jobs:
            del self._unsaved[job.id]
        results = await bounded_map(SAVE_CONCURRENCY, self._store.save, jobs)
        for job, result in zip(jobs, results, strict=True):
            if isinstance(result, Exception):
                log.warning(
                    "definition_save_failed",
                    extra={"job": job.id, "error": str(result)},
                    exc_info=not isinstance(result, nomad.NomadError | BridgeError),
                )
            elif isinstance(result, BaseException):
                raise result
        written = sum(1 for result in results if result is True)
        if written:
            await asyncio.sleep(written / SAVE_RATE_PER_S)

    async def _refresh_forever(self) -> None:
        while True:
            await asyncio.sleep(self._refresh_s)
            if not self._view.synced:
                continue
            try:
                await self.refresh()
            except Exception as error:  # keep refreshing after any failure
                log.warning(
                    "definitions_refresh_failed",
                    extra={"error": str(error)},
                    exc_info=not isinstance(error, nomad.NomadError),
                )

    def _written(self, definition: SavedDefinition) -> None:
        """A definition the bridge wrote: a collected job's view changes with it now."""
        if definition.job.id in self._view.collected_ids():
            self._view.take_definition(definition)
