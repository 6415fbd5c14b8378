"""HTTP exchanges with Nomad: one shared session, time bounds, retries, errors, metrics.

Everything above this module sees `Answer`s and `NomadError`s, never aiohttp.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

import aiohttp
from multidict import CIMultiDictProxy
from yarl import URL

from nomad_bridge import __version__
from nomad_bridge.nomad.endpoints import Endpoint
from nomad_bridge.nomad.errors import (
    NomadError,
    UnexpectedAnswer,
    error_for_answer,
    error_for_failure,
)
from nomad_bridge.nomad.query import QueryResult
from nomad_bridge.nomad.retry import RetryPolicy
from nomad_bridge.nomad.settings import NomadSettings

log = logging.getLogger(__name__)

R = TypeVar("R")
T = TypeVar("T")

RequestHook = Callable[[str, str, str, float], None]
"""`on_request(method, path_template, outcome, duration_s)`, called once per HTTP attempt.

`outcome` is `"ok"`, `"cancelled"`, or the failing `NomadError`'s `outcome`
(`"not_found"`, `"unavailable"`, `"timeout"`, ...)."""

REDACTED = "<redacted>"


@dataclass(frozen=True, slots=True)
class Call:
    """One logical request: retries repeat it as it is."""

    method: str
    endpoint: Endpoint
    url: URL
    timeout: aiohttp.ClientTimeout
    body: Any = None
    retry: RetryPolicy | None = None  # this call's policy instead of the client's

    @property
    def path(self) -> str:
        return self.url.raw_path


@dataclass(frozen=True, slots=True)
class Answer:
    """Nomad's successful (2xx) answer to a request on `path`, read in full."""

    status: int
    headers: CIMultiDictProxy[str]
    body: bytes
    path: str

    def decode(self, parse: Callable[[Any], T]) -> T:
        """The JSON body through `parse`; `UnexpectedAnswer` if it is not what Nomad sends."""
        try:
            return parse(json.loads(self.body))
        except ValueError as error:  # JSON and validation errors alike; no body in messages
            raise self._unusable(f"unusable answer body: {type(error).__name__}") from error

    def query_result(self, parse: Callable[[Any], T]) -> QueryResult[T]:
        """The decoded body with the query metadata of the headers."""
        value = self.decode(parse)
        try:
            return QueryResult.from_headers(value, self.headers)
        except ValueError as error:
            raise self._unusable("unusable query metadata headers") from error

    def _unusable(self, message: str) -> UnexpectedAnswer:
        return UnexpectedAnswer(message, path=self.path, status=self.status)


