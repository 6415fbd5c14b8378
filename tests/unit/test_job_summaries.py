"""Nomad's job-summary rules (nomad/state/state_store.go), as the watch applies them to
the summary it holds instead of reading it again."""

from __future__ import annotations

from nomad_bridge.jobs.summaries import after_allocation, after_registration
from nomad_bridge.nomad.models import Job, JobSummary, TaskGroup, TaskGroupSummary


def summary(**counters: int) -> JobSummary:
    return JobSummary(
        job_id="web",
        summary={"g": TaskGroupSummary(**counters)},
        create_index=5,
        modify_index=7,
    )


def counters(moved: JobSummary | None) -> dict[str, int]:
    assert moved is not None
    return moved.summary["g"].model_dump()


def test_a_new_allocation_counts_as_starting_and_takes_one_from_queued() -> None:
    moved = after_allocation(summary(queued=2), "g", None, "pending", 9)
    assert counters(moved) == TaskGroupSummary(queued=1, starting=1).model_dump()
    assert moved is not None
    assert moved.modify_index == 9


def test_queued_never_goes_below_zero() -> None:
    assert counters(after_allocation(summary(), "g", None, "pending", 9))["queued"] == 0


def test_a_status_change_moves_one_allocation_between_counters() -> None:
    moved = after_allocation(summary(running=2), "g", "running", "failed", 9)
    assert counters(moved) == TaskGroupSummary(running=1, failed=1).model_dump()


def test_failed_and_complete_are_never_taken_from() -> None:
    moved = after_allocation(summary(failed=1), "g", "failed", "running", 9)
    assert counters(moved) == TaskGroupSummary(failed=1, running=1).model_dump()


def test_an_unchanged_status_changes_nothing() -> None:
    same = summary(running=1)
    assert after_allocation(same, "g", "running", "running", 9) is same


def test_an_unknown_group_or_status_is_left_to_a_read() -> None:
    assert after_allocation(summary(), "other", None, "pending", 9) is None
    assert after_allocation(summary(), "g", "running", "evicted", 9) is None


def test_a_new_job_has_an_all_zero_summary_from_its_registration() -> None:
    job = Job(id="web", create_index=9, task_groups=[TaskGroup(name="a"), TaskGroup(name="b")])
    created = after_registration(None, job, 9)
    assert created is not None
    assert (created.create_index, created.modify_index) == (9, 9)
    assert set(created.summary) == {"a", "b"}


def test_a_job_first_seen_after_its_creation_is_left_to_a_read() -> None:
    job = Job(id="web", create_index=3, task_groups=[TaskGroup(name="g")])
    assert after_registration(None, job, 9) is None


def test_a_registration_adding_a_group_adds_its_zero_counters() -> None:
    job = Job(id="web", create_index=5, task_groups=[TaskGroup(name="g"), TaskGroup(name="h")])
    moved = after_registration(summary(running=1), job, 9)
    assert moved is not None
    assert moved.modify_index == 9
    assert moved.summary["h"] == TaskGroupSummary()
    assert moved.summary["g"].running == 1
