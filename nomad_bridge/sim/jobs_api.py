"""Job reads: list, read, summary, versions, allocations, evaluations, deployments, scale.

Each handler follows command/agent/job_endpoint.go and the RPC behind it: parse the query
(400 for a bad `index`/`wait`), forward by region, authenticate, then run the read as a
blocking query whose index is the one Nomad's RPC reports (see each `run`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web

from nomad_bridge.sim import jobspec
from nomad_bridge.sim.blocking import blocking_query
from nomad_bridge.sim.errors import NomadError
from nomad_bridge.sim.models import Job
from nomad_bridge.sim.paging import compile_filter, in_namespace, paginate
from nomad_bridge.sim.query import QueryOptions, bool_param, check_region, parse_query
from nomad_bridge.sim.responses import json_response, query_meta, read_headers
from nomad_bridge.sim.state import (
    ALLOCS,
    DEPLOYMENT,
    EVALS,
    JOB_SUMMARY,
    JOB_VERSION,
    JOBS,
    SCALING_EVENT,
)

if TYPE_CHECKING:
    from nomad_bridge.sim.simulator import Simulator

JOB_NOT_FOUND = "job not found"


def begin_read(
    request: web.Request, sim: Simulator, capabilities: tuple[str, ...] = ("read-job",)
) -> QueryOptions:
    """The steps every read takes before it runs: parse, forward, authenticate, authorize."""
    opts = parse_query(request, sim.config.region)
    check_region(opts.region, sim.config.region)
    sim.acl.authorize(request, opts.namespace, *capabilities)
    return opts


async def list_jobs(request: web.Request, sim: Simulator, _: str) -> web.StreamResponse:
    opts = parse_query(request, sim.config.region)
    with_meta = bool(bool_param(request, "meta"))
    check_region(opts.region, sim.config.region)
    acl_token = sim.acl.authorize(request, opts.namespace, "list-jobs")
    predicate = compile_filter(opts)
    store = sim.store

    def run() -> tuple[int, tuple[list[Any], str]]:
        chosen: list[tuple[str, Any]] = []
        for job in in_namespace(opts, store.jobs):
            ns, job_id = job["Namespace"], job["ID"]
            if not sim.acl.allows(acl_token, ns, "list-jobs") or not job_id.startswith(opts.prefix):
                continue
            if predicate is not None and not predicate(job):
                continue
            summary = store.summaries.get((ns, job_id))
            stub = jobspec.stub(job, summary.to_json() if summary else None, with_meta=with_meta)
            chosen.append((f"{ns}.{job_id}", stub))
        return max(store.index(JOBS), store.index(JOB_SUMMARY)), paginate(chosen, opts)

    index, (stubs, token) = await blocking_query(store, opts, (JOBS, JOB_SUMMARY), run)
    return json_response(request, stubs, headers=read_headers(index, token))


async def _blocking_read(
    request: web.Request,
    sim: Simulator,
    tables: tuple[str, ...],
    read: Callable[[QueryOptions], tuple[int, Any]],
    *,
    not_found: str | None = None,
    capabilities: tuple[str, ...] = ("read-job",),
) -> web.StreamResponse:
    """A blocking read answered as Nomad does: the value with its index in the headers, or,
    when `not_found` names the error, a 404 when there is no value."""
    opts = begin_read(request, sim, capabilities)
    index, value = await blocking_query(sim.store, opts, tables, lambda: read(opts))
    if value is None and not_found is not None:
        raise NomadError(404, not_found, read_headers(index))
    return json_response(request, value, headers=read_headers(index))


async def read_job(request: web.Request, sim: Simulator, job_id: str) -> web.StreamResponse:
    store = sim.store

    def read(opts: QueryOptions) -> tuple[int, Job | None]:
        job = store.jobs.get((opts.namespace, job_id))
        return (job["ModifyIndex"] if job else store.index(JOBS)), job

    return await _blocking_read(request, sim, (JOBS,), read, not_found=JOB_NOT_FOUND)


async def job_summary(request: web.Request, sim: Simulator, job_id: str) -> web.StreamResponse:
    store = sim.store

    def read(opts: QueryOptions) -> tuple[int, dict[str, Any] | None]:
        summary = store.summaries.get((opts.namespace, job_id))
        if summary is None:
            return store.index(JOB_SUMMARY), None
        return summary.modify_index, summary.to_json()

    return await _blocking_read(request, sim, (JOB_SUMMARY,), read, not_found=JOB_NOT_FOUND)


async def job_versions(request: web.Request, sim: Simulator, job_id: str) -> web.StreamResponse:
    bool_param(request, "diffs")
    store = sim.store

    def read(opts: QueryOptions) -> tuple[int, dict[str, Any] | None]:
        versions = store.job_versions.get((opts.namespace, job_id), [])
        if not versions:
            return store.index(JOB_VERSION), None
        index = versions[0]["ModifyIndex"]
        return index, {"Versions": list(versions), "Diffs": None, **query_meta(index)}

    return await _blocking_read(
        request, sim, (JOB_VERSION,), read, not_found="job versions not found"
    )


def _current_only(request: web.Request, sim: Simulator, ns: str, job_id: str) -> int | None:
    """`?all=true` lists every incarnation; otherwise only the current job's CreateIndex."""
    if request.rel_url.query.get("all", "").lower() in ("1", "t", "true"):
        return None
    job = sim.store.jobs.get((ns, job_id))
    return job["CreateIndex"] if job else None


