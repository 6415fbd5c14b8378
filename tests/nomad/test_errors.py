"""error_for_answer: the one mapping from Nomad's answer to an error (full table).

The client tests show each mapping again from real simulator answers; this table also
covers answers the simulator does not give (a proxy's 502, no leader)."""

from __future__ import annotations

import json

import pytest

from nomad_bridge.nomad import errors
from nomad_bridge.nomad.errors import error_for_answer

JOB = "/v1/job/web"
SCALE = "/v1/job/web/scale"
VAR = "/v1/var/nomad-bridge%2Fjobs%2Fweb"

TABLE = [
    (404, "job not found", JOB, errors.NotFound),
    (404, "", "/v1/nonsense", errors.NotFound),
    (403, "Permission denied", JOB, errors.PermissionDenied),
    (403, "ACL token not found", JOB, errors.PermissionDenied),
    (400, "Job ID does not match name", JOB, errors.BadRequest),
    (400, "job scaling blocked due to active deployment", SCALE, errors.DeploymentActive),
    (400, "scaling action count can't be negative", SCALE, errors.BadRequest),
    (
        500,
        "Enforcing job modify index 3: job exists with conflicting job modify index: 9",
        "/v1/jobs",
        errors.CasConflict,
    ),
    (500, "Enforcing job modify index 0: job already exists", "/v1/jobs", errors.CasConflict),
    (
        500,
        "1 error occurred:\n\t* Missing job task groups\n\n",
        "/v1/jobs",
        errors.UnexpectedAnswer,
    ),
    (500, "No cluster leader", JOB, errors.Unavailable),
    (500, "rpc error: No cluster leader", JOB, errors.Unavailable),
    (500, 'job "web" is in nonexistent namespace "x"', "/v1/jobs", errors.UnexpectedAnswer),
    (502, "<html>Bad Gateway</html>", JOB, errors.Unavailable),
    (503, "", JOB, errors.Unavailable),
    (504, "upstream timed out", JOB, errors.Unavailable),
    (405, "Invalid method", JOB, errors.UnexpectedAnswer),
    (302, "", JOB, errors.UnexpectedAnswer),
]


@pytest.mark.parametrize(("status", "text", "path", "kind"), TABLE)
def test_each_answer_maps_to_its_error(
    status: int, text: str, path: str, kind: type[errors.NomadError]
) -> None:
    error = error_for_answer(status, text, path)
    assert type(error) is kind
    assert error.status == status
    assert error.path == path


def test_a_deployment_refusal_is_still_a_bad_request() -> None:
    error = error_for_answer(400, "job scaling blocked due to active deployment", SCALE)
    assert isinstance(error, errors.BadRequest)


def test_an_enforce_index_conflict_carries_the_current_index() -> None:
    text = "Enforcing job modify index 3: job exists with conflicting job modify index: 9"
    error = error_for_answer(500, text, "/v1/jobs")
    assert isinstance(error, errors.CasConflict)
    assert error.current_index == 9
    assert error.message == text


def test_a_variable_conflict_carries_the_variable_nomad_holds() -> None:
    held = {
        "Namespace": "default",
        "Path": "nomad-bridge/jobs/web",
        "Items": {"spec": "{}"},
        "CreateIndex": 5,
        "ModifyIndex": 12,
    }
    error = error_for_answer(409, json.dumps(held), VAR)
    assert isinstance(error, errors.CasConflict)
    assert error.variable is not None
    assert error.variable.modify_index == 12
    assert error.variable.items == {"spec": "{}"}


def test_a_variable_conflict_on_an_absent_variable_has_an_empty_one() -> None:
    body = json.dumps({"Namespace": "default", "Path": "nomad-bridge/jobs/web"})
    error = error_for_answer(409, body, VAR)
    assert isinstance(error, errors.CasConflict)
    assert error.variable is not None
    assert (error.variable.modify_index, error.variable.items) == (0, {})


def test_a_conflict_body_that_is_not_json_still_is_a_conflict() -> None:
    error = error_for_answer(409, "cas error: something", VAR)
    assert isinstance(error, errors.CasConflict)
    assert error.variable is None


def test_a_long_answer_is_shortened_in_the_message() -> None:
    error = error_for_answer(502, "x" * 10_000, JOB)
    assert len(str(error)) < 600


def test_str_names_the_message_status_and_path() -> None:
    assert str(error_for_answer(404, "job not found", JOB)) == "job not found (404 /v1/job/web)"
