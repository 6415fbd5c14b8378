"""Saved definitions as the operator CLI reads and writes them: the same Nomad Variables, the
same paths and the same encoding as the bridge (`nomad_bridge.jobs.definitions`), so a
definition written here is one the bridge recognises as unchanged, and vice versa.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Mapping
from typing import Any

from nomad_bridge.jobs.definitions import (
    decode_items,
    definition_path,
    encode_items,
    spec_digest,
)
from nomad_bridge.nomad.models import Job
from nomad_bridge.operator.cluster import Cluster
from nomad_bridge.operator.errors import CasConflict, OperatorError

VARIABLE_CAS_ATTEMPTS = 5
Warn = Callable[[str], None]


def load_all(cluster: Cluster, prefix: str, warn: Warn) -> dict[str, Job]:
    """Every readable saved definition under `prefix`, by job ID."""
    jobs: dict[str, Job] = {}
    for meta in cluster.list_variables(prefix.strip("/") + "/"):
        variable = cluster.read_variable(meta.path)
        if variable is None:
            continue  # deleted meanwhile
        try:
            job_id, spec = decode_items(variable.items)
            job = Job.model_validate(spec)
        except (KeyError, ValueError, zlib.error):
            warn(f"skipping unreadable saved definition {meta.path!r}")
            continue
        if job.id != job_id:
            warn(f"skipping saved definition {meta.path!r}: it holds job {job.id!r}")
            continue
        jobs[job_id] = job
    return jobs


def save(cluster: Cluster, prefix: str, job_id: str, spec: Mapping[str, Any]) -> bool:
    """Write the job's definition unless Nomad already holds the same spec; True if written.

    Check-and-set on the variable's index, so a concurrent writer (a bridge replica) is never
    overwritten blindly: on a conflict the variable is read again and compared again.
    `DefinitionTooLarge` propagates.
    """
    path = definition_path(prefix, job_id)
    digest = spec_digest(spec)
    items = encode_items(job_id, spec)
    for _ in range(VARIABLE_CAS_ATTEMPTS):
        current = cluster.read_variable(path)
        if current is not None and current.items.get("digest") == digest:
            return False
        try:
            cluster.put_variable(path, items, cas=current.modify_index if current else 0)
        except CasConflict:
            continue
        return True
    raise OperatorError(f"saved definition {path!r} kept changing; gave up")


def rewrite(
    cluster: Cluster,
    prefix: str,
    job_id: str,
    change: Callable[[dict[str, Any]], dict[str, Any] | None],
) -> dict[str, Any] | None:
    """Apply `change` to a saved spec and write it back (check-and-set).

    `change` returns the new spec, or None when there is nothing to write. Returns the spec
    written, None when nothing was; `KeyError` when there is no such definition.
    """
    path = definition_path(prefix, job_id)
    for _ in range(VARIABLE_CAS_ATTEMPTS):
        current = cluster.read_variable(path)
        if current is None:
            raise KeyError(job_id)
        stored_id, spec = decode_items(current.items)
        if stored_id != job_id:
            raise KeyError(job_id)
        updated = change(spec)
        if updated is None:
            return None
        try:
            cluster.put_variable(path, encode_items(job_id, updated), cas=current.modify_index)
        except CasConflict:
            continue
        return updated
    raise OperatorError(f"saved definition {path!r} kept changing; gave up")


def exists(cluster: Cluster, prefix: str, job_id: str) -> bool:
    """Whether a definition of exactly this job is saved."""
    variable = cluster.read_variable(definition_path(prefix, job_id))
    if variable is None:
        return False
    try:
        return decode_items(variable.items)[0] == job_id
    except (KeyError, ValueError, zlib.error):
        return True  # unreadable, but at this job's path: still the job's to delete


def delete(cluster: Cluster, prefix: str, job_id: str) -> str:
    path = definition_path(prefix, job_id)
    cluster.delete_variable(path)
    return path
