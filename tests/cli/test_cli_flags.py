"""`nomad-bridge jobs flags JOB NAME=VALUE...`: the flags written into the job's Meta through
a check-and-set re-register, retried when another writer got there first."""

from __future__ import annotations

from typing import Any

import nomad
import pytest
from nomad.api.job import Job as JobEndpoint

from nomad_bridge.jobs.definitions import decode_items, definition_path
from nomad_bridge.sim import ThreadHandle
from nomad_bridge.sim.testing import service_job
from tests.cli.harness import RunCli, garbage_collect, register


def meta_of(client: nomad.Nomad, job_id: str) -> dict[str, str]:
    return dict(client.job.get_job(job_id)["Meta"] or {})


def test_flags_sets_the_meta_keys_and_prints_what_changed(
    run_cli: RunCli, client: nomad.Nomad
) -> None:
    register(client, service_job("web"), byCluster="true", owner="team-a")

    result = run_cli("flags", "web", "autostart=yes", "byCluster=0")

    assert result.code == 0, result.err
    assert result.out.splitlines() == [
        'web: autostart: unset -> "true"',
        'web: byCluster: "true" -> "false"',
    ]
    assert meta_of(client, "web") == {"autostart": "true", "byCluster": "false", "owner": "team-a"}


@pytest.mark.parametrize(
    ("given", "written"),
    [
        *[(value, "true") for value in ("true", "TRUE", "1", "Yes")],
        *[(value, "false") for value in ("false", "0", "no", "NO")],
    ],
)
def test_flag_values_are_normalised_to_true_or_false(
    run_cli: RunCli, client: nomad.Nomad, given: str, written: str
) -> None:
    register(client, service_job("web"))
    assert run_cli("flags", "web", f"autostart={given}").code == 0
    assert meta_of(client, "web") == {"autostart": written}


def test_flags_that_already_hold_their_values_change_nothing(
    run_cli: RunCli, client: nomad.Nomad
) -> None:
    register(client, service_job("web"), autostart="true", byCluster="false")
    before = client.job.get_job("web")

    result = run_cli("flags", "web", "autostart=1", "byCluster=no")

    assert (result.code, result.out) == (0, "web: unchanged (autostart=true, byCluster=false)\n")
    after = client.job.get_job("web")
    assert (after["JobModifyIndex"], after["Version"]) == (
        before["JobModifyIndex"],
        before["Version"],
    )


def test_canonical_names_map_to_the_configured_meta_keys(
    run_cli: RunCli, client: nomad.Nomad, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BRIDGE_AUTOSTART_KEY", "bridge.autostart")
    monkeypatch.setenv("BRIDGE_BYCLUSTER_KEY", "bridge.bycluster")
    register(client, service_job("web"))

    result = run_cli("flags", "web", "AutoStart=true", "bridge.bycluster=yes")

    assert result.code == 0, result.err
    assert meta_of(client, "web") == {"bridge.autostart": "true", "bridge.bycluster": "true"}
    assert "autostart (Meta key 'bridge.autostart')" in result.out


def test_a_stopped_job_stays_stopped(run_cli: RunCli, client: nomad.Nomad) -> None:
    register(client, service_job("web"))
    client.job.deregister_job("web")

    assert run_cli("flags", "web", "autostart=false").code == 0

    job = client.job.get_job("web")
    assert (job["Stop"], job["Meta"]) == (True, {"autostart": "false"})


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["autostart=maybe"], "autostart='maybe': the value must be true/false"),
        (["colour=red"], "'colour': unknown flag"),
        (["autostart"], "expected NAME=VALUE"),
        (["autostart=true", "autostart=false"], "given twice"),
    ],
)
def test_bad_assignments_are_usage_errors_and_change_nothing(
    run_cli: RunCli, client: nomad.Nomad, args: list[str], message: str
) -> None:
    register(client, service_job("web"))
    version = client.job.get_job("web")["Version"]

    result = run_cli("flags", "web", *args)

    assert result.code == 2
    assert message in result.err
    assert client.job.get_job("web")["Version"] == version


def test_an_unknown_job_exits_3(run_cli: RunCli) -> None:
    result = run_cli("flags", "nope", "autostart=true")
    assert (result.code, result.err) == (3, "nomad-bridge: job 'nope' not found\n")


def test_a_conflicting_write_is_retried_and_both_changes_survive(
    run_cli: RunCli, client: nomad.Nomad, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another writer re-registers the job between our read and our register: Nomad refuses
    ours (`Enforcing job modify index`), we read again and apply the flags on top."""
    register(client, service_job("web", web=1))
    real_read = JobEndpoint.get_job
    reads: list[str] = []

    def read_then_someone_else_writes(self: JobEndpoint, job_id: str) -> dict[str, Any]:
        job: dict[str, Any] = real_read(self, job_id)
        reads.append(job_id)
        if len(reads) == 1:
            other = real_read(self, job_id)
            other["TaskGroups"][0]["Count"] = 4
            client.jobs.register_job({"Job": other})
        return job

    monkeypatch.setattr(JobEndpoint, "get_job", read_then_someone_else_writes)

    result = run_cli("flags", "web", "autostart=true")

    assert result.code == 0, result.err
    assert len(reads) == 2
    job = client.job.get_job("web")
    assert (job["Meta"], job["TaskGroups"][0]["Count"]) == ({"autostart": "true"}, 4)


def test_flags_give_up_after_repeated_conflicts_and_say_so(
    run_cli: RunCli, client: nomad.Nomad, monkeypatch: pytest.MonkeyPatch
) -> None:
    register(client, service_job("web", web=1))
    real_read = JobEndpoint.get_job

    def always_stale(self: JobEndpoint, job_id: str) -> dict[str, Any]:
        job: dict[str, Any] = real_read(self, job_id)
        other = real_read(self, job_id)
        other["TaskGroups"][0]["Count"] += 1  # a new version after every read
        client.jobs.register_job({"Job": other})
        return job

    monkeypatch.setattr(JobEndpoint, "get_job", always_stale)
    monkeypatch.setattr("nomad_bridge.operator.commands.CAS_BACKOFF_S", 0.0)

    result = run_cli("flags", "web", "autostart=true")

    assert result.code == 1
    assert "kept changing" in result.err
    assert "autostart" not in (client.job.get_job("web")["Meta"] or {})


def test_a_garbage_collected_job_gets_its_saved_definition_updated(
    run_cli: RunCli, client: nomad.Nomad, nomad_env: ThreadHandle
) -> None:
    register(client, service_job("old"), autostart="true")
    assert run_cli("save-definitions").code == 0
    garbage_collect(nomad_env, "old")

    result = run_cli("flags", "old", "autostart=false")

    assert result.code == 0, result.err
    assert "saved definition" in result.out
    variable = client.variable.get_variable(definition_path("nomad-bridge/jobs", "old"))
    _, spec = decode_items(variable["Items"])
    assert spec["Meta"] == {"autostart": "false"}
    assert run_cli("flags", "old", "autostart=false").out.startswith("old: unchanged")
