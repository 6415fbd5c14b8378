"""Job writes over HTTP: register, stop/purge, scale (command/agent/job_endpoint.go).

The HTTP layer decodes the body (400 with Go's decoder message), checks what
`jobUpdate`/`jobDelete`/`jobScaleAction` check, resolves namespace and region the way
`namespaceForJob`/`regionForJob` do, and hands the rest to `JobEndpoint`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web

from nomad_bridge.sim.errors import NomadError
from nomad_bridge.sim.jobschema import JOB_REGISTER_REQUEST, SCALING_REQUEST
from nomad_bridge.sim.query import bool_param, check_region, int_param, read_body
from nomad_bridge.sim.responses import json_response, write_headers

if TYPE_CHECKING:
    from nomad_bridge.sim.simulator import Simulator

GLOBAL_REGION = "global"


def _check_eval_priority(priority: int) -> None:
    if not 1 <= priority <= 100:
        raise NomadError(400, "Eval priority must be between 1 and 100 inclusively")


def _job_region(request: web.Request, args: dict[str, Any], job: dict[str, Any], agent: str) -> str:
    """regionForJob: ?region=, then the body's Region, then Job.Region; global is the agent's."""
    region = request.rel_url.query.get("region") or args.get("Region") or job.get("Region") or ""
    return agent if region in ("", GLOBAL_REGION) else region


def _write_namespace(request: web.Request, *candidates: str | None) -> str:
    query = request.rel_url.query.get("namespace")
    return next((c for c in (query, *candidates) if c), "default")


async def register(request: web.Request, sim: Simulator, url_job_id: str) -> web.StreamResponse:
    args = await read_body(request, JOB_REGISTER_REQUEST)
    job = args.get("Job")
    if job is None:
        raise NomadError(400, "Job must be specified")
    if job.get("ID") is None:
        raise NomadError(400, "Job ID hasn't been provided")
    if url_job_id and job["ID"] != url_job_id:
        raise NomadError(400, "Job ID does not match name")
    if job.get("Type") == "system" and any(
        (g or {}).get("Scaling") is not None for g in job.get("TaskGroups") or []
    ):
        raise NomadError(400, "Task groups with job type system do not support scaling blocks")
    if args.get("EvalPriority"):
        _check_eval_priority(args["EvalPriority"])
    check_region(_job_region(request, args, job, sim.config.region), sim.config.region)
    namespace = _write_namespace(request, args.get("Namespace"), job.get("Namespace"))
    sim.acl.authenticate(request)
    result = sim.jobs.register(
        job,
        namespace=namespace,
        enforce_index=bool(args.get("EnforceIndex")),
        job_modify_index=args.get("JobModifyIndex") or 0,
        preserve_counts=bool(args.get("PreserveCounts")),
        eval_priority=args.get("EvalPriority") or 0,
        authorize=lambda: sim.acl.authorize(request, namespace, "submit-job"),
    )
    return json_response(request, result, headers=write_headers(result["Index"]))


async def deregister(request: web.Request, sim: Simulator, job_id: str) -> web.StreamResponse:
    purge = bool(bool_param(request, "purge"))
    bool_param(request, "global")
    priority = int_param(request, "eval_priority")
    no_delay = request.rel_url.query.get("no_shutdown_delay", "")
    if no_delay and no_delay not in (
        "1",
        "t",
        "T",
        "TRUE",
        "true",
        "True",
        "0",
        "f",
        "F",
        "FALSE",
        "false",
        "False",
    ):
        raise NomadError(
            500,
            f'Failed to parse value of "no_shutdown_delay"q ({no_delay}) as a bool: '
            f'strconv.ParseBool: parsing "{no_delay}": invalid syntax',
        )
    if priority is not None and priority > 0:
        _check_eval_priority(priority)
    check_region(request.rel_url.query.get("region") or sim.config.region, sim.config.region)
    sim.acl.authenticate(request)
    namespace = _write_namespace(request)
    result = sim.jobs.deregister(
        job_id,
        namespace=namespace,
        purge=purge,
        eval_priority=priority if priority and priority > 0 else 0,
        authorize=lambda: sim.acl.authorize(request, namespace, "submit-job"),
    )
    return json_response(request, result, headers=write_headers(result["Index"]))


async def scale(request: web.Request, sim: Simulator, job_id: str) -> web.StreamResponse:
    args = await read_body(request, SCALING_REQUEST)
    target = args.get("Target") or {}
    if target.get("Job") and target["Job"] != job_id:
        raise NomadError(400, "job ID in payload did not match URL")
    check_region(request.rel_url.query.get("region") or sim.config.region, sim.config.region)
    sim.acl.authenticate(request)
    namespace = _write_namespace(request)
    result = sim.jobs.scale(
        job_id,
        namespace=namespace,
        group_name=target.get("Group", ""),
        count=args.get("Count"),
        message=args.get("Message") or "",
        error=bool(args.get("Error")),
        meta=args.get("Meta"),
        job_modify_index=args.get("JobModifyIndex") or 0,
        target_namespace=target.get("Namespace", ""),
        authorize=lambda: sim.acl.authorize(request, namespace, "scale-job", "submit-job"),
    )
    return json_response(request, result, headers=write_headers(result["Index"]))
