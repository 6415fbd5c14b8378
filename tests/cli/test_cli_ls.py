"""`nomad-bridge jobs ls`: the jobs the Cluster API lists, as a table or as its JSON views."""

from __future__ import annotations

import json

import nomad

from nomad_bridge.jobs.definitions import definition_path, encode_items
from nomad_bridge.sim import ThreadHandle
from nomad_bridge.sim.testing import batch_job, service_job
from tests.cli.harness import RunCli, garbage_collect, register, wait_running


def test_ls_prints_one_row_per_job_with_flags_and_group_counters(
    run_cli: RunCli, client: nomad.Nomad, nomad_env: ThreadHandle
) -> None:
    register(client, service_job("web", frontend=2, api=1), autostart="yes")
    register(client, service_job("cache"), byCluster="true")
    wait_running(nomad_env, "web")
    wait_running(nomad_env, "cache")

    result = run_cli("ls")

    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert lines[0].split() == ["NAME", "STATUS", "AUTOSTART", "BYCLUSTER", "TASK", "GROUPS"]
    assert lines[1].split(maxsplit=4) == ["cache", "running", "false", "true", "main=1 (1 running)"]
    assert lines[2].split(maxsplit=4) == [
        "web",
        "running",
        "true",
        "false",
        "frontend=2 (2 running), api=1 (1 running)",
    ]


def test_ls_json_prints_exactly_the_cluster_api_job_views(
    run_cli: RunCli, client: nomad.Nomad, nomad_env: ThreadHandle
) -> None:
    register(client, service_job("web", frontend=2), autostart="TRUE", byCluster="no")
    wait_running(nomad_env, "web")

    result = run_cli("ls", "--json")

    assert result.code == 0, result.err
    assert json.loads(result.out) == [
        {
            "name": "web",
            "status": "running",
            "autostart": True,
            "byCluster": False,
            "taskGroups": [
                {
                    "name": "frontend",
                    "count": 2,
                    "summary": {
                        "queued": 0,
                        "complete": 0,
                        "failed": 0,
                        "running": 2,
                        "starting": 0,
                        "lost": 0,
                    },
                }
            ],
        }
    ]


def test_ls_shows_a_garbage_collected_job_with_a_saved_definition_as_dead(
    run_cli: RunCli, client: nomad.Nomad, nomad_env: ThreadHandle
) -> None:
    register(client, service_job("old", worker=3), autostart="true")
    assert run_cli("save-definitions").code == 0
    garbage_collect(nomad_env, "old")

    views = json.loads(run_cli("ls", "--json").out)

    assert views == [
        {
            "name": "old",
            "status": "dead",
            "autostart": True,
            "byCluster": False,
            "taskGroups": [
                {
                    "name": "worker",
                    "count": 3,
                    "summary": dict.fromkeys(
                        ("queued", "complete", "failed", "running", "starting", "lost"), 0
                    ),
                }
            ],
        }
    ]


def test_ls_leaves_out_child_jobs(
    run_cli: RunCli, client: nomad.Nomad, nomad_env: ThreadHandle
) -> None:
    nightly = batch_job("nightly") | {"Periodic": {"Spec": "0 3 * * *", "SpecType": "cron"}}
    register(client, nightly)
    child = nomad_env.call(lambda sim: sim.controls.add_child_job("nightly"))
    assert "/" in child

    names = [view["name"] for view in json.loads(run_cli("ls", "--json").out)]

    assert names == ["nightly"]


def test_ls_on_an_empty_cluster_prints_the_header_only(run_cli: RunCli) -> None:
    result = run_cli("ls")
    assert (result.code, result.out.split()) == (
        0,
        ["NAME", "STATUS", "AUTOSTART", "BYCLUSTER", "TASK", "GROUPS"],
    )


def test_ls_skips_an_unreadable_saved_definition_with_a_warning(
    run_cli: RunCli, client: nomad.Nomad
) -> None:
    path = definition_path("nomad-bridge/jobs", "broken")
    client.variable.create_variable(path, {"Items": {"jobID": "broken", "spec": "{"}})
    good = encode_items("gone", service_job("gone") | {"Status": "dead"})
    client.variable.create_variable(definition_path("nomad-bridge/jobs", "gone"), {"Items": good})

    result = run_cli("ls", "--json")

    assert result.code == 0
    assert [view["name"] for view in json.loads(result.out)] == ["gone"]
    assert "definition_unreadable (path='nomad-bridge/jobs/broken'" in result.err
