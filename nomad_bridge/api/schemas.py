"""Request and response bodies, parameters and headers of the Cluster API, as pydantic models.

The same models validate requests, shape responses and describe the API in `/openapi.json`
(with the route table, `api/routes.py`): one source of truth.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from nomad_bridge.api.longpoll import (
    LAST_CONTACT_HEADER,
    WAIT_CAP_S,
    WAIT_DEFAULT_S,
    WAIT_INDEX_HEADER,
    WAIT_INDEX_MAX_DIGITS,
    WAIT_PATTERN,
    WAIT_QUERY,
)

JOB_ID_MAX_CHARS = 1024
JOB_NAME = "jobName"  # the path parameter naming a job


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, populate_by_name=True)


class CountDelta(_Strict):
    """`POST /jobs/updatecounts`: add a signed delta (sent as `count`); 0 sets the count to 0."""

    job_id: str = Field(alias="jobID", min_length=1, max_length=JOB_ID_MAX_CHARS)
    group: str = Field(alias="taskGroup", min_length=1, max_length=JOB_ID_MAX_CHARS)
    delta: int = Field(
        alias="count",
        description="The signed delta; 0 sets the count to 0. A JSON integer literal: "
        '"3", 3.5 and even 3.0 are refused.',
    )


class CountValue(_Strict):
    """`POST /jobs/settaskgroupcount`: set the count."""

    job_id: str = Field(alias="jobID", min_length=1, max_length=JOB_ID_MAX_CHARS)
    group: str = Field(alias="taskGroup", min_length=1, max_length=JOB_ID_MAX_CHARS)
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
    group: str = Field(serialization_alias="taskGroup")
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


# --- parameters and headers: each field says where it goes (`in`) ------------------------


class JobName(BaseModel):
    """The job a route acts on, in its path."""

    job_name: str = Field(
        alias=JOB_NAME, description="The Nomad job ID.", json_schema_extra={"in": "path"}
    )


class LongPoll(BaseModel):
    """The `waitIndex` long poll's inputs (SPEC section 3)."""

    wait_index: int = Field(
        default=0,
        alias=WAIT_INDEX_HEADER,
        ge=0,
        le=10**WAIT_INDEX_MAX_DIGITS - 1,
        description="Answer once the view's index is greater than this (long poll).",
        json_schema_extra={"in": "header"},
    )
    wait: str = Field(
        default=f"{WAIT_DEFAULT_S:g}s",
        alias=WAIT_QUERY,
        pattern=WAIT_PATTERN,
        description="Longest wait: a duration (`30s`, `5m`) or seconds; capped at "
        f"{WAIT_CAP_S:g}s.",
        json_schema_extra={"in": "query"},
    )


class ViewHeaders(BaseModel):
    """Response headers of every view."""

    wait_index: int = Field(
        alias=WAIT_INDEX_HEADER,
        ge=1,
        description="The view's index; send it back as `waitIndex` to wait for a change.",
    )
    last_contact_ms: int = Field(
        alias=LAST_CONTACT_HEADER,
        ge=0,
        description="Milliseconds since the view last heard from Nomad; 0 while its watch of "
        "Nomad is healthy (as Nomad's own `X-Nomad-LastContact`).",
    )


class DashboardFile(BaseModel):
    """A file of the dashboard, in its path."""

    asset: str = Field(
        description="The file's name, e.g. `app.js`.", json_schema_extra={"in": "path"}
    )