class Transport:
    """The shared `aiohttp.ClientSession` to one Nomad address, open between `open()` and
    `close()`."""

    def __init__(
        self,
        settings: NomadSettings,
        *,
        retry: RetryPolicy,
        on_request: RequestHook | None,
        max_connections: int,
        rng: random.Random,
    ) -> None:
        self._settings = settings
        self._retry = retry
        self._on_request = on_request
        self._max_connections = max_connections
        self._rng = rng
        self._session: aiohttp.ClientSession | None = None
        token = settings.token.get_secret_value() if settings.token else ""
        self._token = token
        self._headers = {"User-Agent": f"nomad-bridge/{__version__}"}
        if token:
            self._headers["X-Nomad-Token"] = token

    async def open(self) -> None:
        if self._session is not None:
            raise RuntimeError("the Nomad client is already open")
        connector: aiohttp.BaseConnector
        if self._settings.unix_socket:
            connector = aiohttp.UnixConnector(
                self._settings.unix_socket, limit=self._max_connections
            )
        else:
            context = self._settings.ssl_context()
            connector = aiohttp.TCPConnector(
                ssl=context if context is not None else True, limit=self._max_connections
            )
        session = aiohttp.ClientSession(
            connector=connector,
            timeout=aiohttp.ClientTimeout(total=None),
            headers=self._headers,
            raise_for_status=False,
        )
        # aiohttp silently resends GET, PUT and DELETE once when a kept-alive connection
        # fails; a PUT or DELETE may have reached Nomad by then, and every retry must go
        # through the policy (and the metrics hook). aiohttp's own test client turns it off
        # the same way; there is no public switch.
        if hasattr(session, "_retry_connection"):
            session._retry_connection = False
        self._session = session

    async def close(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            await session.close()

    def url(self, endpoint: Endpoint, *values: str, query: Sequence[tuple[str, str]] = ()) -> URL:
        return endpoint.url(self._settings.base_url, *values).with_query(list(query))

    async def send(self, call: Call) -> Answer:
        """Send `call`, retrying as the policy allows; the answer is 2xx or an error is raised."""
        return await self._with_retries(call, self._exchange)

    @asynccontextmanager
    async def stream(self, call: Call) -> AsyncIterator[aiohttp.ClientResponse]:
        """Open `call` as a stream; the body is left to the caller, the response closed after."""
        response = await self._with_retries(call, self._open_stream)
        try:
            yield response
        finally:
            response.close()

    async def _with_retries(self, call: Call, attempt: Callable[[Call], Awaitable[R]]) -> R:
        tries = 0
        while True:
            tries += 1
            try:
                return await attempt(call)
            except NomadError as error:
                policy = call.retry or self._retry
                if not policy.should_retry(call.method, error, tries):
                    raise
                delay_s = policy.delay_s(tries, self._rng)
                # Debug only: the failed attempt itself is logged once, by the request hook.
                log.debug(
                    "nomad_retry",
                    extra={
                        "method": call.method,
                        "nomad_path": call.endpoint.template,
                        "attempt": tries,
                        "outcome": error.outcome,
                        "retry_s": round(delay_s, 3),
                    },
                )
                await asyncio.sleep(delay_s)

    async def _exchange(self, call: Call) -> Answer:
        async def read(response: aiohttp.ClientResponse) -> Answer:
            async with response:
                body = await response.read()
            return Answer(response.status, response.headers, body, call.path)

        return await self._attempt(call, read)

    async def _open_stream(self, call: Call) -> aiohttp.ClientResponse:
        async def keep(response: aiohttp.ClientResponse) -> aiohttp.ClientResponse:
            return response

        return await self._attempt(call, keep)

    async def _attempt(
        self, call: Call, take: Callable[[aiohttp.ClientResponse], Awaitable[R]]
    ) -> R:
        """One HTTP attempt, reported to the metrics hook whatever its outcome."""
        started = asyncio.get_running_loop().time()
        outcome = "ok"
        try:
            try:
                response = await self._request(call)
                if response.status >= 300:
                    async with response:
                        text = (await response.read()).decode("utf-8", errors="replace")
                    raise error_for_answer(response.status, self._redact(text), call.path)
                return await take(response)
            except (aiohttp.ClientError, OSError) as failure:  # OSError covers TimeoutError
                raise error_for_failure(failure, call.path) from failure
        except NomadError as error:
            outcome = error.outcome
            raise
        except asyncio.CancelledError:
            outcome = "cancelled"
            raise
        finally:
            self._report(call, outcome, asyncio.get_running_loop().time() - started)

    async def _request(self, call: Call) -> aiohttp.ClientResponse:
        if self._session is None:
            raise RuntimeError("the Nomad client is not open (use `async with NomadClient(...)`)")
        server_name = self._settings.tls_server_name if self._settings.uses_tls else None
        return await self._session.request(
            call.method,
            call.url,
            json=call.body,
            timeout=call.timeout,
            allow_redirects=False,  # Nomad never redirects; a redirect must not move a request
            server_hostname=server_name,
        )

    def _redact(self, text: str) -> str:
        return text.replace(self._token, REDACTED) if self._token else text

    def _report(self, call: Call, outcome: str, duration_s: float) -> None:
        """Hand the attempt to the hook: metrics, and the one log line a failure gets."""
        if self._on_request is None:
            return
        try:
            self._on_request(call.method, call.endpoint.template, outcome, duration_s)
        except Exception:
            log.exception("nomad_request_hook_failed", extra={"nomad_path": call.endpoint.template})
