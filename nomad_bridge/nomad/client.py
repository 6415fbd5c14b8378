"""`NomadClient`: the bridge's async client of Nomad's HTTP API.

    async with NomadClient(NomadSettings()) as nomad:
        jobs = await nomad.list_jobs()                       # QueryResult[list[JobStub]]
        later = await nomad.list_jobs(index=jobs.index, wait_s=60)   # blocks until a change

One `aiohttp.ClientSession` per client, open from `open()` (or entering
`async with`) to `close()` (or leaving it); in the application, a `cleanup_ctx`
does both. Every request carries the settings' namespace and region, and the token as
`X-Nomad-Token`. Errors are `nomad_bridge.nomad.errors`.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Self, TypeVar

import aiohttp
from pydantic import TypeAdapter

from nomad_bridge.nomad import endpoints
from nomad_bridge.nomad.endpoints import Endpoint
from nomad_bridge.nomad.events import HEARTBEAT_INTERVAL_S, EventStream
from nomad_bridge.nomad.models import (
    DeregisterResponse,
    Job,
    JobStub,
    JobSummary,
    RegisterResponse,
    Variable,
    VariableMeta,
)
from nomad_bridge.nomad.query import QueryResult, blocking_params, blocking_timeout_s
from nomad_bridge.nomad.retry import RetryPolicy
from nomad_bridge.nomad.settings import NomadSettings
from nomad_bridge.nomad.transport import Answer, Call, RequestHook, Transport

T = TypeVar("T")

DEFAULT_TIMEOUT_S = 10.0
DEFAULT_MAX_CONNECTIONS = 100
STREAM_READ_TIMEOUT_S = HEARTBEAT_INTERVAL_S * 1.5
VARIABLES_PAGE_SIZE = 200
NO_JOB_PREFIX = " nomad-bridge-index-probe"  # Nomad refuses job IDs with a space

_JOB_STUBS = TypeAdapter(list[JobStub])
_VARIABLE_METAS = TypeAdapter(list[VariableMeta])

Params = list[tuple[str, str]]


class NomadClient:
    """Async client of one Nomad cluster (see the module docstring for the lifecycle).

    `timeout_s` bounds every non-blocking request; a blocking read is bounded by its wait x
    17/16 plus `timeout_s`; the event stream by `stream_read_timeout_s` between two reads
    (keep it above Nomad's 30 s heartbeat).
    `retry` says which failures are tried again; `on_request(method, path_template,
    outcome, duration_s)` is called once per HTTP attempt, for metrics.
    """

    def __init__(
        self,
        settings: NomadSettings | None = None,
        *,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        retry: RetryPolicy | None = None,
        on_request: RequestHook | None = None,
        stream_read_timeout_s: float = STREAM_READ_TIMEOUT_S,
        max_connections: int = DEFAULT_MAX_CONNECTIONS,
        rng: random.Random | None = None,
    ) -> None:
        if timeout_s <= 0 or stream_read_timeout_s <= 0:
            raise ValueError("timeouts must be positive")
        self.settings = settings if settings is not None else NomadSettings()
        self.timeout_s = timeout_s
        self.stream_read_timeout_s = stream_read_timeout_s
        # Every request is scoped to the settings' namespace and region.
        self._scope: Params = [("namespace", self.settings.namespace)]
        if self.settings.region:
            self._scope.append(("region", self.settings.region))
        self._transport = Transport(
            self.settings,
            retry=retry if retry is not None else RetryPolicy(),
            on_request=on_request,
            max_connections=max_connections,
            rng=rng if rng is not None else random.Random(),
        )

    def __repr__(self) -> str:
        return f"NomadClient(addr={self.settings.addr!r}, namespace={self.settings.namespace!r})"

    async def open(self) -> None:
        """Create the shared session; `RuntimeError` if the client is already open."""
        await self._transport.open()

    async def close(self) -> None:
        """Close the shared session and its connections; closing twice is harmless."""
        await self._transport.close()

    async def __aenter__(self) -> Self:
        await self.open()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    # --- Jobs ---------------------------------------------------------------------------

    async def list_jobs(
        self,
        *,
        prefix: str | None = None,
        meta: bool = True,
        index: int | None = None,
        wait_s: float | None = None,
        retry: RetryPolicy | None = None,
    ) -> QueryResult[list[JobStub]]:
        """`GET /v1/jobs`: job stubs in (namespace, ID) order, with `Meta` when `meta`.

        `retry` replaces the client's policy for this call (a watch that handles failures
        itself wants none)."""
        params: Params = [("meta", "true")] if meta else []
        if prefix:
            params.append(("prefix", prefix))
        return await self._query(
            endpoints.JOBS,
            parse=_JOB_STUBS.validate_python,
            params=params,
            index=index,
            wait_s=wait_s,
            retry=retry,
        )

    async def jobs_index(self) -> int:
        """The job list's `X-Nomad-Index`, cheaply: `GET /v1/jobs` with a prefix no job ID
        can have (Nomad refuses IDs with a space) answers `[]`, ACL-checked, with the index
        of the last write to the jobs or job summaries."""
        return (await self.list_jobs(meta=False, prefix=NO_JOB_PREFIX)).index

    async def read_job(self, job_id: str) -> QueryResult[Job]:
        """`GET /v1/job/:id`: the full job; `NotFound` if there is none."""
        return await self._query(endpoints.JOB, job_id, parse=Job.model_validate)

    async def job_summary(self, job_id: str) -> QueryResult[JobSummary]:
        """`GET /v1/job/:id/summary`: allocation counters per task group."""
        return await self._query(endpoints.JOB_SUMMARY, job_id, parse=JobSummary.model_validate)

    async def register_job(
        self, spec: Mapping[str, Any] | Job, *, enforce_index: int | None = None
    ) -> RegisterResponse:
        """`POST /v1/jobs`: register (create or update) a job.

        With `enforce_index` (the job's `JobModifyIndex`; 0 means "must not exist yet")
        Nomad refuses the write with `CasConflict` if the job changed meanwhile.
        """
        body: dict[str, Any] = {"Job": spec.spec() if isinstance(spec, Job) else dict(spec)}
        if enforce_index is not None:
            body |= {"EnforceIndex": True, "JobModifyIndex": enforce_index}
        answer = await self._send("POST", endpoints.JOBS, body=body)
        return answer.decode(RegisterResponse.model_validate)

    async def stop_job(self, job_id: str, *, purge: bool = False) -> DeregisterResponse:
        """`DELETE /v1/job/:id`: stop the job (a new version with `Stop`), or purge it."""
        params: Params = [("purge", "true")] if purge else []
        answer = await self._send("DELETE", endpoints.JOB, job_id, params=params)
        return answer.decode(DeregisterResponse.model_validate)

    async def scale_job(
        self,
        job_id: str,
        group: str,
        count: int,
        *,
        message: str,
        job_modify_index: int | None = None,
        meta: Mapping[str, Any] | None = None,
    ) -> RegisterResponse:
        """`POST /v1/job/:id/scale`: set one group's count, recorded as a scaling event.

        With `job_modify_index` Nomad refuses the change with `CasConflict` if the job changed
        meanwhile; during an active deployment it refuses with `DeploymentActive`.
        """
        body: dict[str, Any] = {
            "Count": count,
            "Target": {"Job": job_id, "Group": group},
            "Message": message,
        }
        if job_modify_index is not None:
            body["JobModifyIndex"] = job_modify_index
        if meta is not None:
            body["Meta"] = dict(meta)
        answer = await self._send("POST", endpoints.JOB_SCALE, job_id, body=body)
        return answer.decode(RegisterResponse.model_validate)

    # --- Variables ----------------------------------------------------------------------

    async def list_variables(
        self, prefix: str = "", *, page_size: int = VARIABLES_PAGE_SIZE
    ) -> list[VariableMeta]:
        """`GET /v1/vars`: every variable under `prefix` (metadata only), all pages."""
        found: list[VariableMeta] = []
        next_token = ""
        while True:
            params: Params = [("prefix", prefix), ("per_page", str(page_size))]
            if next_token:
                params.append(("next_token", next_token))
            answer = await self._send("GET", endpoints.VARIABLES, params=params)
            found.extend(answer.decode(_VARIABLE_METAS.validate_python))
            next_token = answer.headers.get("X-Nomad-NextToken", "")
            if not next_token:
                return found

    async def read_variable(self, path: str) -> QueryResult[Variable]:
        """`GET /v1/var/:path`: the variable with its items; `NotFound` if there is none."""
        return await self._query(endpoints.VARIABLE, path, parse=Variable.model_validate)

    async def put_variable(
        self, path: str, items: Mapping[str, str], *, cas: int | None = None
    ) -> Variable:
        """`PUT /v1/var/:path`: write the variable.

        With `cas` (its `ModifyIndex`; 0 means "must not exist yet") a lost race raises
        `CasConflict` whose `variable` is the one Nomad holds.
        """
        body = {"Namespace": self.settings.namespace, "Path": path, "Items": dict(items)}
        params: Params = [("cas", str(cas))] if cas is not None else []
        answer = await self._send("PUT", endpoints.VARIABLE, path, params=params, body=body)
        return answer.decode(Variable.model_validate)

    async def delete_variable(self, path: str) -> None:
        """`DELETE /v1/var/:path`; deleting an absent variable succeeds."""
        await self._send("DELETE", endpoints.VARIABLE, path)

    # --- Events -------------------------------------------------------------------------

    def event_stream(
        self, topics: Sequence[str], *, index: int = 0, read_timeout_s: float | None = None
    ) -> EventStream:
        """`GET /v1/event/stream` from `index` (inclusive): batches of events as they happen.

        `topics` are `Topic` or `Topic:key` (`Job:web`). Nothing is sent until the stream is
        entered or iterated. Heartbeats are skipped; a silence longer than `read_timeout_s`
        (default `stream_read_timeout_s`) raises `Timeout`.
        """
        params: Params = [("topic", topic) for topic in topics] + [("index", str(index))]
        url = self._transport.url(endpoints.EVENT_STREAM, query=params + self._scope)
        timeout = aiohttp.ClientTimeout(
            total=None,
            connect=self.timeout_s,
            sock_read=read_timeout_s or self.stream_read_timeout_s,
        )
        call = Call("GET", endpoints.EVENT_STREAM, url, timeout)
        return EventStream(lambda: self._transport.stream(call), call.path)

    # --- Plumbing -----------------------------------------------------------------------

    async def _query(
        self,
        endpoint: Endpoint,
        *values: str,
        parse: Callable[[Any], T],
        params: Params | None = None,
        index: int | None = None,
        wait_s: float | None = None,
        retry: RetryPolicy | None = None,
    ) -> QueryResult[T]:
        answer = await self._send(
            "GET",
            endpoint,
            *values,
            params=(params or []) + blocking_params(index, wait_s),
            timeout_s=blocking_timeout_s(index, wait_s, margin_s=self.timeout_s),
            retry=retry,
        )
        return answer.query_result(parse)

    async def _send(
        self,
        method: str,
        endpoint: Endpoint,
        *values: str,
        params: Params | None = None,
        body: Any = None,
        timeout_s: float | None = None,
        retry: RetryPolicy | None = None,
    ) -> Answer:
        url = self._transport.url(endpoint, *values, query=(params or []) + self._scope)
        timeout = aiohttp.ClientTimeout(total=timeout_s or self.timeout_s)
        return await self._transport.send(Call(method, endpoint, url, timeout, body, retry))