async def job_allocations(request: web.Request, sim: Simulator, job_id: str) -> web.StreamResponse:
    store = sim.store

    def read(opts: QueryOptions) -> tuple[int, list[dict[str, Any]]]:
        create_index = _current_only(request, sim, opts.namespace, job_id)
        allocs = sorted(store.allocs_by_job(opts.namespace, job_id), key=lambda a: a.id)
        stubs = [a.stub() for a in allocs if create_index in (None, a.job_create_index)]
        return store.index(ALLOCS), stubs

    return await _blocking_read(request, sim, (ALLOCS,), read)


async def job_evaluations(request: web.Request, sim: Simulator, job_id: str) -> web.StreamResponse:
    store = sim.store

    def read(opts: QueryOptions) -> tuple[int, list[dict[str, Any]]]:
        evals = sorted(store.evals_by_job(opts.namespace, job_id), key=lambda e: e.id)
        return store.index(EVALS), [e.to_json() for e in evals]

    return await _blocking_read(request, sim, (EVALS,), read)


async def job_deployments(request: web.Request, sim: Simulator, job_id: str) -> web.StreamResponse:
    store = sim.store

    def read(opts: QueryOptions) -> tuple[int, list[dict[str, Any]]]:
        create_index = _current_only(request, sim, opts.namespace, job_id)
        found = store.deployments_by_job(opts.namespace, job_id)
        chosen = [d.to_json() for d in found if create_index in (None, d.job_create_index)]
        return store.index(DEPLOYMENT), chosen

    return await _blocking_read(request, sim, (DEPLOYMENT,), read)


async def job_deployment(request: web.Request, sim: Simulator, job_id: str) -> web.StreamResponse:
    store = sim.store

    def read(opts: QueryOptions) -> tuple[int, dict[str, Any] | None]:
        latest = store.latest_deployment(opts.namespace, job_id)
        return store.index(DEPLOYMENT), latest.to_json() if latest else None

    return await _blocking_read(request, sim, (DEPLOYMENT,), read)


def _scale_status(sim: Simulator, ns: str, job_id: str) -> tuple[int, dict[str, Any] | None]:
    """Job.ScaleStatus; note JobModifyIndex is filled from the job's ModifyIndex."""
    store = sim.store
    job = store.jobs.get((ns, job_id))
    if job is None:
        return store.latest_index, None
    history = store.scaling_events.get((ns, job_id))
    groups: dict[str, dict[str, Any]] = {}
    for group in job["TaskGroups"]:
        events = (history.events.get(group["Name"]) if history else None) or None
        groups[group["Name"]] = {
            "Desired": group["Count"],
            "Placed": 0,
            "Running": 0,
            "Healthy": 0,
            "Unhealthy": 0,
            "Events": [e.to_json() for e in events] if events else None,
        }
    index = max(job["ModifyIndex"], history.modify_index if history else 0)
    for alloc in store.allocs_by_job(ns, job_id):
        status = alloc.deployment_status or {}
        if status.get("Canary") or alloc.terminal or alloc.task_group not in groups:
            continue
        counts = groups[alloc.task_group]
        counts["Placed"] += 1
        counts["Running"] += alloc.client_status == "running"
        if status.get("Healthy") is True:
            counts["Healthy"] += 1
        elif status.get("Healthy") is False:
            counts["Unhealthy"] += 1
        index = max(index, alloc.modify_index)
    body = {
        "JobID": job["ID"],
        "Namespace": job["Namespace"],
        "JobCreateIndex": job["CreateIndex"],
        "JobModifyIndex": job["ModifyIndex"],
        "JobStopped": job["Stop"],
        "TaskGroups": groups,
    }
    return index, body


async def scale_status(request: web.Request, sim: Simulator, job_id: str) -> web.StreamResponse:
    def read(opts: QueryOptions) -> tuple[int, dict[str, Any] | None]:
        return _scale_status(sim, opts.namespace, job_id)

    return await _blocking_read(
        request,
        sim,
        (JOBS, SCALING_EVENT, ALLOCS),
        read,
        not_found=JOB_NOT_FOUND,
        capabilities=("read-job", "read-job-scaling"),
    )
