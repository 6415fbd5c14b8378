"""The operator CLI's one adapter to python-nomad: the calls of `NomadApi` (and the CLI's
HCL parse), each made with python-nomad and handed to the bridge's shared rules.

python-nomad is synchronous, so each call runs in a worker thread, never on the event loop
the shared async rules (`jobs.catalog`, `jobs.definitions`) run on. Its answers are
validated into the bridge's models; its failures become `nomad_bridge.nomad.errors` through
the translator the server uses (`error_for_answer`), with what was being done as a note
(`read job 'web'`) for the CLI's message. Job IDs enter URLs through
`nomad.endpoints.job_segment`, as the server's do; variable paths need no encoding (Nomad
allows only letters, digits, `-`, `_`, `~` and `/` in them). python-nomad returns bodies
without headers, so reads carry no query metadata (index 0).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import requests
from nomad.api import exceptions as nomad_exceptions
from pydantic import TypeAdapter

from nomad_bridge.nomad import endpoints
from nomad_bridge.nomad import errors as nomad
from nomad_bridge.nomad.models import (
    DeregisterResponse,
    Job,
    JobStub,
    RegisterResponse,
    Variable,
    VariableMeta,
)
from nomad_bridge.nomad.query import QueryResult
from nomad_bridge.nomad.transport import REDACTED

T = TypeVar("T")

_JOB_STUBS = TypeAdapter(list[JobStub])
_VARIABLE_METAS = TypeAdapter(list[VariableMeta])
_CONNECT_FAILURE_MARKERS = ("CERTIFICATE_VERIFY_FAILED", "Connection refused", "timed out")


def _unindexed(value: T) -> QueryResult[T]:
    return QueryResult(value, index=0, known_leader=False, last_contact_ms=0)


def _json_object(data: Any) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise ValueError("not a JSON object")
    return data


class PythonNomad:
    """`NomadApi` on a python-nomad client (`api`, from `operator.connect`) for the Nomad at
    `address` (as shown in messages); `token` is blanked out of any text Nomad sends back."""

    def __init__(self, api: Any, address: str, token: str | None) -> None:
        self._api = api
        self._address = address
        self._token = token

    # --- jobs ----------------------------------------------------------------------------

    async def list_jobs(self, *, meta: bool = True) -> QueryResult[list[JobStub]]:
        stubs = await self._call(
            "list jobs",
            endpoints.JOBS.path(),
            lambda: self._api.jobs.get_jobs(meta=meta),
            _JOB_STUBS.validate_python,
        )
        return _unindexed(stubs)

    async def read_job(self, job_id: str) -> QueryResult[Job]:
        segment = endpoints.job_segment(job_id, endpoints.JOB.template)
        job = await self._call(
            f"read job {job_id!r}",
            endpoints.JOB.path(job_id),
            lambda: self._api.job.get_job(segment),
            Job.model_validate,
        )
        return _unindexed(job)

    async def register_job(
        self, spec: Mapping[str, Any] | Job, *, enforce_index: int | None = None
    ) -> RegisterResponse:
        body: dict[str, Any] = {"Job": spec.spec() if isinstance(spec, Job) else dict(spec)}
        if enforce_index is not None:
            body |= {"EnforceIndex": True, "JobModifyIndex": enforce_index}
        return await self._call(
            f"register job {body['Job'].get('ID')!r}",
            endpoints.JOBS.path(),
            lambda: self._api.jobs.register_job(body),
            RegisterResponse.model_validate,
        )

    async def stop_job(self, job_id: str, *, purge: bool = False) -> DeregisterResponse:
        segment = endpoints.job_segment(job_id, endpoints.JOB.template)
        return await self._call(
            f"{'purge' if purge else 'stop'} job {job_id!r}",
            endpoints.JOB.path(job_id),
            lambda: self._api.job.deregister_job(segment, purge=purge),
            DeregisterResponse.model_validate,
        )

    async def parse_job(self, hcl: str) -> dict[str, Any]:
        """`POST /v1/jobs/parse` with `Canonicalize`: Nomad turns HCL into its JSON job."""
        return await self._call(
            "parse HCL",
            endpoints.JOBS_PARSE.path(),
            lambda: self._api.jobs.parse(hcl, canonicalize=True),
            _json_object,
        )

    # --- variables -------------------------------------------------------------------------

    async def list_variables(self, prefix: str = "") -> list[VariableMeta]:
        return await self._call(
            f"list variables under {prefix!r}",
            endpoints.VARIABLES.path(),
            lambda: self._api.variables.get_variables(prefix=prefix),
            lambda data: _VARIABLE_METAS.validate_python(data or []),
        )

    async def read_variable(self, path: str) -> QueryResult[Variable]:
        variable = await self._call(
            f"read variable {path!r}",
            endpoints.VARIABLE.path(path),
            lambda: self._api.variable.get_variable(path),
            Variable.model_validate,
        )
        return _unindexed(variable)

    async def put_variable(
        self, path: str, items: Mapping[str, str], *, cas: int | None = None
    ) -> Variable:
        body = {"Path": path, "Items": dict(items)}
        return await self._call(
            f"write variable {path!r}",
            endpoints.VARIABLE.path(path),
            lambda: self._api.variable.create_variable(path, body, cas=cas),
            Variable.model_validate,
        )

    async def delete_variable(self, path: str) -> None:
        await self._call(
            f"delete variable {path!r}",
            endpoints.VARIABLE.path(path),
            lambda: self._api.variable.delete_variable(path),
            lambda _answer: None,
        )

    # --- plumbing --------------------------------------------------------------------------

    async def _call(
        self, what: str, path: str, request: Callable[[], Any], parse: Callable[[Any], T]
    ) -> T:
        """Run `request` in a thread and `parse` its answer; a failure is raised as the
        shared `NomadError` for it, noted with `what` was being done."""
        try:
            answer = await asyncio.to_thread(request)
            try:
                return parse(answer)
            except ValueError as unusable:  # JSON and validation errors alike
                raise nomad.UnexpectedAnswer(
                    f"unusable answer body: {type(unusable).__name__}", path=path
                ) from unusable
        except nomad_exceptions.BaseNomadException as exc:
            failure = self._translate(exc.nomad_resp, path)
        except requests.RequestException as exc:
            failure = self._translate(exc, path)
        except nomad.NomadError as shared:
            failure = shared
        failure.add_note(what)
        raise failure

    def _translate(self, answer: object, path: str) -> nomad.NomadError:
        if isinstance(answer, requests.Response):
            text = answer.text.replace(self._token, REDACTED) if self._token else answer.text
            return nomad.error_for_answer(answer.status_code, text, path)
        message = f"cannot reach Nomad at {self._address}: {_reason(answer)}"
        if isinstance(answer, requests.exceptions.SSLError):
            return nomad.TLSFailure(message, path=path, request_sent=False)
        if isinstance(answer, requests.Timeout):
            return nomad.Timeout(message, path=path)
        sent = not isinstance(answer, requests.exceptions.ConnectionError)
        return nomad.Unavailable(message, path=path, request_sent=sent)


def _reason(failure: object) -> str:
    """The innermost cause of a connection failure, short."""
    text = str(failure)
    for marker in _CONNECT_FAILURE_MARKERS:
        if marker in text:
            detail = text[text.index(marker) :].split("'")[0].split(")")[0]
            return detail.strip(" .:")
    return text[: nomad.MESSAGE_LIMIT_CHARS]
