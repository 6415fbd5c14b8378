"""One function per `nomad-bridge jobs` command; each returns the process's exit code.

Results go to stdout, problems to stderr. Failures that end a command are raised as
`OperatorError`s (see `errors.py` for the exit codes); `cli.py` prints them.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from nomad_bridge.jobs.definitions import DefinitionTooLarge, definition_path
from nomad_bridge.jobs.view import (
    FlagKeys,
    JobView,
    collected_job_view,
    is_listed,
    job_view,
    sorted_views,
)
from nomad_bridge.nomad.models import Job, JobStub
from nomad_bridge.nomad.retry import backoff_s
from nomad_bridge.operator import saved
from nomad_bridge.operator.cluster import Cluster
from nomad_bridge.operator.errors import (
    EXIT_FAILED,
    EXIT_OK,
    EXIT_USAGE,
    CasConflict,
    JobNotFound,
    OperatorError,
)
from nomad_bridge.operator.flags import FlagChange, parse_flags, with_flags
from nomad_bridge.operator.table import render

FLAGS_CAS_ATTEMPTS = 5
CAS_BACKOFF_S = 0.05
CAS_BACKOFF_CAP_S = 1.0


@dataclass(frozen=True)
class Context:
    """What every command works with: the cluster and the bridge's settings."""

    cluster: Cluster
    keys: FlagKeys
    prefix: str
    namespace: str


def out(line: str) -> None:
    print(line, file=sys.stdout, flush=True)


def warn(line: str) -> None:
    print(f"nomad-bridge: {line}", file=sys.stderr, flush=True)


def _listed_stubs(ctx: Context) -> list[JobStub]:
    return [stub for stub in ctx.cluster.list_jobs() if not stub.parent_id]


def _listed_job(ctx: Context, job_id: str) -> dict[str, Any] | None:
    """The job as Nomad holds it, if the Cluster API lists it (child jobs never are)."""
    raw = ctx.cluster.read_job(job_id)
    if raw is None or not is_listed(Job.model_validate(raw)):
        return None
    return raw


# --- ls ------------------------------------------------------------------------------------


def job_views(ctx: Context) -> list[JobView]:
    """Every listed job's view, as `GET /jobs` builds it: Nomad's jobs, then the jobs Nomad
    garbage-collected that have a saved definition (dead, all-zero summaries)."""
    stubs = _listed_stubs(ctx)
    views: list[JobView] = []
    for stub in stubs:
        raw = ctx.cluster.read_job(stub.id)
        if raw is not None:  # else purged since the list
            views.append(job_view(Job.model_validate(raw), stub.job_summary, ctx.keys))
    known = {stub.id for stub in stubs}
    for job_id, definition in saved.load_all(ctx.cluster, ctx.prefix, warn).items():
        if job_id not in known:
            views.append(collected_job_view(definition, ctx.keys))
    return sorted_views(views)


def list_jobs(ctx: Context, *, as_json: bool) -> int:
    views = job_views(ctx)
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


def set_flags(ctx: Context, job_id: str, assignments: Sequence[str]) -> int:
    """Write the flags into the job's Meta with a check-and-set re-register, retried on
    conflict; a job Nomad garbage-collected gets its saved definition updated instead."""
    changes = parse_flags(assignments, ctx.keys)
    if not changes:
        raise OperatorError("nothing to set")  # argparse requires at least one
    for attempt in range(FLAGS_CAS_ATTEMPTS):
        raw = _listed_job(ctx, job_id)
        if raw is None:
            return _set_saved_flags(ctx, job_id, changes)
        pending = _pending(raw.get("Meta"), changes)
        if not pending:
            out(f"{job_id}: unchanged ({_summary(changes)})")
            return EXIT_OK
        try:
            ctx.cluster.register(with_flags(raw, changes), modify_index=raw["JobModifyIndex"])
        except CasConflict:
            time.sleep(backoff_s(attempt + 1, base_s=CAS_BACKOFF_S, cap_s=CAS_BACKOFF_CAP_S))
            continue
        for line in pending:
            out(f"{job_id}: {line}")
        return EXIT_OK
    raise OperatorError(
        f"job {job_id!r} kept changing under us ({FLAGS_CAS_ATTEMPTS} check-and-set "
        "conflicts); nothing was changed, try again"
    )


def _set_saved_flags(ctx: Context, job_id: str, changes: Sequence[FlagChange]) -> int:
    pending: list[str] = []

    def change(spec: dict[str, Any]) -> dict[str, Any] | None:
        pending[:] = _pending(spec.get("Meta"), changes)
        return with_flags(spec, changes) if pending else None

    try:
        written = saved.rewrite(ctx.cluster, ctx.prefix, job_id, change)
    except KeyError:
        raise JobNotFound(job_id) from None
    if written is None:
        out(f"{job_id}: unchanged ({_summary(changes)}; saved definition)")
        return EXIT_OK
    for line in pending:
        out(f"{job_id}: {line} (saved definition: Nomad garbage-collected the job)")
    return EXIT_OK


def _summary(changes: Sequence[FlagChange]) -> str:
    return ", ".join(f"{c.name}={c.value}" for c in changes)


# --- save-definitions ----------------------------------------------------------------------


def save_definitions(ctx: Context) -> int:
    """Backfill the saved definition of every listed job, writing only changed ones."""
    stubs = _listed_stubs(ctx)
    written = unchanged = failed = 0
    for stub in stubs:
        raw = ctx.cluster.read_job(stub.id)
        if raw is None:
            continue
        job = Job.model_validate(raw)
        try:
            if saved.save(ctx.cluster, ctx.prefix, job.id, job.spec()):
                written += 1
                out(f"{job.id}: saved ({definition_path(ctx.prefix, job.id)})")
            else:
                unchanged += 1
        except (DefinitionTooLarge, OperatorError) as err:
            failed += 1
            warn(f"{job.id}: not saved: {err}")
    out(f"{written} saved, {unchanged} unchanged, {failed} failed ({len(stubs)} jobs)")
    return EXIT_FAILED if failed else EXIT_OK


# --- forget --------------------------------------------------------------------------------


def forget(ctx: Context, job_id: str, *, yes: bool) -> int:
    """Purge the job in Nomad and delete its saved definition; only with `yes`."""
    in_nomad = _listed_job(ctx, job_id) is not None
    has_definition = saved.exists(ctx.cluster, ctx.prefix, job_id)
    if not in_nomad and not has_definition:
        raise JobNotFound(job_id)
    path = definition_path(ctx.prefix, job_id)
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
        ctx.cluster.purge(job_id)
        out(f"{job_id}: purged from Nomad")
    if has_definition:
        saved.delete(ctx.cluster, ctx.prefix, job_id)
        out(f"{job_id}: saved definition deleted ({path})")
    return EXIT_OK
