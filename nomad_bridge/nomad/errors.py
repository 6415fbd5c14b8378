"""What can go wrong talking to Nomad.

    NomadError
    ├── NotFound              404: no such job, variable or route
    ├── PermissionDenied      403: Nomad refused the ACL token
    ├── CasConflict           a check-and-set lost: EnforceIndex (500) or variable cas (409)
    ├── BadRequest            400: Nomad refused the request as malformed or not allowed
    │   └── DeploymentActive  400: scaling refused while a deployment is active
    ├── Unavailable           no answer from Nomad: connection failed, 502/503/504, no leader
    ├── Timeout               Nomad did not answer within the request's time bound
    ├── UnexpectedAnswer      an answer the client cannot use: other status, unparseable body
    └── UnroutableID          never sent: Nomad would route this job ID to another endpoint

Nomad answers errors as plain text and uses 500 for many things that are not outages
(validation errors, EnforceIndex conflicts), so a 500 is not retryable in general.
`error_for_answer` is the one place that turns an HTTP answer into one of these;
`error_for_failure` does the same for a request that got no answer.
"""

from __future__ import annotations

import json
import re
from typing import ClassVar

import aiohttp
from pydantic import ValidationError

from nomad_bridge.nomad.models import Variable

MESSAGE_LIMIT_CHARS = 500
ENFORCE_INDEX_TEXT = "Enforcing job modify index"
DEPLOYMENT_ACTIVE_TEXT = "job scaling blocked due to active deployment"
NO_LEADER_TEXT = "No cluster leader"
VARIABLE_PATH_PREFIX = "/v1/var/"
_CURRENT_INDEX = re.compile(r"conflicting job modify index: (\d+)")


class NomadError(Exception):
    """Base of every error of the Nomad client; `str()` is Nomad's message, never a token."""

    outcome: ClassVar[str] = "error"

    def __init__(self, message: str, *, path: str, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.path = path
        self.status = status

    def __str__(self) -> str:
        where = f"{self.status} {self.path}" if self.status is not None else self.path
        return f"{self.message} ({where})"


class UnroutableID(NomadError):
    """A job ID the client refuses to send: Nomad routes `/v1/job/...` on the *decoded* path
    (`TrimPrefix(req.URL.Path, "/v1/job/")`, then suffixes like `/summary`), so an ID with
    `/` (or one made of dots) could address another job or endpoint whatever the encoding."""

    outcome = "unroutable"


class NotFound(NomadError):
    """Nomad has no such object (or no such route)."""

    outcome = "not_found"


class PermissionDenied(NomadError):
    """Nomad refused the ACL token: wrong, expired, or lacking a capability."""

    outcome = "permission_denied"


class CasConflict(NomadError):
    """A check-and-set write lost to another writer; read again and retry."""

    outcome = "cas_conflict"

    def __init__(
        self,
        message: str,
        *,
        path: str,
        status: int | None = None,
        variable: Variable | None = None,
        current_index: int | None = None,
    ) -> None:
        super().__init__(message, path=path, status=status)
        self.variable = variable
        self.current_index = current_index


class BadRequest(NomadError):
    """Nomad refused the request itself (400); repeating it will not help."""

    outcome = "bad_request"


class DeploymentActive(BadRequest):
    """Nomad refuses to scale a job while one of its deployments is active."""

    outcome = "deployment_active"


class Unavailable(NomadError):
    """Nomad could not be reached or could not serve; `request_sent` False means it never
    saw the request (safe to repeat even a write)."""

    outcome = "unavailable"

    def __init__(
        self, message: str, *, path: str, status: int | None = None, request_sent: bool = True
    ) -> None:
        super().__init__(message, path=path, status=status)
        self.request_sent = request_sent


class Timeout(NomadError):
    """No complete answer within the request's time bound; a write may have happened."""

    outcome = "timeout"


class UnexpectedAnswer(NomadError):
    """Nomad answered, but with a status or body the client cannot use."""

    outcome = "unexpected_answer"


def error_for_answer(status: int, text: str, path: str) -> NomadError:
    """The error for Nomad's non-2xx answer `status` with body `text` to a request on `path`."""
    message = _shorten(text) or f"HTTP {status}"
    if status == 409:
        variable = _conflicting_variable(text) if path.startswith(VARIABLE_PATH_PREFIX) else None
        message = "variable check-and-set conflict" if variable is not None else message
        return CasConflict(message, path=path, status=status, variable=variable)
    if ENFORCE_INDEX_TEXT in text:
        found = _CURRENT_INDEX.search(text)
        current = int(found.group(1)) if found else None
        return CasConflict(message, path=path, status=status, current_index=current)
    if status == 404:
        return NotFound(message, path=path, status=status)
    if status in (401, 403):
        return PermissionDenied(message, path=path, status=status)
    if status == 400 and DEPLOYMENT_ACTIVE_TEXT in text:
        return DeploymentActive(message, path=path, status=status)
    if status == 400:
        return BadRequest(message, path=path, status=status)
    if status in (429, 502, 503, 504) or NO_LEADER_TEXT in text:
        return Unavailable(message, path=path, status=status)
    return UnexpectedAnswer(message, path=path, status=status)


def error_for_failure(failure: aiohttp.ClientError | OSError, path: str) -> NomadError:
    """The error for a request on `path` that got no usable answer (`failure` from aiohttp)."""
    if isinstance(failure, TimeoutError):  # before ClientError: aiohttp's timeouts are both
        return Timeout("Nomad did not answer in time", path=path)
    if isinstance(failure, aiohttp.ClientConnectorError):
        # Connecting failed (refused, DNS, TLS handshake): no byte of the request was sent.
        reason = failure.strerror or type(failure).__name__
        return Unavailable(f"cannot connect to Nomad: {reason}", path=path, request_sent=False)
    if isinstance(failure, aiohttp.ClientResponseError):
        return UnexpectedAnswer(f"malformed HTTP answer: {failure.message}", path=path)
    return Unavailable(f"connection to Nomad lost: {type(failure).__name__}", path=path)


def _conflicting_variable(text: str) -> Variable | None:
    try:
        return Variable.model_validate(json.loads(text))
    except (ValueError, ValidationError):
        return None


def _shorten(text: str) -> str:
    text = text.strip()
    return text if len(text) <= MESSAGE_LIMIT_CHARS else text[:MESSAGE_LIMIT_CHARS] + "…"
