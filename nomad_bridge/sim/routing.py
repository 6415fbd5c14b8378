"""Which handler serves a path, and what happens to a request before it gets there.

Routing follows Nomad's: the path is percent-decoded once (Go's `URL.Path`), then
`/v1/job/` routes by suffix (`strings.HasSuffix(path, "/summary")`, ...) and everything
else under it is the job itself. So `/v1/job/a%2Fb` is job `a/b`, and
`/v1/job/web%2Fsummary` is web's summary, exactly as Nomad answers it; clients must keep
job names out of the endpoint choice. Unknown paths are 404 with an empty body; a known
path with a method it does not serve is 405 `Invalid method` (400 under `/v1/var/`).
Nomad job endpoints the simulator does not model (plan, dispatch, revert, ...) are 404.

The gate middleware counts requests, adds injected latency and applies outages to
Nomad API paths; `/_sim/` control paths pass through untouched.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import unquote

from aiohttp import web

from nomad_bridge.sim import (
    events_api,
    jobs_api,
    jobs_write_api,
    parse_api,
    system_api,
    variables_api,
)
from nomad_bridge.sim.errors import INVALID_METHOD, NomadError
from nomad_bridge.sim.responses import TEXT_TYPE, error_response

if TYPE_CHECKING:
    from nomad_bridge.sim.simulator import Simulator

Handler = Callable[[web.Request, "Simulator", str], Awaitable[web.StreamResponse]]
SIM_PREFIX = "/_sim/"
_BAD_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")


@dataclass(frozen=True)
class Endpoint:
    handlers: dict[str, Handler]
    bad_method_status: int = 405
    any_method: Handler | None = None

    def handler_for(self, method: str) -> Handler:
        handler = self.handlers.get(method) or self.any_method
        if handler is None:
            raise NomadError(self.bad_method_status, INVALID_METHOD)
        return handler


def _writes(handler: Handler) -> dict[str, Handler]:
    return {"PUT": handler, "POST": handler}


FIXED: dict[str, Endpoint] = {
    "/v1/jobs": Endpoint({"GET": jobs_api.list_jobs, **_writes(jobs_write_api.register)}),
    "/v1/jobs/parse": Endpoint(_writes(parse_api.parse_job)),
    "/v1/vars": Endpoint({"GET": variables_api.list_variables}),
    "/v1/event/stream": Endpoint({}, any_method=events_api.event_stream),
    "/v1/status/leader": Endpoint({"GET": system_api.status_leader}),
    "/v1/regions": Endpoint({"GET": system_api.regions}),
    "/v1/system/gc": Endpoint({"PUT": system_api.system_gc}),
}

JOB_ACTIONS: dict[str, Endpoint] = {
    "summary": Endpoint({}, any_method=jobs_api.job_summary),
    "versions": Endpoint({}, any_method=jobs_api.job_versions),
    "allocations": Endpoint({"GET": jobs_api.job_allocations}),
    "evaluations": Endpoint({"GET": jobs_api.job_evaluations}),
    "deployments": Endpoint({"GET": jobs_api.job_deployments}),
    "deployment": Endpoint({"GET": jobs_api.job_deployment}),
    "scale": Endpoint({"GET": jobs_api.scale_status, **_writes(jobs_write_api.scale)}),
}

JOB_CRUD = Endpoint(
    {
        "GET": jobs_api.read_job,
        "DELETE": jobs_write_api.deregister,
        **_writes(jobs_write_api.register),
    }
)
VARIABLE = Endpoint({}, bad_method_status=400, any_method=variables_api.variable_endpoint)


# The suffixes JobSpecificRequest tests, in its order; None marks endpoints not simulated.
JOB_SUFFIXES: tuple[tuple[str, Endpoint | None], ...] = (
    ("/evaluate", None),
    ("/allocations", JOB_ACTIONS["allocations"]),
    ("/evaluations", JOB_ACTIONS["evaluations"]),
    ("/periodic/force", None),
    ("/plan", None),
    ("/summary", JOB_ACTIONS["summary"]),
    ("/dispatch", None),
    ("/versions", JOB_ACTIONS["versions"]),
    ("/revert", None),
    ("/deployments", JOB_ACTIONS["deployments"]),
    ("/deployment", JOB_ACTIONS["deployment"]),
    ("/stable", None),
    ("/scale", JOB_ACTIONS["scale"]),
    ("/services", None),
    ("/submission", None),
    ("/actions", None),
    ("/action", None),
)


def decode_path(raw_path: str) -> str:
    """Go's URL.Path: percent-escapes decoded once; a malformed escape is a 400."""
    if _BAD_ESCAPE.search(raw_path):
        raise NomadError(400, f"invalid URL escape in {raw_path!r}")
    return unquote(raw_path, errors="replace")


def resolve(path: str) -> tuple[Endpoint, str] | None:
    """The endpoint for a decoded path and its argument (job ID or variable path)."""
    if path in FIXED:
        return FIXED[path], ""
    if path.startswith("/v1/job/"):
        rest = path[len("/v1/job/") :]
        for suffix, endpoint in JOB_SUFFIXES:
            if rest.endswith(suffix):
                return (endpoint, rest[: -len(suffix)]) if endpoint is not None else None
        return JOB_CRUD, rest
    if path.startswith("/v1/var/"):
        return VARIABLE, path[len("/v1/var/") :]
    return None


def raw_path_of(request: web.Request) -> str:
    return request.raw_path.split("?", 1)[0]


def make_dispatch(sim: Simulator) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def dispatch(request: web.Request) -> web.StreamResponse:
        path = raw_path_of(request)
        if path == "/":
            raise web.HTTPTemporaryRedirect("/ui/")
        try:
            found = resolve(decode_path(path))
            if found is None:
                return web.Response(status=404)
            endpoint, argument = found
            return await endpoint.handler_for(request.method)(request, sim, argument)
        except NomadError as err:
            return error_response(err)

    return dispatch


def make_gate(sim: Simulator) -> Callable[..., Awaitable[web.StreamResponse]]:
    """Request accounting, latency and outages in front of the Nomad API."""

    @web.middleware
    async def gate(
        request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        path = raw_path_of(request)
        if path.startswith(SIM_PREFIX):
            return await handler(request)
        controls = sim.controls
        controls.count_request(request.method, path)
        if controls.latency_s > 0:
            await asyncio.sleep(controls.latency_s)
        while controls.outage == "hang" and not sim.closing:
            await controls.wait_outage_over()
        if controls.outage == "unavailable":
            return web.Response(
                status=controls.unavailable_status,
                body=controls.unavailable_body.encode(),
                headers={"Content-Type": TEXT_TYPE},
            )
        if controls.outage == "refuse" and request.transport is not None:
            request.transport.abort()
            return web.Response(status=503)
        return await handler(request)

    return gate
