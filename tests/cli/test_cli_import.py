"""`nomad-bridge jobs import DIR`: every JSON and HCL job file of a directory registered,
HCL through Nomad's own parser, with `--flag`s added to each job's Meta."""

from __future__ import annotations

import json
from pathlib import Path

import nomad
import pytest

from nomad_bridge.sim.testing import service_job
from tests.cli.harness import RunCli

WEB_HCL = """
job "web" {
  datacenters = ["dc1"]
  meta {
    owner = "team-a"
  }
  group "frontend" {
    count = 2
    task "nginx" {
      driver = "docker"
      config {
        image = "nginx:1.27"
      }
      resources {
        cpu    = 200
        memory = 128
      }
    }
  }
}
"""


def test_import_registers_json_and_hcl_files_and_reports_each(
    run_cli: RunCli, client: nomad.Nomad, tmp_path: Path
) -> None:
    (tmp_path / "cache.json").write_text(json.dumps({"Job": service_job("cache")}))
    (tmp_path / "worker.json").write_text(json.dumps(service_job("worker", work=3)))
    (tmp_path / "web.nomad.hcl").write_text(WEB_HCL)
    (tmp_path / "README.md").write_text("not a job")

    result = run_cli("import", str(tmp_path))

    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert [line.split(":")[0] for line in lines[:3]] == [
        "cache.json",
        "web.nomad.hcl",
        "worker.json",
    ]
    assert "registered job 'web' (evaluation " in lines[1]
    assert lines[-1] == "3 of 3 job files registered"
    assert sorted(job["ID"] for job in client.jobs.get_jobs()) == ["cache", "web", "worker"]
    web = client.job.get_job("web")
    assert web["TaskGroups"][0]["Count"] == 2
    assert web["TaskGroups"][0]["Tasks"][0]["Resources"]["MemoryMB"] == 128
    assert web["Meta"] == {"owner": "team-a"}


def test_import_adds_the_flags_to_every_job(
    run_cli: RunCli, client: nomad.Nomad, tmp_path: Path
) -> None:
    (tmp_path / "cache.json").write_text(json.dumps({"Job": service_job("cache")}))
    (tmp_path / "web.hcl").write_text(WEB_HCL)

    result = run_cli("import", str(tmp_path), "--flag", "autostart=yes", "--flag", "byCluster=0")

    assert result.code == 0, result.err
    assert client.job.get_job("cache")["Meta"] == {"autostart": "true", "byCluster": "false"}
    assert client.job.get_job("web")["Meta"] == {
        "owner": "team-a",
        "autostart": "true",
        "byCluster": "false",
    }


def test_a_failing_file_is_reported_the_others_are_registered_and_the_exit_code_is_1(
    run_cli: RunCli, client: nomad.Nomad, tmp_path: Path
) -> None:
    (tmp_path / "a-good.json").write_text(json.dumps({"Job": service_job("good")}))
    (tmp_path / "b-broken.hcl").write_text('job "broken" {\n  group "g" {\n')
    (tmp_path / "c-not-json.json").write_text("{nope")
    (tmp_path / "d-no-id.json").write_text(json.dumps({"Job": {"Type": "service"}}))

    result = run_cli("import", str(tmp_path))

    assert result.code == 1
    assert result.out.splitlines() == [
        "a-good.json: registered job 'good' (evaluation "
        + result.out.split("(evaluation ")[1].split(")")[0]
        + ")",
        "1 of 4 job files registered",
    ]
    errors = result.err.splitlines()
    assert errors[0].startswith("nomad-bridge: b-broken.hcl: FAILED: parse HCL: Nomad answered")
    assert "400: Failed to parse job: input.hcl:" in errors[0]
    assert errors[1].startswith("nomad-bridge: c-not-json.json: FAILED: ")
    assert errors[2] == (
        "nomad-bridge: d-no-id.json: FAILED: register job None: "
        "Nomad answered 400: Job ID hasn't been provided"
    )
    assert [job["ID"] for job in client.jobs.get_jobs()] == ["good"]


def test_import_of_a_missing_directory_is_a_usage_error(run_cli: RunCli, tmp_path: Path) -> None:
    result = run_cli("import", str(tmp_path / "missing"))
    assert result.code == 2
    assert "not a directory" in result.err


def test_import_of_a_directory_without_job_files_fails(run_cli: RunCli, tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("nothing")
    result = run_cli("import", str(tmp_path))
    assert result.code == 1
    assert "no job files" in result.err


@pytest.mark.parametrize("flag", ["autostart=perhaps", "speed=1"])
def test_a_bad_flag_is_a_usage_error_before_anything_is_registered(
    run_cli: RunCli, client: nomad.Nomad, tmp_path: Path, flag: str
) -> None:
    (tmp_path / "cache.json").write_text(json.dumps({"Job": service_job("cache")}))
    assert run_cli("import", str(tmp_path), "--flag", flag).code == 2
    assert client.jobs.get_jobs() == []
