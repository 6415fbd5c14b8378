"""Nomad models: PascalCase on the wire; a job spec round-trips field for field."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from nomad_bridge.nomad.models import (
    DeregisterResponse,
    Job,
    JobStub,
    JobSummary,
    Variable,
)


def nomad_job() -> dict[str, Any]:
    """A job as GET /v1/job/:id returns it, with fields the models do not declare."""
    return {
        "Stop": False,
        "Region": "global",
        "Namespace": "default",
        "ID": "web",
        "ParentID": "",
        "Name": "web",
        "Type": "service",
        "Priority": 50,
        "AllAtOnce": False,
        "Datacenters": ["dc1"],
        "NodePool": "default",
        "Constraints": None,
        "TaskGroups": [
            {
                "Name": "frontend",
                "Count": 2,
                "Update": {"MaxParallel": 1, "HealthCheck": "checks"},
                "Tasks": [
                    {
                        "Name": "nginx",
                        "Driver": "docker",
                        "Config": {"image": "nginx:1.27-alpine", "ports": ["http"]},
                        "Resources": {"CPU": 100, "MemoryMB": 64},
                    }
                ],
                "Scaling": {"Min": 1, "Max": 10, "Enabled": True, "Policy": {"cooldown": "1m"}},
                "Meta": None,
            },
            {"Name": "api", "Count": 1, "Tasks": []},
        ],
        "Update": {"Stagger": 30000000000, "MaxParallel": 1},
        "Periodic": None,
        "ParameterizedJob": None,
        "Meta": {"autostart": "true"},
        "Status": "running",
        "StatusDescription": "",
        "Stable": True,
        "Version": 4,
        "SubmitTime": 1732700000000000000,
        "CreateIndex": 10,
        "ModifyIndex": 57,
        "JobModifyIndex": 50,
        "UI": None,
    }


def test_a_job_spec_round_trips_every_field() -> None:
    raw = nomad_job()
    job = Job.model_validate(copy.deepcopy(raw))
    assert job.spec() == raw
    assert job.groups[0].scaling is not None
    assert job.groups[0].scaling.max == 10


def test_with_stop_changes_only_stop_and_leaves_the_original() -> None:
    job = Job.model_validate(nomad_job())
    stopped = job.with_stop(True)
    assert stopped.spec() == nomad_job() | {"Stop": True}
    assert job.stop is False
    assert job.spec() == nomad_job()


def test_with_group_count_changes_only_that_count() -> None:
    job = Job.model_validate(nomad_job())
    scaled = job.with_group_count("api", 5)
    expected = nomad_job()
    expected["TaskGroups"][1]["Count"] = 5
    assert scaled.spec() == expected
    original = job.group("api")
    assert original is not None
    assert original.count == 1


def test_with_group_count_of_an_unknown_group_is_a_key_error() -> None:
    with pytest.raises(KeyError):
        Job.model_validate(nomad_job()).with_group_count("nope", 1)


def test_a_spec_is_a_copy() -> None:
    job = Job.model_validate(nomad_job())
    spec = job.spec()
    spec["TaskGroups"][0]["Tasks"][0]["Config"]["image"] = "evil"
    assert job.spec() == nomad_job()


def test_a_job_built_by_name_serialises_to_nomad_names() -> None:
    job = Job(id="batch", task_groups=[{"name": "g", "count": 0}])
    assert job.spec() == {"ID": "batch", "TaskGroups": [{"Name": "g", "Count": 0}]}


def test_a_summary_counter_nomad_leaves_out_is_zero() -> None:
    summary = JobSummary.model_validate(
        {"JobID": "web", "Summary": {"g": {"Running": 2, "Queued": 1}}, "Extra": 1}
    )
    group = summary.summary["g"]
    assert (group.running, group.queued, group.unknown, group.lost) == (2, 1, 0, 0)


def test_a_stub_ignores_fields_it_does_not_know() -> None:
    stub = JobStub.model_validate(
        {"ID": "web", "ParentID": "", "Periodic": False, "Datacenters": ["dc1"], "Priority": 50}
    )
    assert stub.id == "web"
    assert stub.meta is None
    assert not hasattr(stub, "priority")


def test_the_zeroed_deregister_answer_for_an_unknown_job_is_accepted() -> None:
    answer = DeregisterResponse.model_validate(
        {"EvalID": "", "EvalCreateIndex": 0, "JobModifyIndex": 0, "Index": 0}
    )
    assert answer.eval_id == ""
    assert DeregisterResponse.model_validate({}).index == 0


def test_a_variable_reads_nomads_names() -> None:
    variable = Variable.model_validate(
        {"Namespace": "default", "Path": "a/b", "Items": {"k": "v"}, "ModifyIndex": 3}
    )
    assert (variable.path, variable.items, variable.modify_index) == ("a/b", {"k": "v"}, 3)
