"""`nomad-bridge jobs import DIR`: register every job file of a directory, as `nomad job run`.

`*.json` holds Nomad's API format, `{"Job": {...}}` or the bare job object; `*.hcl` and
`*.nomad` are HCL2 job specifications, which Nomad itself turns into JSON
(`POST /v1/jobs/parse`, canonicalized). `--flag` assignments are added to each job's `Meta`
before it is registered. One line per file; the exit code is 1 if any file failed.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from nomad_bridge.nomad.errors import NomadError
from nomad_bridge.operator.commands import Context, out, warn
from nomad_bridge.operator.errors import EXIT_FAILED, EXIT_OK, OperatorError, UsageError, message
from nomad_bridge.operator.flags import parse_flags, with_flags

JSON_SUFFIXES = frozenset({".json"})
HCL_SUFFIXES = frozenset({".hcl", ".nomad"})


def job_files(directory: Path) -> list[Path]:
    """The job files directly in `directory`, by name; at least one."""
    if not directory.is_dir():
        raise UsageError(f"{directory}: not a directory")
    suffixes = JSON_SUFFIXES | HCL_SUFFIXES
    files = sorted(p for p in directory.iterdir() if p.is_file() and p.suffix in suffixes)
    if not files:
        raise OperatorError(f"{directory}: no job files (*.json, *.hcl, *.nomad)")
    return files


def job_from_json(text: str) -> dict[str, Any]:
    """The job of a JSON job file: `{"Job": {...}}` (key in any case, as Go decodes it) or
    the job object itself."""
    data = json.loads(text)
    if not isinstance(data, dict):
        raise ValueError("not a JSON object")
    if len(data) == 1:
        ((key, value),) = data.items()
        if key.lower() == "job" and isinstance(value, dict):
            return value
    return data


async def read_job(ctx: Context, path: Path) -> dict[str, Any]:
    text = await asyncio.to_thread(path.read_text, encoding="utf-8")
    if path.suffix in JSON_SUFFIXES:
        return job_from_json(text)
    return await ctx.nomad.parse_job(text)


async def import_dir(ctx: Context, directory: Path, assignments: Sequence[str]) -> int:
    changes = parse_flags(assignments, ctx.keys)
    files = await asyncio.to_thread(job_files, directory)
    failed = 0
    for path in files:
        try:
            job = with_flags(await read_job(ctx, path), changes)
            eval_id = (await ctx.nomad.register_job(job)).eval_id
        except (OperatorError, NomadError, OSError, UnicodeDecodeError, ValueError) as err:
            failed += 1
            warn(f"{path.name}: FAILED: {message(err)}")
            continue
        evaluation = f" (evaluation {eval_id})" if eval_id else ""
        out(f"{path.name}: registered job {job.get('ID')!r}{evaluation}")
    out(f"{len(files) - failed} of {len(files)} job files registered")
    return EXIT_FAILED if failed else EXIT_OK
