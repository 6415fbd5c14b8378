"""Every request observed once: its request id, its token check, its error answer, its
metrics and its access line.

The app has no aiohttp middleware: each route's handler is wrapped once, when the route is
registered (`Observer.__call__`, called by `routing.add_routes`), and requests no route
matches are answered by the same wrapper through a last, catch-all resource
(`Observer.unmatched`). A middleware would cost
every request, answered long polls included, aiohttp's middleware chain (a cached lookup, a
partial per layer and a frame of its own that sets `current_app`): about 3 µs, more than
all of this module's own work (docs/performance.md).
"""

from __future__ import annotations

import itertools
import os
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING

from aiohttp import hdrs, web
from multidict import istr
from yarl import URL

from nomad_bridge.api.auth import Authorize
from nomad_bridge.api.metrics import Metrics
from nomad_bridge.api.problems import Handler, problem_for
from nomad_bridge.api.routing import Route
from nomad_bridge.logs import AccessLog

if TYPE_CHECKING:
    from aiohttp.web_urldispatcher import _InfoDict

REQUEST_ID_HEADER = istr("X-Request-ID")
REQUEST_ID_MAX_CHARS = 128
UNMATCHED_ROUTE = "unmatched"
_ID_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.:")


class RequestIds:
    """Request ids unique across replicas and restarts: a random prefix and a counter."""

    def __init__(self) -> None:
        self._prefix = os.urandom(6).hex() + "-"
        self._counter = itertools.count(1)

    def for_request(self, request: web.Request) -> str:
        """The caller's id when it is a sane token, else a fresh one (never echo raw input)."""
        given = request.headers.get(REQUEST_ID_HEADER)
        if given and len(given) <= REQUEST_ID_MAX_CHARS and _ID_CHARS.issuperset(given):
            return given
        return self._prefix + str(next(self._counter))


class Observer:
    """Wraps route handlers so that each request gets its id, token check, problem+json
    answer on error, metrics and access line.

    `log_reads=False` leaves successful GETs (reads, long polls, probes) out of the access
    log, for those who want fewer lines; metrics still count them.
    """

    def __init__(
        self, metrics: Metrics, *, log_reads: bool = True, authorize: Authorize | None = None
    ) -> None:
        self._metrics = metrics
        self._log_reads = log_reads
        self._authorize = authorize
        self._ids = RequestIds()
        self._access = AccessLog()

    def __call__(self, route: Route, path: str) -> Handler:
        """The route's handler, observed under its full `path` (`{jobName}` and all); a
        route not declared `open` checks the token first."""
        return self._observed(route.handler, path, open=route.open)

    def _observed(self, handler: Handler, route: str, *, open: bool) -> Handler:
        ids, access, requests = self._ids, self._access, self._metrics.requests
        log_reads = self._log_reads
        authorize = None if open else self._authorize
        perf_counter = time.perf_counter
        by_method = {method: requests.route(route, method) for method in hdrs.METH_ALL}

        async def observed(request: web.Request) -> web.StreamResponse:
            started = perf_counter()
            request_id = ids.for_request(request)
            status = 500
            try:
                try:
                    if authorize is not None:
                        authorize(request)
                    response = await handler(request)
                except Exception as error:
                    response = problem_for(request, error)  # re-raises what it does not answer
                status = response.status
                response.headers[REQUEST_ID_HEADER] = request_id
                return response
            except web.HTTPException as passed_on:  # a redirect, for aiohttp to send
                status = passed_on.status
                passed_on.headers[REQUEST_ID_HEADER] = request_id
                raise
            finally:
                duration_s = perf_counter() - started
                method = request.method
                metrics = by_method.get(method)
                if metrics is None:  # a method no standard names: not worth a label each
                    metrics = requests.route(route, "other")
                metrics.observe(status, duration_s)
                if log_reads or method != "GET" or status >= 400:
                    access.request(method, route, status, duration_s, request_id)

        return observed

    def unmatched(self) -> web.AbstractResource:
        """The resource to register last: it answers what no route matched (404, or 405
        with `Allow` when the path exists for other methods), observed like any route."""
        return _Unmatched(self._observed(_no_route, UNMATCHED_ROUTE, open=False))


async def _no_route(request: web.Request) -> web.StreamResponse:
    allowed: set[str] = set()
    for resource in request.app.router.resources():
        if not isinstance(resource, _Unmatched):
            _, methods = await resource.resolve(request)
            allowed |= methods
    if allowed:
        raise web.HTTPMethodNotAllowed(request.method, allowed)
    raise web.HTTPNotFound()


class _Unmatched(web.AbstractResource):
    """Matches every request; aiohttp's router tries it last, as it is indexed under `/`
    and registered after every route. It has no route of its own to list (OpenAPI, tests
    walking `router.routes()` see only the API)."""

    def __init__(self, handler: Handler) -> None:
        super().__init__()
        self._route = web.ResourceRoute(hdrs.METH_ANY, handler, self)

    @property
    def canonical(self) -> str:
        return "/"

    def url_for(self, **kwargs: str) -> URL:
        raise RuntimeError("the catch-all resource has no URL")

    async def resolve(self, request: web.Request) -> tuple[web.UrlMappingMatchInfo, set[str]]:
        return web.UrlMappingMatchInfo({}, self._route), {hdrs.METH_ANY}

    def add_prefix(self, prefix: str) -> None:
        raise RuntimeError("the catch-all resource takes no prefix")

    def get_info(self) -> _InfoDict:
        return {}

    def raw_match(self, path: str) -> bool:
        return False

    def __len__(self) -> int:
        return 0

    def __iter__(self) -> Iterator[web.AbstractRoute]:
        return iter(())
