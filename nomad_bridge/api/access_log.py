"""One log line per request, with a request id a client or proxy can correlate."""

from __future__ import annotations

import logging
import time
import uuid

from aiohttp import web
from aiohttp.typedefs import Middleware

from nomad_bridge.api.problems import Handler

log = logging.getLogger("nomad_bridge.access")

REQUEST_ID_HEADER = "X-Request-ID"
REQUEST_ID_MAX_CHARS = 128
REQUEST_ID = web.RequestKey("request_id", str)


def _request_id(request: web.Request) -> str:
    """The caller's id when it is a sane token, else a fresh one (never echo raw input)."""
    given = request.headers.get(REQUEST_ID_HEADER, "")
    if 0 < len(given) <= REQUEST_ID_MAX_CHARS and all(
        c.isascii() and (c.isalnum() or c in "-_.:") for c in given
    ):
        return given
    return uuid.uuid4().hex


def access_log_middleware() -> Middleware:
    @web.middleware
    async def access_log(request: web.Request, handler: Handler) -> web.StreamResponse:
        started = time.perf_counter()
        request_id = _request_id(request)
        request[REQUEST_ID] = request_id
        resource = request.match_info.route.resource
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
            log.info(
                "request",
                extra={
                    "method": request.method,
                    "route": resource.canonical if resource is not None else "unmatched",
                    "status": status,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                    "request_id": request_id,
                },
            )

    return access_log
