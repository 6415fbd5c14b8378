"""Contract: python-nomad, a third-party synchronous Nomad client, works against the simulator.

python-nomad (jrxFive/python-nomad 2.1) was written against real Nomad; nobody here wrote it. Each
test drives it over loopback against the simulator served in its own thread (`threaded_sim`), and
pins one Nomad fact that the client relies on. Sources are Nomad v1.9.x docs
(`website/content/api-docs/*.mdx`) and Go code (`command/agent/*.go`, `nomad/*.go`), and
python-nomad's `nomad/api/*.py`.
"""

from __future__ import annotations

from typing import Any, TypeVar

import nomad
import pytest
from nomad.api import exceptions as nomad_exc

from tests.sim.harness import config_with, python_nomad
from tests.support import job_spec, wait_until_sync

T = TypeVar("T")

ACL_TOKEN = "s3cret"


pytestmark = pytest.mark.usefixtures("no_nomad_environment")


@pytest.fixture
def client(threaded_sim: Any) -> nomad.Nomad:
    return python_nomad(threaded_sim.url)


# --- jobs ------------------------------------------------------------------------------------


def test_register_job_answers_eval_id_and_indexes(client: nomad.Nomad) -> None:
    """`PUT /v1/jobs` answers EvalID, EvalCreateIndex, JobModifyIndex, Index (JobRegisterResponse).

    Source: api-docs/jobs.mdx "Create Job" sample response; nomad/structs/structs.go
    JobRegisterResponse; python-nomad nomad/api/jobs.py `register_job` returns `.json()`.
    """
    answer = client.jobs.register_job({"Job": job_spec("pn-register")})

    assert isinstance(answer["EvalID"], str)
    assert answer["EvalID"]
    assert answer["EvalCreateIndex"] > 0
    assert answer["JobModifyIndex"] > 0
    assert answer["Index"] > 0
    assert isinstance(answer["Warnings"], str)


def test_get_jobs_lists_stub_with_summary(client: nomad.Nomad) -> None:
    """`GET /v1/jobs` lists JobListStubs that embed the JobSummary.

    Source: api-docs/jobs.mdx "List Jobs" sample response; nomad/structs/structs.go
    JobListStub and Job.Stub.
    """
    client.jobs.register_job({"Job": job_spec("pn-list")})

    stubs = client.jobs.get_jobs()

    assert [s["ID"] for s in stubs] == ["pn-list"]
    stub = stubs[0]
    assert stub["Name"] == "pn-list"
    assert stub["Type"] == "service"
    assert stub["ParentID"] == ""
    assert stub["JobSummary"]["JobID"] == "pn-list"
    assert "web" in stub["JobSummary"]["Summary"]
    assert stub["JobModifyIndex"] > 0


def test_get_jobs_prefix_filters_by_id_prefix_in_id_order(client: nomad.Nomad) -> None:
    """`GET /v1/jobs?prefix=` returns only jobs whose ID starts with the prefix, ordered by ID.

    Source: api-docs/jobs.mdx "List Jobs" (`prefix`); nomad/job_endpoint.go Job.List
    (JobsByIDPrefix over the ID index).
    """
    for job_id in ("pn-beta", "other", "pn-alpha"):
        client.jobs.register_job({"Job": job_spec(job_id)})

    stubs = client.jobs.get_jobs(prefix="pn-")

    assert [s["ID"] for s in stubs] == ["pn-alpha", "pn-beta"]


def test_get_jobs_meta_true_adds_meta_to_stubs(client: nomad.Nomad) -> None:
    """`GET /v1/jobs?meta=true` adds each job's Meta to the stub; without it the key is absent.

    python-nomad sends `meta=True`, which Go's strconv.ParseBool accepts.
    Source: api-docs/jobs.mdx "List Jobs" (`meta`); command/agent/job_endpoint.go
    jobListRequest (parseBool "meta"); nomad/structs/structs.go Job.Stub (Fields.Meta).
    """
    client.jobs.register_job({"Job": job_spec("pn-meta", Meta={"autostart": "true"})})

    with_meta = client.jobs.get_jobs(meta=True)
    without_meta = client.jobs.get_jobs()

    assert with_meta[0]["Meta"] == {"autostart": "true"}
    assert "Meta" not in without_meta[0]


