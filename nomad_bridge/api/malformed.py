"""Requests aiohttp cannot parse, answered as problem+json like every other error.

aiohttp answers what its HTTP parser refuses (a bad request line, an oversized or malformed
header, broken body framing) before any application code runs, in plain text, and offers
the application no hook for it (aio-libs/aiohttp#3287). That answer is built by the
connection handler's `handle_error`, which also answers a handler's unexpected exception
(500), so the bridge is served by `BridgeRunner`, whose connections build a problem
instead: same status, a detail naming what is wrong without echoing the offending bytes
(they may hold a token), and the connection closed after it, as aiohttp does.
docs/reliability.md lists what still cannot be shaped.
"""

from __future__ import annotations

import logging
from http import HTTPStatus

from aiohttp import web
from aiohttp.http import HttpProcessingError

from nomad_bridge.api.problems import problem_response

log = logging.getLogger(__name__)

DETAIL_LIMIT_CHARS = 200
# Where aiohttp's parser messages start quoting the request's own bytes.
_EXCERPT_MARKERS = ("bytearray(", "b'", 'b"')


def parse_failure(error: BaseException | None, message: str | None) -> str:
    """What aiohttp's parser says is wrong, without its excerpt of the request."""
    text = message or (error.message if isinstance(error, HttpProcessingError) else "")
    reasons: list[str] = []
    for line in str(text).splitlines():
        cuts = [line.find(marker) for marker in _EXCERPT_MARKERS if marker in line]
        reason = line[: min(cuts)] if cuts else line
        if reason.strip(" :.^"):
            reasons.append(reason.strip(" :."))
        if cuts:
            break
    return ": ".join(reasons)[:DETAIL_LIMIT_CHARS] or type(error).__name__


class ProblemRequestHandler(web.RequestHandler):
    """aiohttp's connection handler, answering what it cannot serve with a problem."""

    def handle_error(
        self,
        request: web.BaseRequest,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        if request.writer.output_size > 0:  # an answer has begun: nothing else can be sent
            raise ConnectionError("cannot answer an error after the response has begun")
        if status >= 500:
            log.error("request_failed", exc_info=exc, extra={"status": status})
            detail = f"the bridge could not handle the request: {HTTPStatus(status).description}"
        else:
            log.info(
                "malformed_request",
                extra={"status": status, "error": type(exc).__name__ if exc else None},
            )
            detail = f"the request is not valid HTTP/1.1: {parse_failure(exc, message)}"
        response = problem_response(status, detail)
        response.force_close()
        return response


class ProblemServer(web.Server):
    """aiohttp's low-level server, with `ProblemRequestHandler` connections."""

    def __call__(self) -> web.RequestHandler:
        return ProblemRequestHandler(self, loop=self._loop, **self._kwargs)


class BridgeRunner(web.AppRunner):
    """`web.AppRunner` for the bridge: the application's server, with problem answers for
    requests that never reach the application."""

    async def _make_server(self) -> web.Server:
        made = await super()._make_server()
        return ProblemServer(
            made.request_handler,
            request_factory=made.request_factory,
            handler_cancellation=made.handler_cancellation,
            **made._kwargs,
        )
