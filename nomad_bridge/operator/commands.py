"""One function per `nomad-bridge jobs` command; each returns the process's exit code.

The commands decide nothing the server decides differently: which jobs are listed, how a
job is read with its saved definition, and how definitions are saved come from
`nomad_bridge.jobs` (the same code the server runs), over the python-nomad adapter.
Results go to stdout, problems to stderr; failures that end a command are raised (see
`errors.py` for the exit codes) and `cli.py` prints them.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass

from nomad_bridge.jobs.catalog import JobCatalog
from nomad_bridge.jobs.definitions import DefinitionStore, DefinitionTooLarge
from nomad_bridge.jobs.errors import JobNotFound
from nomad_bridge.jobs.listing import ListedJob, listed
from nomad_bridge.jobs.view import FlagKeys, JobView, sorted_views
from nomad_bridge.nomad import errors as nomad
from nomad_bridge.nomad.retry import backoff_s
from nomad_bridge.operator.errors import EXIT_FAILED, EXIT_OK, EXIT_USAGE, OperatorError, message
from nomad_bridge.operator.flags import FlagChange, flagged_meta, parse_flags
from nomad_bridge.operator.nomad_api import PythonNomad
from nomad_bridge.operator.table import render

FLAGS_CAS_ATTEMPTS = 5
CAS_BACKOFF_S = 0.05
CAS_BACKOFF_CAP_S = 1.0
COLLECTED_NOTE = "saved definition: Nomad garbage-collected the job"


@dataclass(frozen=True)
class Context:
    """What every command works with: Nomad, the bridge's shared rules, its settings."""

    nomad: PythonNomad
    catalog: JobCatalog
    definitions: DefinitionStore
    keys: FlagKeys
    namespace: str


def out(line: str) -> None:
    print(line, file=sys.stdout, flush=True)


def warn(line: str) -> None:
    print(f"nomad-bridge: {line}", file=sys.stderr, flush=True)


# --- ls ------------------------------------------------------------------------------------


async def job_views(ctx: Context) -> list[JobView]:
    """Every listed job's view, as `GET /jobs` builds it: Nomad's jobs, then the jobs Nomad
    garbage-collected that have a saved definition (dead, all-zero summaries)."""
    now = await ctx.catalog.listed_now()
    views: list[JobView] = []
    for stub in now.in_nomad.values():
        try:
            job = (await ctx.nomad.read_job(stub.id)).value
        except nomad.NotFound:
            continue  # purged since the list
        views.append(ListedJob.in_nomad(job, stub).view(ctx.keys))
    views += [ListedJob.from_definition(saved).view(ctx.keys) for saved in now.collected.values()]
    return sorted_views(views)


async def list_jobs(ctx: Context, *, as_json: bool) -> int:
    views = await job_views(ctx)
    if as_json:
        out(json.dumps([view.to_json_dict() for view in views], indent=2, ensure_ascii=False))
    else:
        out(render(views))
    return EXIT_OK


# --- flags ---------------------------------------------------------------------------------


def _describe(change: FlagChange, before: str | None) -> str:
    was = "unset" if before is None else json.dumps(before)
    key = "" if change.key == change.name else f" (Meta key {change.key!r})"
    return f"{change.name}{key}: {was} -> {json.dumps(change.value)}"


def _pending(meta: dict[str, str] | None, changes: Sequence[FlagChange]) -> list[str]:
    current = meta or {}
    return [_describe(c, current.get(c.key)) for c in changes if current.get(c.key) != c.value]


def _summary(changes: Sequence[FlagChange]) -> str:
    return ", ".join(f"{c.name}={c.value}" for c in changes)


async def set_flags(ctx: Context, job_id: str, assignments: Sequence[str]) -> int:
    """Write the flags into the job's Meta with a check-and-set write, retried on conflict:
    a re-register of the job Nomad has, or, once Nomad collected it, of its saved definition."""
    changes = parse_flags(assignments, ctx.keys)
    if not changes:
        raise OperatorError("nothing to set")  # argparse requires at least one
    for attempt in range(1, FLAGS_CAS_ATTEMPTS + 1):
        listed_job = await ctx.catalog.get(job_id)
        pending = _pending(listed_job.job.meta, changes)
        if not pending:
            where = "; saved definition" if listed_job.collected else ""
            out(f"{job_id}: unchanged ({_summary(changes)}{where})")
            return EXIT_OK
        job = listed_job.job
        flagged = job.model_copy(update={"meta": flagged_meta(job.meta, changes)})
        try:
            if listed_job.saved is not None:
                await ctx.definitions.replace(listed_job.saved, flagged)
            else:
                await ctx.nomad.register_job(flagged, enforce_index=job.job_modify_index)
        except nomad.CasConflict:
            await asyncio.sleep(backoff_s(attempt, base_s=CAS_BACKOFF_S, cap_s=CAS_BACKOFF_CAP_S))
            continue
        note = f" ({COLLECTED_NOTE})" if listed_job.collected else ""
        for line in pending:
            out(f"{job_id}: {line}{note}")
        return EXIT_OK
    raise OperatorError(
        f"job {job_id!r} kept changing under us ({FLAGS_CAS_ATTEMPTS} check-and-set "
        "conflicts); nothing was changed, try again"
    )


# --- save-definitions ----------------------------------------------------------------------


async def save_definitions(ctx: Context) -> int:
    """Backfill the saved definition of every listed job, writing only changed ones."""
    stubs = listed((await ctx.nomad.list_jobs()).value)
    written = unchanged = failed = 0
    for job_id in stubs:
        try:
            job = (await ctx.nomad.read_job(job_id)).value
        except nomad.NotFound:
            continue  # purged since the list
        try:
            if await ctx.definitions.save(job):
                written += 1
                out(f"{job_id}: saved ({ctx.definitions.path(job_id)})")
            else:
                unchanged += 1
        except (DefinitionTooLarge, nomad.NomadError) as err:
            failed += 1
            warn(f"{job_id}: not saved: {message(err)}")
    out(f"{written} saved, {unchanged} unchanged, {failed} failed ({len(stubs)} jobs)")
    return EXIT_FAILED if failed else EXIT_OK


# --- forget --------------------------------------------------------------------------------


async def forget(ctx: Context, job_id: str, *, yes: bool) -> int:
    """Purge the job in Nomad and delete its saved definition; only with `yes`."""
    in_nomad = await ctx.catalog.in_nomad(job_id) is not None
    has_definition = await ctx.definitions.holds(job_id)
    if not in_nomad and not has_definition:
        raise JobNotFound(job_id)
    path = ctx.definitions.path(job_id)
    plan = []
    if in_nomad:
        plan.append(f"purge job {job_id!r} from Nomad (namespace {ctx.namespace!r})")
    if has_definition:
        plan.append(f"delete its saved definition (variable {path!r})")
    if not yes:
        for step in plan:
            out(f"would {step}")
        warn("forget cannot be undone; run it again with --yes to do it")
        return EXIT_USAGE
    if in_nomad:
        await ctx.nomad.stop_job(job_id, purge=True)
        out(f"{job_id}: purged from Nomad")
    if has_definition:
        await ctx.definitions.delete(job_id)
        out(f"{job_id}: saved definition deleted ({path})")
    return EXIT_OK