def test_get_job_reads_the_full_job(client: nomad.Nomad) -> None:
    """`GET /v1/job/:id` returns the full Job with Version 0 after the first registration.

    Source: api-docs/jobs.mdx "Read Job"; nomad/state/state_store.go upsertJobImpl (Version 0
    for a new job).
    """
    client.jobs.register_job({"Job": job_spec("pn-read", {"web": 2}, Meta={"k": "v"})})

    job = client.job.get_job("pn-read")

    assert job["ID"] == "pn-read"
    assert job["Name"] == "pn-read"
    assert job["Version"] == 0
    assert job["Stop"] is False
    assert job["Meta"] == {"k": "v"}
    assert [(g["Name"], g["Count"]) for g in job["TaskGroups"]] == [("web", 2)]
    assert job["CreateIndex"] == job["JobModifyIndex"]


def test_get_summary_reports_group_counters_and_children(client: nomad.Nomad) -> None:
    """`GET /v1/job/:id/summary` has Summary{group:{Queued..Unknown}} and Children.

    Source: api-docs/jobs.mdx "Read Job Summary"; nomad/structs/structs.go JobSummary,
    TaskGroupSummary (Unknown since v1.5), JobChildrenSummary.
    """
    client.jobs.register_job({"Job": job_spec("pn-summary", {"web": 2})})

    summary = client.job.get_summary("pn-summary")

    assert summary["JobID"] == "pn-summary"
    assert summary["Namespace"] == "default"
    counters = summary["Summary"]["web"]
    assert set(counters) >= {"Queued", "Complete", "Failed", "Running", "Starting", "Lost"}
    assert "Unknown" in counters
    assert set(summary["Children"]) >= {"Pending", "Running", "Dead"}


def test_get_versions_lists_every_version_newest_first(client: nomad.Nomad) -> None:
    """`GET /v1/job/:id/versions` returns {"Versions": [...]} newest first; a changed spec adds one.

    Source: api-docs/jobs.mdx "List Job Versions"; command/agent/job_endpoint.go jobVersions
    (returns JobVersionsResponse); nomad/state/state_store.go JobVersionsByID (sorted by
    version, descending).
    """
    client.jobs.register_job({"Job": job_spec("pn-versions", {"web": 1})})
    client.jobs.register_job({"Job": job_spec("pn-versions", {"web": 3})})

    answer = client.job.get_versions("pn-versions")

    assert [v["Version"] for v in answer["Versions"]] == [1, 0]
    assert [v["TaskGroups"][0]["Count"] for v in answer["Versions"]] == [3, 1]


def test_get_allocations_lists_the_jobs_allocations(client: nomad.Nomad) -> None:
    """`GET /v1/job/:id/allocations` lists AllocListStubs for the job, one per placed instance.

    Source: api-docs/jobs.mdx "List Job Allocations"; nomad/structs/structs.go AllocListStub
    (JobID, TaskGroup, ClientStatus, DesiredStatus).
    """
    client.jobs.register_job({"Job": job_spec("pn-allocs", {"web": 2})})

    allocs = wait_until_sync(
        lambda: a if len(a := client.job.get_allocations("pn-allocs")) == 2 else None,
        what="two allocations",
    )

    assert {a["JobID"] for a in allocs} == {"pn-allocs"}
    assert {a["TaskGroup"] for a in allocs} == {"web"}
    assert len({a["ID"] for a in allocs}) == 2
    for alloc in allocs:
        assert alloc["DesiredStatus"] == "run"
        assert alloc["ClientStatus"] in {"pending", "running"}


