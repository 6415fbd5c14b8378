"""Every request observed once: one log line and its metrics, with a request id.

One middleware for both because they need the same facts (route, status, duration) and
each middleware layer costs every request — including every answered long poll — a frame.
"""

from __future__ import annotations

import itertools
import logging
import os
import time

from aiohttp import web
from aiohttp.typedefs import Middleware

from nomad_bridge.api.metrics import Metrics
from nomad_bridge.api.problems import Handler

log = logging.getLogger("nomad_bridge.access")

REQUEST_ID_HEADER = "X-Request-ID"
REQUEST_ID_MAX_CHARS = 128
UNMATCHED_ROUTE = "unmatched"
_ID_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.:")


class RequestIds:
    """Request ids unique across replicas and restarts: a random prefix and a counter."""

    def __init__(self) -> None:
        self._prefix = os.urandom(6).hex()
        self._counter = itertools.count(1)

    def for_request(self, request: web.Request) -> str:
        """The caller's id when it is a sane token, else a fresh one (never echo raw input)."""
        given = request.headers.get(REQUEST_ID_HEADER)
        if given and len(given) <= REQUEST_ID_MAX_CHARS and _ID_CHARS.issuperset(given):
            return given
        return f"{self._prefix}-{next(self._counter)}"


def observe_middleware(metrics: Metrics, *, log_reads: bool = True) -> Middleware:
    """`log_reads=False` skips the line of successful GETs (reads, long polls, probes): at
    high read rates that line costs more CPU than the read itself (docs/performance.md)."""
    ids = RequestIds()

    @web.middleware
    async def observe(request: web.Request, handler: Handler) -> web.StreamResponse:
        started = time.perf_counter()
        request_id = ids.for_request(request)
        resource = request.match_info.route.resource
        route = resource.canonical if resource is not None else UNMATCHED_ROUTE
        status = 500
        try:
            response = await handler(request)
            status = response.status
            response.headers[REQUEST_ID_HEADER] = request_id
            return response
        except web.HTTPException as http_error:
            status = http_error.status
            http_error.headers[REQUEST_ID_HEADER] = request_id
            raise
        finally:
            duration_s = time.perf_counter() - started
            metrics.observe_request(route, request.method, status, duration_s)
            if log_reads or request.method != "GET" or status >= 400:
                log.info(
                    "request",
                    extra={
                        "method": request.method,
                        "route": route,
                        "status": status,
                        "duration_ms": round(duration_s * 1000, 2),
                        "request_id": request_id,
                    },
                )

    return observe
