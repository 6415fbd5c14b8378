"""Every error a client sees, as RFC 9457 problem+json, decided in one place.

Handlers raise; `problem_for` (called by the one middleware, `api/observe.py`) turns the
domain's errors, Nomad's errors and aiohttp's own HTTP exceptions into one body shape.
Nothing else in the API builds an error response.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from aiohttp import web

from nomad_bridge.jobs import errors as domain
from nomad_bridge.nomad import errors as nomad

log = logging.getLogger(__name__)

PROBLEM_CONTENT_TYPE = "application/problem+json"
# RFC 9457 section 4.2.1: "about:blank" means the problem is just its HTTP status, which
# `title` then names; `detail` says what went wrong in this occurrence.
PROBLEM_TYPE = "about:blank"

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class Problem(Exception):
    """An error the API layer itself decides (bad input, missing token)."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.headers = headers or {}
        self.extra = extra or {}


def problem_response(
    status: int,
    detail: str,
    *,
    headers: dict[str, str] | None = None,
    extra: dict[str, Any] | None = None,
) -> web.Response:
    """The one shape of every error body."""
    title = HTTPStatus(status).phrase
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE,
        "title": title,
        "status": status,
        "detail": detail,
        **(extra or {}),
    }
    response = web.json_response(body, status=status, headers=headers)
    response.content_type = PROBLEM_CONTENT_TYPE
    return response


@dataclass(frozen=True, slots=True)
class Mapping:
    """How a client sees one exception class: its status, and what the detail starts with."""

    status: int
    lead: str = ""


# Looked up along the exception's MRO (as Starlette's exception handlers are): a class not
# listed takes its nearest listed base's answer, so a new subclass is never a surprise 502.
ERROR_MAPPINGS: dict[type[Exception], Mapping] = {
    domain.BridgeError: Mapping(500),
    domain.JobNotFound: Mapping(404),
    domain.TaskGroupNotFound: Mapping(404),
    domain.CountOutOfRange: Mapping(400),
    domain.CountChangeConflict: Mapping(409),
    nomad.NomadError: Mapping(502, "Nomad answered with something unusable: "),
    nomad.UnroutableID: Mapping(400),
    nomad.NotFound: Mapping(404),
    nomad.PermissionDenied: Mapping(403, "Nomad refused the bridge's token: "),
    nomad.CasConflict: Mapping(409),
    nomad.BadRequest: Mapping(400, "Nomad refused the request: "),
    nomad.Unavailable: Mapping(503, "Nomad is unreachable: "),
    nomad.Timeout: Mapping(504, "Nomad did not answer in time: "),
}


def mapping_for(error: Exception) -> Mapping:
    """The mapping of the error's class or of its nearest mapped base class."""
    for cls in type(error).__mro__:
        found = ERROR_MAPPINGS.get(cls)
        if found is not None:
            return found
    raise TypeError(f"{type(error).__name__} is not an error the API maps")


def status_for(error: Exception) -> int:
    """The HTTP status a client gets for a domain or Nomad error."""
    return mapping_for(error).status


def detail_for(error: Exception) -> str:
    """A client-safe sentence for an error; Nomad's text is kept, since it says what is wrong."""
    return mapping_for(error).lead + str(error)


def problem_for(request: web.Request, error: Exception) -> web.Response:
    """The problem+json answer to an error a handler raised; re-raises what is not an
    error answer (an HTTP redirect, a bug: aiohttp answers those itself)."""
    match error:
        case Problem():
            return problem_response(
                error.status, error.detail, headers=error.headers, extra=error.extra
            )
        case domain.BridgeError() | nomad.NomadError():
            status = status_for(error)
            if status >= 500:
                log.warning(
                    "upstream_error",
                    extra={"route": request.path, "status": status, "error": type(error).__name__},
                )
            return problem_response(status, detail_for(error))
        case web.HTTPException() if error.status >= 400:
            headers = {k: v for k, v in error.headers.items() if k.lower() == "allow"}
            text = error.text or ""
            detail = error.reason if text.startswith(f"{error.status}:") else text
            return problem_response(error.status, detail or error.reason, headers=headers)
        case _:
            raise error