def test_deregister_stops_job_with_new_version(client: nomad.Nomad) -> None:
    """`DELETE /v1/job/:id` (no purge) keeps the job readable with Stop true and Version + 1.

    Source: api-docs/jobs.mdx "Stop a Job"; nomad/fsm.go handleJobDeregister (copies the job
    with Stop=true and upserts it, which writes a new version).
    """
    client.jobs.register_job({"Job": job_spec("pn-stop")})

    answer = client.job.deregister_job("pn-stop")
    job = client.job.get_job("pn-stop")

    assert answer["EvalID"]
    assert job["Stop"] is True
    assert job["Version"] == 1
    assert job["JobModifyIndex"] == answer["JobModifyIndex"]


def test_deregister_purge_then_read_is_not_found(client: nomad.Nomad) -> None:
    """`DELETE /v1/job/:id?purge=true` removes the job: a later read is 404.

    python-nomad sends `purge=True`, which Go's strconv.ParseBool accepts.
    Source: api-docs/jobs.mdx "Stop a Job" (`purge`); command/agent/job_endpoint.go jobDelete
    and jobQuery (404 "job not found").
    """
    client.jobs.register_job({"Job": job_spec("pn-purge")})

    client.job.deregister_job("pn-purge", purge=True)

    with pytest.raises(nomad_exc.URLNotFoundNomadException):
        client.job.get_job("pn-purge")


def test_unknown_job_raises_not_found(client: nomad.Nomad) -> None:
    """Reading a job that does not exist is 404, which python-nomad maps to URLNotFound.

    Source: command/agent/job_endpoint.go jobQuery (CodedError(404, "job not found"));
    python-nomad nomad/api/base.py (404 → URLNotFoundNomadException).
    """
    with pytest.raises(nomad_exc.URLNotFoundNomadException) as caught:
        client.job.get_job("pn-nope")

    assert caught.value.nomad_resp.text == "job not found"


def test_enforce_index_conflict_is_a_plain_500(client: nomad.Nomad) -> None:
    """An EnforceIndex conflict is HTTP 500 with text `Enforcing job modify index ...`.

    python-nomad therefore raises the base exception, not a subclass.
    Source: nomad/job_endpoint.go Job.Register (fmt.Errorf with RegisterEnforceIndexErrPrefix);
    command/agent/http.go wrap (uncoded error → 500); python-nomad nomad/api/base.py.
    """
    client.jobs.register_job({"Job": job_spec("pn-cas")})

    with pytest.raises(nomad_exc.BaseNomadException) as caught:
        client.jobs.register_job(
            {"Job": job_spec("pn-cas", {"web": 5}), "EnforceIndex": True, "JobModifyIndex": 999999}
        )

    assert type(caught.value) is nomad_exc.BaseNomadException
    assert caught.value.nomad_resp.status_code == 500
    assert caught.value.nomad_resp.text.startswith("Enforcing job modify index")
    assert client.job.get_job("pn-cas")["TaskGroups"][0]["Count"] == 1


# --- variables -------------------------------------------------------------------------------


def test_create_variable_answers_the_stored_variable(client: nomad.Nomad) -> None:
    """`PUT /v1/var/:path` answers the stored variable, Items included.

    Source: api-docs/variables/variables.mdx "Create Variable"; command/agent/
    variable_endpoint.go variableUpsert (returns out.Output).
    """
    stored = client.variable.create_variable("pn/config", {"Items": {"color": "blue"}})

    assert stored["Path"] == "pn/config"
    assert stored["Namespace"] == "default"
    assert stored["Items"] == {"color": "blue"}
    assert stored["ModifyIndex"] > 0
    assert stored["CreateIndex"] == stored["ModifyIndex"]


def test_create_variable_cas_zero_on_existing_raises_variable_conflict(
    client: nomad.Nomad,
) -> None:
    """`?cas=0` creates only if absent; on an existing variable it is a 409 conflict.

    Source: api-docs/variables/variables.mdx (`cas`); nomad/state/state_store_variables.go
    varSetCASTxn; python-nomad nomad/api/base.py (409 → VariableConflict).
    """
    created = client.variable.create_variable("pn/cas", {"Items": {"a": "1"}}, cas=0)

    with pytest.raises(nomad_exc.VariableConflict) as caught:
        client.variable.create_variable("pn/cas", {"Items": {"a": "2"}}, cas=0)

    assert caught.value.nomad_resp.status_code == 409
    conflict = caught.value.nomad_resp.json()
    assert conflict["ModifyIndex"] == created["ModifyIndex"]
    assert conflict["Items"] == {"a": "1"}
    assert client.variable.get_variable("pn/cas")["Items"] == {"a": "1"}


