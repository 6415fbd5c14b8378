"""The bridge's async client of Nomad's HTTP API: settings, client, models and errors.

from nomad_bridge.nomad import NomadClient, NomadSettings, QueryResult
from nomad_bridge.nomad import errors, models
"""

from nomad_bridge.nomad import errors, models
from nomad_bridge.nomad.client import NomadClient
from nomad_bridge.nomad.errors import (
    BadRequest,
    CasConflict,
    DeploymentActive,
    NomadError,
    NotFound,
    PermissionDenied,
    Timeout,
    Unavailable,
    UnexpectedAnswer,
)
from nomad_bridge.nomad.events import EventStream
from nomad_bridge.nomad.models import (
    DeregisterResponse,
    Event,
    EventBatch,
    Job,
    JobStub,
    JobSummary,
    RegisterResponse,
    TaskGroup,
    TaskGroupSummary,
    Variable,
    VariableMeta,
)
from nomad_bridge.nomad.query import QueryResult
from nomad_bridge.nomad.retry import RetryPolicy
from nomad_bridge.nomad.settings import NomadSettings
from nomad_bridge.nomad.transport import RequestHook

__all__ = [
    "BadRequest",
    "CasConflict",
    "DeploymentActive",
    "DeregisterResponse",
    "Event",
    "EventBatch",
    "EventStream",
    "Job",
    "JobStub",
    "JobSummary",
    "NomadClient",
    "NomadError",
    "NomadSettings",
    "NotFound",
    "PermissionDenied",
    "QueryResult",
    "RegisterResponse",
    "RequestHook",
    "RetryPolicy",
    "TaskGroup",
    "TaskGroupSummary",
    "Timeout",
    "Unavailable",
    "UnexpectedAnswer",
    "Variable",
    "VariableMeta",
    "errors",
    "models",
]
