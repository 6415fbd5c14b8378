"""`/openapi.json`: the API described from the same models that validate and shape it."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from nomad_bridge import __version__
from nomad_bridge.api import ui
from nomad_bridge.api.longpoll import LAST_CONTACT_HEADER
from nomad_bridge.api.schemas import (
    BulkResult,
    CountChangeResult,
    CountDelta,
    CountValue,
    Health,
    ProblemDetails,
    Readiness,
    StateChangeResult,
)
from nomad_bridge.jobs.view import JobView
from nomad_bridge.settings import BridgeSettings

REF = "#/components/schemas/{model}"
MODELS: list[type[BaseModel]] = [
    JobView,
    CountDelta,
    CountValue,
    StateChangeResult,
    BulkResult,
    CountChangeResult,
    ProblemDetails,
    Health,
    Readiness,
]

WAIT_INDEX_MAX = 10**20 - 1  # what parse_wait_index accepts: at most 20 digits
WAIT_PATTERN = r"^(\d+(\.\d+)?|((\d+(\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h))+)$"
WAIT_INDEX_HEADER_SCHEMA = {
    "description": "The view's index; send it back as `waitIndex` to wait for a change.",
    "schema": {"type": "integer", "minimum": 1},
}
LAST_CONTACT_HEADER_SCHEMA = {
    "description": "Milliseconds since the view last heard from Nomad; 0 while its watch of "
    "Nomad is healthy (as Nomad's own `X-Nomad-LastContact`).",
    "schema": {"type": "integer", "minimum": 0},
}
VIEW_HEADERS = {
    "waitIndex": WAIT_INDEX_HEADER_SCHEMA,
    LAST_CONTACT_HEADER: LAST_CONTACT_HEADER_SCHEMA,
}
LONG_POLL_PARAMETERS = [
    {
        "name": "waitIndex",
        "in": "header",
        "required": False,
        "description": "Answer once the view's index is greater than this (long poll).",
        "schema": {"type": "integer", "minimum": 0, "maximum": WAIT_INDEX_MAX},
    },
    {
        "name": "wait",
        "in": "query",
        "required": False,
        "description": "Longest wait: a duration (`30s`, `5m`) or seconds; default 5m, cap 10m.",
        "schema": {"type": "string", "pattern": WAIT_PATTERN},
    },
]
JOB_NAME_PARAMETER = {
    "name": "jobName",
    "in": "path",
    "required": True,
    "description": "The Nomad job ID.",
    "schema": {"type": "string"},
}


def _ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": REF.format(model=model.__name__)}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _problems(*statuses: int) -> dict[str, Any]:
    problem = {"application/problem+json": {"schema": _ref(ProblemDetails)}}
    return {str(status): {"description": "Problem", "content": problem} for status in statuses}


UPSTREAM = (502, 503, 504)
TEXT = {"schema": {"type": "string"}}


def _operation(
    summary: str,
    ok: dict[str, Any],
    errors: tuple[int, ...],
    *,
    parameters: list[dict[str, Any]] | None = None,
    body: type[BaseModel] | None = None,
    secured: bool = True,
) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "summary": summary,
        "responses": {"200": ok, **_problems(*errors)},
    }
    if parameters:
        operation["parameters"] = parameters
    if body is not None:
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": _ref(body)}},
        }
    if not secured:
        operation["security"] = []
    return operation


def openapi_document(settings: BridgeSettings) -> dict[str, Any]:
    """The OpenAPI 3.1 document of this application (routes under its base path)."""
    _, schemas = models_json_schema(
        [(model, "serialization") for model in MODELS]
        + [(model, "validation") for model in (CountDelta, CountValue)],
        ref_template=REF,
    )
    api = settings.route
    auth = (401,) if settings.tokens else ()
    view_list = _json({"type": "array", "items": _ref(JobView)}, "Every listed job's view.")
    view_list["headers"] = VIEW_HEADERS
    one_view = _json(_ref(JobView), "The job's view.")
    one_view["headers"] = VIEW_HEADERS
    state_change = _json(_ref(StateChangeResult), "Nomad accepted the change.")
    bulk = _json(_ref(BulkResult), "Every job's result.")
    count_change = _json(_ref(CountChangeResult), "Nomad accepted the new count.")
    paths: dict[str, Any] = {
        api("jobs"): {
            "get": _operation(
                "List jobs",
                view_list,
                (400, *auth, 403, *UPSTREAM),
                parameters=LONG_POLL_PARAMETERS,
            )
        },
        api("job/{jobName}/summary"): {
            "get": _operation(
                "One job's view",
                one_view,
                (400, *auth, 403, 404, *UPSTREAM),
                parameters=[JOB_NAME_PARAMETER, *LONG_POLL_PARAMETERS],
            )
        },
        api("jobs/start/{jobName}"): {
            "post": _operation(
                "Start a job",
                state_change,
                (400, *auth, 403, 404, 409, *UPSTREAM),
                parameters=[JOB_NAME_PARAMETER],
            )
        },
        api("jobs/stop/{jobName}"): {
            "post": _operation(
                "Stop a job",
                state_change,
                (400, *auth, 403, 404, 409, *UPSTREAM),
                parameters=[JOB_NAME_PARAMETER],
            )
        },
        api("jobs/startall"): {
            "post": _operation(
                "Start every autostart job", bulk, (400, *auth, 403, 404, 409, *UPSTREAM)
            )
        },
        api("jobs/stopall"): {
            "post": _operation("Stop every job", bulk, (400, *auth, 403, 404, 409, *UPSTREAM))
        },
        api("jobs/updatecounts"): {
            "post": _operation(
                "Add a delta to a task group's count",
                count_change,
                (400, *auth, 403, 404, 409, 413, *UPSTREAM),
                body=CountDelta,
            )
        },
        api("jobs/settaskgroupcount"): {
            "post": _operation(
                "Set a task group's count",
                count_change,
                (400, *auth, 403, 404, 409, 413, *UPSTREAM),
                body=CountValue,
            )
        },
        "/health": {
            "get": _operation("Liveness", _json(_ref(Health), "Alive."), (), secured=False)
        },
        "/ready": {
            "get": _operation(
                "Readiness",
                _json(_ref(Readiness), "Synced and Nomad reachable."),
                (503,),
                secured=False,
            )
        },
        "/metrics": {
            "get": _operation(
                "Prometheus metrics",
                {
                    "description": "Exposition format.",
                    "content": {"text/plain": {"schema": {"type": "string"}}},
                },
                auth,
            )
        },
        "/openapi.json": {
            "get": _operation("This document", _json({"type": "object"}, "OpenAPI 3.1."), auth)
        },
        **ui.openapi_paths(api, REF.format(model=ProblemDetails.__name__)),
    }
    document: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {
            "title": "nomad-bridge: Cluster API jobs endpoints",
            "version": __version__,
            "description": "The Cluster API jobs endpoints, served in front of HashiCorp Nomad.",
        },
        "paths": paths,
        "components": {"schemas": schemas["$defs"]},
    }
    if settings.tokens:
        document["components"]["securitySchemes"] = {"bearer": {"type": "http", "scheme": "bearer"}}
        document["security"] = [{"bearer": []}]
    return document
