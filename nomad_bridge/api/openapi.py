"""`/openapi.json`: the API described by walking the route table and the models that validate
and shape it, as Starlette's schema generator walks an app's routes instead of restating them."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from aiohttp import web
from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from nomad_bridge import __version__
from nomad_bridge.api.context import bridge
from nomad_bridge.api.problems import PROBLEM_CONTENT_TYPE
from nomad_bridge.api.routing import PARAMETER_LOCATION, PATH_LOCATION, ROUTE_TABLE, Route
from nomad_bridge.api.schemas import ProblemDetails
from nomad_bridge.settings import BridgeSettings

REF = "#/components/schemas/{model}"
UNAUTHORIZED = 401
BODY_STALLED = 408
TOO_LARGE = 413
_NOT_IN_PARAMETER_SCHEMA = frozenset({"title", "description", PARAMETER_LOCATION})


def _ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": REF.format(model=model.__name__)}


def _parameters(model: type[BaseModel]) -> list[dict[str, Any]]:
    schema = model.model_json_schema(by_alias=True)
    out = []
    for name, field in schema["properties"].items():
        location = field[PARAMETER_LOCATION]
        out.append(
            {
                "name": name,
                "in": location,
                "required": location == PATH_LOCATION or name in schema.get("required", []),
                "description": field["description"],
                "schema": {k: v for k, v in field.items() if k not in _NOT_IN_PARAMETER_SCHEMA},
            }
        )
    return out


def _headers(model: type[BaseModel]) -> dict[str, Any]:
    schema = model.model_json_schema(by_alias=True)
    return {
        name: {
            "description": field["description"],
            "schema": {k: v for k, v in field.items() if k not in _NOT_IN_PARAMETER_SCHEMA},
        }
        for name, field in schema["properties"].items()
    }


def _reply(route: Route) -> dict[str, Any]:
    reply = route.reply
    schema: dict[str, Any] = reply.schema or {}
    if reply.body is not None:
        schema = {"type": "array", "items": _ref(reply.body)} if reply.many else _ref(reply.body)
    answer: dict[str, Any] = {
        "description": reply.description,
        "content": {media_type: {"schema": schema} for media_type in reply.media_types},
    }
    if reply.headers is not None:
        answer["headers"] = _headers(reply.headers)
    return answer


def _operation(route: Route, settings: BridgeSettings) -> dict[str, Any]:
    statuses = set(route.problems)
    if settings.tokens and not route.open:
        statuses.add(UNAUTHORIZED)
    if route.body is not None:
        statuses |= {BODY_STALLED, TOO_LARGE}
    problem = {PROBLEM_CONTENT_TYPE: {"schema": _ref(ProblemDetails)}}
    operation: dict[str, Any] = {
        "summary": route.summary,
        "responses": {
            "200": _reply(route),
            **{str(s): {"description": "Problem", "content": problem} for s in sorted(statuses)},
        },
    }
    parameters = [entry for model in route.parameters for entry in _parameters(model)]
    if parameters:
        operation["parameters"] = parameters
    if route.body is not None:
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": _ref(route.body)}},
        }
    if route.open:
        operation["security"] = []
    return operation


def _component_schemas(routes: list[Route]) -> dict[str, Any]:
    """Every body model the routes name: replies as serialised, requests as validated."""
    models: dict[tuple[type[BaseModel], JsonSchemaMode], None] = {
        (ProblemDetails, "serialization"): None
    }
    for route in routes:
        if route.reply.body is not None:
            models[(route.reply.body, "serialization")] = None
        if route.body is not None:
            models[(route.body, "validation")] = None
    _, schemas = models_json_schema(list(models), ref_template=REF)
    return dict(schemas.get("$defs", {}))


def openapi_document(settings: BridgeSettings, routes: Iterable[Route]) -> dict[str, Any]:
    """The OpenAPI 3.1 document of these routes under the settings' base path."""
    described = [route for route in routes if route.in_openapi]
    paths: dict[str, Any] = {}
    for route in described:
        paths.setdefault(route.full_path(settings), {})[route.method.lower()] = _operation(
            route, settings
        )
    document: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {
            "title": "nomad-bridge: Cluster API jobs endpoints",
            "version": __version__,
            "description": "The Cluster API jobs endpoints, served in front of HashiCorp Nomad.",
        },
        "paths": paths,
        "components": {"schemas": _component_schemas(described)},
    }
    if settings.tokens:
        document["components"]["securitySchemes"] = {"bearer": {"type": "http", "scheme": "bearer"}}
        document["security"] = [{"bearer": []}]
    return document


async def serve_openapi(request: web.Request) -> web.Response:
    """`GET /openapi.json`: the document of the routes this application serves."""
    return web.json_response(
        openapi_document(bridge(request).settings, request.app[ROUTE_TABLE].routes)
    )
