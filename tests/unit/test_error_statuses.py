"""SPEC section 2 (Errors): every error class has a deliberate HTTP status, found along its
MRO, so that a new subclass answers as its base does instead of falling through to 502."""

from __future__ import annotations

import pytest

from nomad_bridge.api.problems import detail_for, status_for
from nomad_bridge.jobs import errors as domain
from nomad_bridge.jobs.bulk import DeadlinePassed
from nomad_bridge.nomad import errors as nomad

PATH = "/v1/job/web"
NOMAD_STATUSES: dict[type[nomad.NomadError], int] = {
    nomad.NomadError: 502,
    nomad.NotFound: 404,
    nomad.PermissionDenied: 403,
    nomad.CasConflict: 409,
    nomad.BadRequest: 400,
    nomad.DeploymentActive: 400,
    nomad.Unavailable: 503,
    nomad.TLSFailure: 503,
    nomad.Timeout: 504,
    nomad.UnexpectedAnswer: 502,
    nomad.UnroutableID: 400,
    DeadlinePassed: 504,  # startall/stopall: a job unfinished at the bulk deadline
}
DOMAIN_ERRORS: list[tuple[domain.BridgeError, int]] = [
    (domain.JobNotFound("web"), 404),
    (domain.TaskGroupNotFound("web", "api"), 404),
    (domain.CountOutOfRange("below 0"), 400),
    (domain.CountChangeConflict("kept changing"), 409),
    (domain.BridgeError("unclassified"), 500),
]


def _subclasses(cls: type[nomad.NomadError]) -> set[type[nomad.NomadError]]:
    """The class and every subclass the bridge defines (not those a test makes up)."""
    found = {cls}
    for sub in cls.__subclasses__():
        if sub.__module__.startswith("nomad_bridge."):
            found |= _subclasses(sub)
    return found


def test_every_nomad_error_class_has_a_decided_status() -> None:
    assert _subclasses(nomad.NomadError) == set(NOMAD_STATUSES)


@pytest.mark.parametrize(("error_class", "status"), NOMAD_STATUSES.items())
def test_each_nomad_error_maps_to_its_status(
    error_class: type[nomad.NomadError], status: int
) -> None:
    error = (
        DeadlinePassed("the deadline passed")
        if error_class is DeadlinePassed
        else error_class("Nomad's words", path=PATH, status=None)
    )
    assert status_for(error) == status


@pytest.mark.parametrize(("error", "status"), DOMAIN_ERRORS)
def test_each_domain_error_maps_to_its_status(error: domain.BridgeError, status: int) -> None:
    assert status_for(error) == status


def test_nomad_refusing_a_request_is_400_with_nomads_reason() -> None:
    """Nomad's 400 (e.g. a count outside the group's scaling policy) is the client's 400."""
    refused = nomad.BadRequest(
        "group count was greater than scaling policy maximum: 11 > 10", path=PATH, status=400
    )
    assert status_for(refused) == 400
    assert "scaling policy maximum" in detail_for(refused)


def test_a_subclass_nobody_mapped_answers_as_its_base() -> None:
    class Throttled(nomad.Unavailable):
        """A kind of unavailability added later."""

    assert status_for(Throttled("slow down", path=PATH)) == 503
