"""Request and response bodies of the Cluster API, as strict pydantic models.

The same models validate requests, shape responses and (later) describe the API in
`/openapi.json`: one source of truth.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

JOB_ID_MAX_CHARS = 1024


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, populate_by_name=True)


class CountDelta(_Strict):
    """`POST /jobs/updatecounts`: add a signed delta; 0 sets the count to 0."""

    job_id: str = Field(alias="jobID", min_length=1, max_length=JOB_ID_MAX_CHARS)
    task_group: str = Field(alias="taskGroup", min_length=1, max_length=JOB_ID_MAX_CHARS)
    count: int = Field(
        description="The signed delta; 0 sets the count to 0. A JSON integer literal: "
        '"3", 3.5 and even 3.0 are refused.'
    )


class CountValue(_Strict):
    """`POST /jobs/settaskgroupcount`: set the count."""

    job_id: str = Field(alias="jobID", min_length=1, max_length=JOB_ID_MAX_CHARS)
    task_group: str = Field(alias="taskGroup", min_length=1, max_length=JOB_ID_MAX_CHARS)
    count: int = Field(
        ge=0, description="The new count, at least 0; a JSON integer literal (not 3.0)."
    )


class StateChangeResult(BaseModel):
    """The answer to start and stop, and one entry of startall/stopall."""

    job: str
    result: str = Field(description="started, restored, already running, stopped, already stopped")
    eval_id: str = Field(default="", alias="evalID", serialization_alias="evalID")


class BulkEntry(BaseModel):
    job: str
    status: int = Field(description="The HTTP status this job's operation alone would have had.")
    result: str | None = None
    detail: str | None = None


class BulkResult(BaseModel):
    results: list[BulkEntry]


class CountChangeResult(BaseModel):
    job_id: str = Field(serialization_alias="jobID")
    task_group: str = Field(serialization_alias="taskGroup")
    previous_count: int = Field(serialization_alias="previousCount")
    count: int
    path: str = Field(description="scale, register (deployment active) or definition (collected)")
    attempts: int


class ProblemDetails(BaseModel):
    """RFC 9457 problem details: the body of every error."""

    type: str
    title: str
    status: int
    detail: str
    errors: list[str] | None = Field(default=None, description="Each invalid field (400).")
    results: list[BulkEntry] | None = Field(
        default=None, description="startall/stopall: every job's own result."
    )


class Health(BaseModel):
    status: str


class Readiness(BaseModel):
    status: str
    index: int = Field(description="The live view's waitIndex.")
    nomad_index: int = Field(alias="nomadIndex", description="The Nomad index the view reflects.")
    watch: str = Field(
        description="How the view follows Nomad: `events` (its event stream) or `list` (the "
        "blocking job list: the stream is refused or misbehaves, or BRIDGE_WATCH=list)."
    )
