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

from nomad_bridge.nomad import endpoints, models
from nomad_bridge.nomad import errors as nomad
from nomad_bridge.nomad.query import QueryResult
from nomad_bridge.nomad.transport import REDACTED

T = TypeVar("T")

_JOB_STUBS = TypeAdapter(list[models.JobStub])
_JOB = TypeAdapter(models.Job)
_REGISTERED = TypeAdapter(models.RegisterResponse)
_DEREGISTERED = TypeAdapter(models.DeregisterResponse)
_JSON_OBJECT = TypeAdapter(dict[str, Any])
_VARIABLE_METAS = TypeAdapter(list[models.VariableMeta])
_VARIABLE = TypeAdapter(models.Variable)
_ANYTHING = TypeAdapter(Any)
PARSE_PATH = "/v1/jobs/parse"  # the CLI's own endpoint (SPEC section 7), not the server's
_CONNECT_FAILURE_MARKERS = ("CERTIFICATE_VERIFY_FAILED", "Connection refused", "timed out")


def _unindexed(value: T) -> QueryResult[T]:
    return QueryResult(value, index=0, known_leader=False, last_contact_ms=0)


def _job_path(job_id: str) -> tuple[str, str]:
    """The job ID as its URL segment (python-nomad joins it in as it is), and the path."""
    return endpoints.job_segment(job_id, endpoints.JOB.template), endpoints.JOB.path(job_id)


class PythonNomad:
    """`NomadApi` on a python-nomad client (`api`, from `operator.connect`) for the Nomad at
    `address` (as shown in messages); `token` is blanked out of any text Nomad sends back."""

    def __init__(self, api: Any, address: str, token: str | None) -> None:
        self._api = api
        self._address = address
        self._token = token

    # --- jobs ----------------------------------------------------------------------------

    async def list_jobs(self, *, meta: bool = True) -> QueryResult[list[models.JobStub]]:
        path = endpoints.JOBS.path()
        stubs = await self._call("list jobs", path, _JOB_STUBS, self._api.jobs.get_jobs, meta=meta)
        return _unindexed(stubs)

    async def read_job(self, job_id: str) -> QueryResult[models.Job]:
        segment, path = _job_path(job_id)
        job = await self._call(f"read job {job_id!r}", path, _JOB, self._api.job.get_job, segment)
        return _unindexed(job)

    async def register_job(
        self, spec: Mapping[str, Any] | models.Job, *, enforce_index: int | None = None
    ) -> models.RegisterResponse:
        job = spec.spec() if isinstance(spec, models.Job) else dict(spec)
        body: dict[str, Any] = {"Job": job}
        if enforce_index is not None:
            body |= {"EnforceIndex": True, "JobModifyIndex": enforce_index}
        what, path = f"register job {job.get('ID')!r}", endpoints.JOBS.path()
        return await self._call(what, path, _REGISTERED, self._api.jobs.register_job, body)

    async def stop_job(self, job_id: str, *, purge: bool = False) -> models.DeregisterResponse:
        segment, path = _job_path(job_id)
        what = f"{'purge' if purge else 'stop'} job {job_id!r}"
        stop = self._api.job.deregister_job
        return await self._call(what, path, _DEREGISTERED, stop, segment, purge=purge)

    async def parse_job(self, hcl: str) -> dict[str, Any]:
        """`POST /v1/jobs/parse` with `Canonicalize`: Nomad turns HCL into its JSON job."""
        path = PARSE_PATH
        parse = self._api.jobs.parse
        return await self._call("parse HCL", path, _JSON_OBJECT, parse, hcl, canonicalize=True)

    # --- variables -------------------------------------------------------------------------

    async def list_variables(self, prefix: str = "") -> list[models.VariableMeta]:
        what, path = f"list variables under {prefix!r}", endpoints.VARIABLES.path()
        found = self._api.variables.get_variables
        return await self._call(what, path, _VARIABLE_METAS, found, prefix=prefix)

    async def read_variable(self, path: str) -> QueryResult[models.Variable]:
        what, url_path = f"read variable {path!r}", endpoints.VARIABLE.path(path)
        read = self._api.variable.get_variable
        return _unindexed(await self._call(what, url_path, _VARIABLE, read, path))

    async def put_variable(
        self, path: str, items: Mapping[str, str], *, cas: int | None = None
    ) -> models.Variable:
        body = {"Path": path, "Items": dict(items)}
        what, url_path = f"write variable {path!r}", endpoints.VARIABLE.path(path)
        write = self._api.variable.create_variable
        return await self._call(what, url_path, _VARIABLE, write, path, body, cas=cas)

    async def delete_variable(self, path: str) -> None:
        what, url_path = f"delete variable {path!r}", endpoints.VARIABLE.path(path)
        await self._call(what, url_path, _ANYTHING, self._api.variable.delete_variable, path)

    # --- plumbing --------------------------------------------------------------------------

    async def _call(
        self,
        what: str,
        path: str,
        answer_type: TypeAdapter[T],
        function: Callable[..., Any],
        *args: Any,
        **kwargs: Any,
    ) -> T:
        """`function(*args, **kwargs)` in a thread, its answer validated as `answer_type`; a
        failure is raised as the shared `NomadError` for it, noted with `what` was being
        done."""
        try:
            answer = await asyncio.to_thread(function, *args, **kwargs)
            try:
                return answer_type.validate_python(answer)
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
