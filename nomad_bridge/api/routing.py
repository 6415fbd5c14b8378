"""How a route is declared: one `Route` says everything the app, the token check and
`/openapi.json` need to know about an endpoint, so that adding a route is one declaration.

The table itself is `api/routes.py`; `add_routes` registers it with aiohttp, each handler
wrapped by the application's observer (`api/observe.py`: request id, token check for routes
not `open`, errors, metrics, access line), and keeps it on the application, where the
OpenAPI document reads it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from aiohttp import web
from aiohttp.web_urldispatcher import AbstractRoute
from pydantic import BaseModel

from nomad_bridge.api.problems import Handler
from nomad_bridge.settings import BridgeSettings

PARAMETER_LOCATION = "in"  # the json_schema_extra key saying where a parameter goes
PATH_LOCATION = "path"
_PATH_VARIABLE = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True, slots=True)
class Reply:
    """The successful answer of a route."""

    description: str
    body: type[BaseModel] | None = None  # a JSON body this model describes
    many: bool = False  # the body is a JSON array of `body`
    schema: dict[str, Any] | None = None  # a body no model describes
    media_types: tuple[str, ...] = ("application/json",)
    headers: type[BaseModel] | None = None  # response headers, one field each


@dataclass(frozen=True, slots=True)
class Route:
    """One endpoint. `path` is relative to `BRIDGE_BASE_PATH` unless `under_base_path` is
    False; `parameters` are models whose fields say where they go (`json_schema_extra`
    `{"in": "path" | "query" | "header"}`); `problems` are the error statuses besides 401
    (added to every route that needs a token, when tokens are set), 408 and 413 (added to
    every route with a body: one that stalls, one that is too large)."""

    method: str
    path: str
    handler: Handler
    summary: str
    reply: Reply
    problems: tuple[int, ...] = ()
    parameters: tuple[type[BaseModel], ...] = ()
    body: type[BaseModel] | None = None
    under_base_path: bool = True
    open: bool = False  # served without a bearer token
    in_openapi: bool = True

    def full_path(self, settings: BridgeSettings) -> str:
        return settings.route(self.path) if self.under_base_path else self.path

    def path_parameters(self) -> set[str]:
        return {
            name
            for model in self.parameters
            for name, extra in parameter_fields(model)
            if extra.get(PARAMETER_LOCATION) == PATH_LOCATION
        }


def parameter_fields(model: type[BaseModel]) -> list[tuple[str, dict[str, Any]]]:
    """Each field of a parameters model: its name on the wire and its `json_schema_extra`."""
    fields = []
    for name, field in model.model_fields.items():
        extra = field.json_schema_extra if isinstance(field.json_schema_extra, dict) else {}
        fields.append((field.alias or name, dict(extra)))
    return fields


class Observe(Protocol):
    """Wraps a route's handler, given the route and its full path (`api/observe.py`)."""

    def __call__(self, route: Route, path: str) -> Handler: ...


OBSERVE = web.AppKey[Observe]("observe")


class RouteTable:
    """The routes of one application, by the aiohttp route each was registered as."""

    def __init__(self) -> None:
        self.routes: list[Route] = []
        self._by_route: dict[AbstractRoute, Route] = {}

    def add(self, app: web.Application, settings: BridgeSettings, route: Route) -> None:
        variables = set(_PATH_VARIABLE.findall(route.path))
        if route.in_openapi and variables != route.path_parameters():
            raise ValueError(f"{route.path}: path variables {variables} are not its parameters")
        path = route.full_path(settings)
        observe = app.get(OBSERVE)
        handler = route.handler if observe is None else observe(route, path)
        registered = app.router.add_route(route.method, path, handler)
        self.routes.append(route)
        self._by_route[registered] = route

    def of(self, request: web.Request) -> Route | None:
        return self._by_route.get(request.match_info.route)


ROUTE_TABLE = web.AppKey("route_table", RouteTable)


def add_routes(app: web.Application, settings: BridgeSettings, routes: Iterable[Route]) -> None:
    """Register `routes` (before the application starts); calling it again adds more."""
    if ROUTE_TABLE not in app:
        app[ROUTE_TABLE] = RouteTable()
    for route in routes:
        app[ROUTE_TABLE].add(app, settings, route)


def route_of(request: web.Request) -> Route | None:
    """The declared route a request matched; None for unknown paths and methods."""
    table = request.app.get(ROUTE_TABLE)
    return table.of(request) if table is not None else None
