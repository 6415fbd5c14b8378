"""What can go wrong talking to Nomad.

    NomadError
    ├── NotFound              404: no such job, variable or route
    ├── PermissionDenied      403: Nomad refused the ACL token
    ├── CasConflict           a check-and-set lost: EnforceIndex (500) or variable cas (409)
    ├── BadRequest            400: Nomad refused the request as malformed or not allowed
    │   └── DeploymentActive  400: scaling refused while a deployment is active
    ├── Unavailable           no answer from Nomad: connection failed, 502/503/504, no leader
    │   └── TLSFailure        the TLS handshake failed: certificate not verified or refused
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
import ssl
from typing import ClassVar

import aiohttp
from pydantic import ValidationError

from nomad_bridge.nomad.models import Variable

MESSAGE_LIMIT_CHARS = 500
ENFORCE_INDEX_TEXT = "Enforcing job modify index"
DEPLOYMENT_ACTIVE_TEXT = "job scaling blocked due to active deployment"
NO_LEADER_TEXT = "No cluster leader"
VARIABLE_PATH_PREFIX = "/v1/var/"
CAUSE_DEPTH_LIMIT = 8
VERIFY_FAILED_TEXT = "certificate verify failed: "
_CURRENT_INDEX = re.compile(r"conflicting job modify index: (\d+)")
_SSL_TEXT = re.compile(r"^\[(?:\w+: )?(?P<code>\w+)\] (?P<text>.*?)(?: \(_ssl\.c:\d+\))?$")
_CERTIFICATE_ALERT = re.compile(r"CERTIFICATE|UNKNOWN_CA|ACCESS_DENIED")
_CLIENT_CERT_HINT = " (check NOMAD_CLIENT_CERT and NOMAD_CLIENT_KEY)"


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


class TLSFailure(Unavailable):
    """No TLS session with Nomad: its certificate could not be verified, or it refused the
    handshake (often the client certificate). Configuration, not an outage: the message
    names the settings to check."""

    outcome = "tls_failure"


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
    tls_error = _ssl_error_in(failure)
    if tls_error is not None:
        return _tls_failure(tls_error, failure, path)
    if isinstance(failure, aiohttp.ClientConnectorError):
        # Connecting failed (refused, DNS): no byte of the request was sent.
        reason = failure.strerror or type(failure).__name__
        return Unavailable(f"cannot connect to Nomad: {reason}", path=path, request_sent=False)
    if isinstance(failure, aiohttp.ClientResponseError):
        return UnexpectedAnswer(f"malformed HTTP answer: {failure.message}", path=path)
    return Unavailable(f"connection to Nomad lost: {type(failure).__name__}", path=path)


def _ssl_error_in(failure: BaseException) -> ssl.SSLError | None:
    """The `ssl.SSLError` behind `failure`, if any: aiohttp raises its errors from it
    (`__cause__`) and keeps a connector's as `os_error`."""
    error: BaseException | None = failure
    for _ in range(CAUSE_DEPTH_LIMIT):
        if isinstance(error, aiohttp.ClientConnectorError):
            error = error.os_error if isinstance(error.os_error, ssl.SSLError) else error
        if error is None or isinstance(error, ssl.SSLError):
            return error
        error = error.__cause__
    return None


def _tls_failure(error: ssl.SSLError, failure: BaseException, path: str) -> TLSFailure:
    code, text = _ssl_words(error)
    # A failed verification or Nomad's alert ends the handshake: no request reached Nomad.
    unsent = True
    if isinstance(error, ssl.SSLCertVerificationError):
        why = getattr(error, "verify_message", None) or text.removeprefix(VERIFY_FAILED_TEXT)
        message = (
            f"Nomad's TLS certificate could not be verified: {why}"
            " (check NOMAD_CACERT, NOMAD_CAPATH, NOMAD_TLS_SERVER_NAME)"
        )
    elif "ALERT" in code:
        hint = _CLIENT_CERT_HINT if _CERTIFICATE_ALERT.search(code) else ""
        message = f"Nomad refused the TLS handshake: {text}{hint}"
    else:
        message = f"TLS with Nomad failed: {text}"
        unsent = isinstance(failure, aiohttp.ClientConnectorError)
    return TLSFailure(message, path=path, request_sent=not unsent)


def _ssl_words(error: ssl.SSLError) -> tuple[str, str]:
    """OpenSSL's reason code and words: `("TLSV13_ALERT_CERTIFICATE_REQUIRED",
    "tlsv13 alert certificate required")` from `[SSL: TLSV13_...] tlsv13 ... (_ssl.c:2580)`."""
    raw = error.strerror or " ".join(map(str, error.args)) or type(error).__name__
    found = _SSL_TEXT.match(raw)
    reason = getattr(error, "reason", None)  # set by the ssl module, absent if built by hand
    code = reason or (found.group("code") if found else "")
    return code, (found.group("text") if found else raw)


def _conflicting_variable(text: str) -> Variable | None:
    try:
        return Variable.model_validate(json.loads(text))
    except (ValueError, ValidationError):
        return None


def _shorten(text: str) -> str:
    text = text.strip()
    return text if len(text) <= MESSAGE_LIMIT_CHARS else text[:MESSAGE_LIMIT_CHARS] + "…"
