"""SPEC section 2: the job view, composed from Nomad's objects by pure functions."""

from __future__ import annotations

import pytest

from nomad_bridge.jobs.view import FlagKeys, collected_job_view, flag, job_view, sorted_views
from nomad_bridge.nomad.models import Job, JobSummary

KEYS = FlagKeys(autostart="autostart", by_cluster="byCluster")


def make_job(**fields: object) -> Job:
    spec: dict[str, object] = {
        "ID": "web",
        "Status": "running",
        "Meta": {"autostart": "true", "byCluster": "false"},
        "TaskGroups": [{"Name": "frontend", "Count": 3}, {"Name": "api", "Count": 1}],
    }
    spec.update(fields)
    return Job.model_validate(spec)


def make_summary(**groups: dict[str, int]) -> JobSummary:
    return JobSummary.model_validate({"JobID": "web", "Summary": groups})


def test_job_view_has_exactly_the_cluster_api_key_set() -> None:
    view = job_view(make_job(), make_summary(), KEYS).to_json_dict()
    assert set(view) == {"name", "status", "autostart", "byCluster", "taskGroups"}
    assert set(view["taskGroups"][0]) == {"name", "count", "summary"}  # type: ignore[index]
    assert set(view["taskGroups"][0]["summary"]) == {  # type: ignore[index]
        "queued",
        "complete",
        "failed",
        "running",
        "starting",
        "lost",
    }


def test_task_groups_are_in_job_spec_order_with_spec_counts() -> None:
    view = job_view(make_job(), None, KEYS)
    assert [(g.name, g.count) for g in view.task_groups] == [("frontend", 3), ("api", 1)]


def test_summary_counters_are_lower_cased_and_missing_ones_are_zero() -> None:
    summary = make_summary(frontend={"Running": 2, "Starting": 1, "Complete": 4, "Unknown": 9})
    view = job_view(make_job(), summary, KEYS).to_json_dict()
    groups = view["taskGroups"]
    assert groups[0]["summary"] == {  # type: ignore[index]
        "queued": 0,
        "complete": 4,
        "failed": 0,
        "running": 2,
        "starting": 1,
        "lost": 0,
    }
    assert groups[1]["summary"] == dict.fromkeys(  # type: ignore[index]
        ["queued", "complete", "failed", "running", "starting", "lost"], 0
    )


@pytest.mark.parametrize("value", ["true", "TRUE", "True", "1", "yes", "YES", " yes "])
def test_flag_values_true_1_yes_in_any_case_are_true(value: str) -> None:
    assert flag({"autostart": value}, "autostart") is True


@pytest.mark.parametrize("value", ["false", "0", "no", "on", "y", "", "truthy"])
def test_flag_values_other_than_true_1_yes_are_false(value: str) -> None:
    assert flag({"autostart": value}, "autostart") is False


def test_absent_meta_or_key_is_false() -> None:
    assert flag(None, "autostart") is False
    assert flag({}, "autostart") is False


def test_flags_are_read_under_configured_meta_keys() -> None:
    job = make_job(Meta={"start": "yes", "perCluster": "1", "autostart": "false"})
    view = job_view(job, None, FlagKeys(autostart="start", by_cluster="perCluster"))
    assert (view.autostart, view.by_cluster) == (True, True)


def test_status_is_nomads_job_status() -> None:
    assert job_view(make_job(Status="pending"), None, KEYS).status == "pending"


def test_collected_job_view_is_dead_with_all_zero_summaries() -> None:
    view = collected_job_view(make_job(Status="running"), KEYS)
    assert view.status == "dead"
    assert all(
        g.summary.model_dump() == dict.fromkeys(g.summary.model_dump(), 0) for g in view.task_groups
    )
    assert [g.count for g in view.task_groups] == [3, 1]


def test_views_sort_by_name() -> None:
    views = [job_view(make_job(ID=name), None, KEYS) for name in ["b", "a", "c"]]
    assert [v.name for v in sorted_views(views)] == ["a", "b", "c"]