def test_get_variable_reads_items(client: nomad.Nomad) -> None:
    """`GET /v1/var/:path` returns the decrypted variable with its Items.

    Source: api-docs/variables/variables.mdx "Read Variable"; command/agent/
    variable_endpoint.go variableQuery.
    """
    client.variable.create_variable("pn/read", {"Items": {"user": "me", "pass": "x"}})

    got = client.variable.get_variable("pn/read")

    assert got["Path"] == "pn/read"
    assert got["Items"] == {"user": "me", "pass": "x"}


def test_get_variables_lists_metadata_without_items(client: nomad.Nomad) -> None:
    """`GET /v1/vars?prefix=` lists variable metadata (no Items) for paths with the prefix.

    Source: api-docs/variables/variables.mdx "List Variables"; nomad/variables_endpoint.go
    Variables.List (VariableMetadata stubs, prefix filter).
    """
    client.variable.create_variable("pn/list/a", {"Items": {"k": "1"}})
    client.variable.create_variable("pn/list/b", {"Items": {"k": "2"}})
    client.variable.create_variable("elsewhere", {"Items": {"k": "3"}})

    listed = client.variables.get_variables(prefix="pn/list")

    assert sorted(v["Path"] for v in listed) == ["pn/list/a", "pn/list/b"]
    for meta in listed:
        assert "Items" not in meta
        assert meta["Namespace"] == "default"


def test_delete_variable_then_get_is_not_found(client: nomad.Nomad) -> None:
    """`DELETE /v1/var/:path` succeeds with 204 and a later read is 404.

    Source: command/agent/variable_endpoint.go variableDelete (204) and variableQuery
    (404 "variable not found").
    """
    client.variable.create_variable("pn/gone", {"Items": {"k": "v"}})

    answer = client.variable.delete_variable("pn/gone")

    assert answer.status_code == 204
    with pytest.raises(nomad_exc.URLNotFoundNomadException) as caught:
        client.variable.get_variable("pn/gone")
    assert caught.value.nomad_resp.text == "variable not found"


# --- ACL -------------------------------------------------------------------------------------


class TestWithAcl:
    """A simulator with ACLs enabled: one management token, no anonymous access."""

    @pytest.fixture
    def sim_config(self, sim_config: Any) -> Any:
        return config_with(sim_config, acl_token=ACL_TOKEN)

    def test_wrong_token_raises_not_authorized(self, threaded_sim: Any) -> None:
        """A wrong token is 403 `Permission denied`, python-nomad's URLNotAuthorized.

        Source: api-docs/index.mdx "ACLs"; command/agent/http.go wrap (suffix
        "Permission denied" / "ACL token not found" → 403); python-nomad base.py.
        """
        wrong = python_nomad(threaded_sim.url, token="not-the-token")

        with pytest.raises(nomad_exc.URLNotAuthorizedNomadException) as caught:
            wrong.jobs.get_jobs()

        assert caught.value.nomad_resp.status_code == 403

    def test_right_token_is_accepted(self, threaded_sim: Any) -> None:
        """The configured token (sent as X-Nomad-Token) may register and list jobs.

        Source: api-docs/index.mdx "Authentication"; command/agent/http.go parseToken;
        python-nomad nomad/api/base.py (token in X-Nomad-Token).
        """
        right = python_nomad(threaded_sim.url, token=ACL_TOKEN)

        right.jobs.register_job({"Job": job_spec("pn-acl")})

        assert [s["ID"] for s in right.jobs.get_jobs()] == ["pn-acl"]
