"""Job reads: list, read, summary, versions, allocations, evaluations, deployments, scale.

Each handler follows command/agent/job_endpoint.go and the RPC behind it: parse the query
(400 for a bad `index`/`wait`), forward by region, authenticate, then run the read as a
blocking query whose index is the one Nomad's RPC reports (see each `run`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web

from nomad_bridge.sim import jobspec
from nomad_bridge.sim.blocking import blocking_query
from nomad_bridge.sim.errors import NomadError
from nomad_bridge.sim.models import Job
from nomad_bridge.sim.paging import compile_filter, paginate
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
        for (ns, job_id), job in sorted(store.jobs.items()):
            if opts.namespace != "*" and ns != opts.namespace:
                continue
            if not sim.acl.allows(acl_token, ns, "list-jobs"):
                continue
            if not job_id.startswith(opts.prefix):
                continue
            if predicate is not None and not predicate(job):
                continue
            summary = store.summaries.get((ns, job_id))
            stub = jobspec.stub(job, summary.to_json() if summary else None, with_meta=with_meta)
            chosen.append((f"{ns}.{job_id}", stub))
        return max(store.index(JOBS), store.index(JOB_SUMMARY)), paginate(chosen, opts)

    index, (stubs, token) = await blocking_query(store, opts, (JOBS, JOB_SUMMARY), run)
    return json_response(request, stubs, headers=read_headers(index, token))


async def read_job(request: web.Request, sim: Simulator, job_id: str) -> web.StreamResponse:
    opts = begin_read(request, sim)
    store = sim.store

    def run() -> tuple[int, Job | None]:
        job = store.jobs.get((opts.namespace, job_id))
        return (job["ModifyIndex"] if job else store.index(JOBS)), job

    index, job = await blocking_query(store, opts, (JOBS,), run)
    if job is None:
        raise NomadError(404, JOB_NOT_FOUND, read_headers(index))
    return json_response(request, job, headers=read_headers(index))


async def job_summary(request: web.Request, sim: Simulator, job_id: str) -> web.StreamResponse:
    opts = begin_read(request, sim)
    store = sim.store

    def run() -> tuple[int, dict[str, Any] | None]:
        summary = store.summaries.get((opts.namespace, job_id))
        if summary is None:
            return store.index(JOB_SUMMARY), None
        return summary.modify_index, summary.to_json()

    index, summary = await blocking_query(store, opts, (JOB_SUMMARY,), run)
    if summary is None:
        raise NomadError(404, JOB_NOT_FOUND, read_headers(index))
    return json_response(request, summary, headers=read_headers(index))


async def job_versions(request: web.Request, sim: Simulator, job_id: str) -> web.StreamResponse:
    bool_param(request, "diffs")
    opts = begin_read(request, sim)
    store = sim.store

    def run() -> tuple[int, list[Job]]:
        versions = store.job_versions.get((opts.namespace, job_id), [])
        index = versions[0]["ModifyIndex"] if versions else store.index(JOB_VERSION)
        return index, list(versions)

    index, versions = await blocking_query(store, opts, (JOB_VERSION,), run)
    if not versions:
        raise NomadError(404, "job versions not found", read_headers(index))
    body = {"Versions": versions, "Diffs": None, **query_meta(index)}
    return json_response(request, body, headers=read_headers(index))


def _current_only(request: web.Request, sim: Simulator, ns: str, job_id: str) -> int | None:
    """`?all=true` lists every incarnation; otherwise only the current job's CreateIndex."""
    if request.rel_url.query.get("all", "").lower() in ("1", "t", "true"):
        return None
    job = sim.store.jobs.get((ns, job_id))
    return job["CreateIndex"] if job else None


async def job_allocations(request: web.Request, sim: Simulator, job_id: str) -> web.StreamResponse:
    opts = begin_read(request, sim)
    store = sim.store

    def run() -> tuple[int, list[dict[str, Any]]]:
        create_index = _current_only(request, sim, opts.namespace, job_id)
        allocs = sorted(store.allocs_by_job(opts.namespace, job_id), key=lambda a: a.id)
        stubs = [a.stub() for a in allocs if create_index in (None, a.job_create_index)]
        return store.index(ALLOCS), stubs

    index, stubs = await blocking_query(store, opts, (ALLOCS,), run)
    return json_response(request, stubs, headers=read_headers(index))


async def job_evaluations(request: web.Request, sim: Simulator, job_id: str) -> web.StreamResponse:
    opts = begin_read(request, sim)
    store = sim.store

    def run() -> tuple[int, list[dict[str, Any]]]:
        evals = sorted(store.evals_by_job(opts.namespace, job_id), key=lambda e: e.id)
        return store.index(EVALS), [e.to_json() for e in evals]

    index, evals = await blocking_query(store, opts, (EVALS,), run)
    return json_response(request, evals, headers=read_headers(index))


async def job_deployments(request: web.Request, sim: Simulator, job_id: str) -> web.StreamResponse:
    opts = begin_read(request, sim)
    store = sim.store

    def run() -> tuple[int, list[dict[str, Any]]]:
        create_index = _current_only(request, sim, opts.namespace, job_id)
        found = store.deployments_by_job(opts.namespace, job_id)
        chosen = [d.to_json() for d in found if create_index in (None, d.job_create_index)]
        return store.index(DEPLOYMENT), chosen

    index, deployments = await blocking_query(store, opts, (DEPLOYMENT,), run)
    return json_response(request, deployments, headers=read_headers(index))


async def job_deployment(request: web.Request, sim: Simulator, job_id: str) -> web.StreamResponse:
    opts = begin_read(request, sim)
    store = sim.store

    def run() -> tuple[int, dict[str, Any] | None]:
        latest = store.latest_deployment(opts.namespace, job_id)
        return store.index(DEPLOYMENT), latest.to_json() if latest else None

    index, deployment = await blocking_query(store, opts, (DEPLOYMENT,), run)
    return json_response(request, deployment, headers=read_headers(index))


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
    opts = begin_read(request, sim, ("read-job", "read-job-scaling"))

    def run() -> tuple[int, dict[str, Any] | None]:
        return _scale_status(sim, opts.namespace, job_id)

    tables = (JOBS, SCALING_EVENT, ALLOCS)
    index, body = await blocking_query(sim.store, opts, tables, run)
    if body is None:
        raise NomadError(404, JOB_NOT_FOUND, read_headers(index))
    return json_response(request, body, headers=read_headers(index))
