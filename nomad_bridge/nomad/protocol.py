"""The Nomad calls the shared domain rules make, whichever client makes them.

`NomadClient` (aiohttp, in the server) has them all; the operator CLI's adapter over
python-nomad (`nomad_bridge.operator.nomad_api`) has exactly these. Both raise
`nomad_bridge.nomad.errors` and return the same models, so `jobs.catalog` and
`jobs.definitions` work the same on either.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from nomad_bridge.nomad.models import (
    DeregisterResponse,
    Job,
    JobStub,
    RegisterResponse,
    Variable,
    VariableMeta,
)
from nomad_bridge.nomad.query import QueryResult


class NomadApi(Protocol):
    async def list_jobs(self, *, meta: bool = True) -> QueryResult[list[JobStub]]: ...

    async def read_job(self, job_id: str) -> QueryResult[Job]: ...

    async def register_job(
        self, spec: Mapping[str, Any] | Job, *, enforce_index: int | None = None
    ) -> RegisterResponse: ...

    async def stop_job(self, job_id: str, *, purge: bool = False) -> DeregisterResponse: ...

    async def list_variables(self, prefix: str = "") -> list[VariableMeta]: ...

    async def read_variable(self, path: str) -> QueryResult[Variable]: ...

    async def put_variable(
        self, path: str, items: Mapping[str, str], *, cas: int | None = None
    ) -> Variable: ...

    async def delete_variable(self, path: str) -> None: ...
