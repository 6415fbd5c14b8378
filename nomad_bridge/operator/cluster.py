"""The Nomad calls the operator CLI makes, on python-nomad, with one error translation.

Job IDs are percent-encoded into the path (python-nomad joins them in as they are), so a job
named `a/b` or `x?y` can never reach another endpoint. Variable paths need no encoding:
Nomad allows only letters, digits, `-`, `_`, `~` and `/` in them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar
from urllib.parse import quote

import requests
from nomad.api import exceptions as nomad_exceptions

from nomad_bridge.nomad.models import JobStub, Variable, VariableMeta
from nomad_bridge.operator.errors import CasConflict, NomadFailed

T = TypeVar("T")
ENFORCE_INDEX_PREFIX = "Enforcing job modify index"
TEXT_LIMIT_CHARS = 500


class NotFoundAnswer(Exception):
    """Nomad answered 404 (a job or variable that does not exist); callers decide."""


class Cluster:
    """A Nomad cluster seen through one python-nomad client (`api`)."""

    def __init__(self, api: Any, address: str) -> None:
        self.api = api
        self.address = address

    def _call(self, what: str, fn: Callable[[], T]) -> T:
        try:
            return fn()
        except nomad_exceptions.URLNotFoundNomadException as exc:
            raise NotFoundAnswer(what) from exc
        except nomad_exceptions.BaseNomadException as exc:
            raise self._failure(what, exc.nomad_resp) from None
        except requests.RequestException as exc:
            raise self._failure(what, exc) from None

    def _failure(self, what: str, answer: object) -> NomadFailed:
        if not isinstance(answer, requests.Response):
            return NomadFailed(f"{what}: cannot reach Nomad at {self.address}: {_reason(answer)}")
        text = answer.text.strip()
        shown = text[:TEXT_LIMIT_CHARS] or answer.reason
        message = f"{what}: Nomad answered {answer.status_code}: {shown}"
        if answer.status_code == 500 and text.startswith(ENFORCE_INDEX_PREFIX):
            return CasConflict(message, status=500, text=text)
        if answer.status_code == 409:
            return CasConflict(message, status=409, text=text)
        return NomadFailed(message, status=answer.status_code, text=text)

    # --- jobs ----------------------------------------------------------------------------

    def list_jobs(self) -> list[JobStub]:
        """`GET /v1/jobs?meta=true` in the configured namespace (children included)."""
        raw = self._call("list jobs", lambda: self.api.jobs.get_jobs(meta=True))
        return [JobStub.model_validate(stub) for stub in raw]

    def read_job(self, job_id: str) -> dict[str, Any] | None:
        """`GET /v1/job/:id`: the job as Nomad sent it, or None if there is none."""
        try:
            raw = self._call(f"read job {job_id!r}", lambda: self.api.job.get_job(_seg(job_id)))
        except NotFoundAnswer:
            return None
        return dict(raw)

    def register(self, job: Mapping[str, Any], *, modify_index: int | None = None) -> str:
        """`POST /v1/jobs`; with `modify_index`, check-and-set on `JobModifyIndex`.

        Returns the evaluation ID. A lost check-and-set raises `CasConflict`.
        """
        body: dict[str, Any] = {"Job": dict(job)}
        if modify_index is not None:
            body.update(EnforceIndex=True, JobModifyIndex=modify_index)
        what = f"register job {job.get('ID')!r}"
        try:
            answer = self._call(what, lambda: self.api.jobs.register_job(body))
        except NotFoundAnswer as exc:
            raise NomadFailed(f"{what}: Nomad answered 404") from exc
        return str(answer.get("EvalID") or "")

    def purge(self, job_id: str) -> None:
        """`DELETE /v1/job/:id?purge=true`: stop the job and remove it from Nomad at once."""
        self._call(
            f"purge job {job_id!r}",
            lambda: self.api.job.deregister_job(_seg(job_id), purge=True),
        )

    def parse(self, hcl: str) -> dict[str, Any]:
        """`POST /v1/jobs/parse` with `Canonicalize`: Nomad turns HCL into its JSON job."""
        try:
            answer = self._call("parse HCL", lambda: self.api.jobs.parse(hcl, canonicalize=True))
        except NotFoundAnswer as exc:
            raise NomadFailed("parse HCL: this Nomad has no /v1/jobs/parse") from exc
        return dict(answer)

    # --- variables -------------------------------------------------------------------------

    def list_variables(self, prefix: str) -> list[VariableMeta]:
        raw = self._call(
            f"list variables under {prefix!r}",
            lambda: self.api.variables.get_variables(prefix=prefix),
        )
        return [VariableMeta.model_validate(meta) for meta in raw or []]

    def read_variable(self, path: str) -> Variable | None:
        try:
            raw = self._call(
                f"read variable {path!r}", lambda: self.api.variable.get_variable(path)
            )
        except NotFoundAnswer:
            return None
        return Variable.model_validate(raw)

    def put_variable(self, path: str, items: Mapping[str, str], *, cas: int) -> Variable:
        """`PUT /v1/var/:path?cas=N` (0: only if absent); a lost race raises `CasConflict`."""
        body = {"Path": path, "Items": dict(items)}
        raw = self._call(
            f"write variable {path!r}",
            lambda: self.api.variable.create_variable(path, body, cas=cas),
        )
        return Variable.model_validate(raw)

    def delete_variable(self, path: str) -> None:
        self._call(f"delete variable {path!r}", lambda: self.api.variable.delete_variable(path))


def _seg(job_id: str) -> str:
    """A job ID as one path segment."""
    return quote(job_id, safe="")


def _reason(error: object) -> str:
    """The innermost cause of a connection failure, short."""
    text = str(error)
    for marker in ("CERTIFICATE_VERIFY_FAILED", "Connection refused", "timed out"):
        if marker in text:
            detail = text[text.index(marker) :].split("'")[0].split(")")[0]
            return detail.strip(" .:")
    return text[:TEXT_LIMIT_CHARS]
