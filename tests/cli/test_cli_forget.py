"""`nomad-bridge jobs forget NAME --yes`: a job removed for good, purged in Nomad and its saved
definition deleted (SPEC section 4); without `--yes` only what would happen is printed."""

from __future__ import annotations

import nomad
import pytest
from nomad.api.exceptions import URLNotFoundNomadException

from nomad_bridge.jobs.definitions import definition_path
from nomad_bridge.sim import ThreadHandle
from nomad_bridge.sim.testing import service_job
from tests.cli.harness import RunCli, garbage_collect, register

PREFIX = "nomad-bridge/jobs"


def variable_paths(client: nomad.Nomad) -> list[str]:
    return [v["Path"] for v in client.variables.get_variables(prefix=PREFIX)]


def test_forget_without_yes_changes_nothing_and_says_what_it_would_do(
    run_cli: RunCli, client: nomad.Nomad
) -> None:
    register(client, service_job("web"))
    assert run_cli("save-definitions").code == 0

    result = run_cli("forget", "web")

    assert result.code == 2
    assert result.out.splitlines() == [
        "would purge job 'web' from Nomad (namespace 'default')",
        f"would delete its saved definition (variable '{PREFIX}/web')",
    ]
    assert "--yes" in result.err
    assert client.job.get_job("web")["Stop"] is False
    assert variable_paths(client) == [f"{PREFIX}/web"]


def test_forget_purges_the_job_and_deletes_its_definition(
    run_cli: RunCli, client: nomad.Nomad
) -> None:
    register(client, service_job("web"))
    register(client, service_job("cache"))
    assert run_cli("save-definitions").code == 0

    result = run_cli("forget", "web", "--yes")

    assert result.code == 0, result.err
    assert result.out.splitlines() == [
        "web: purged from Nomad",
        f"web: saved definition deleted ({PREFIX}/web)",
    ]
    with pytest.raises(URLNotFoundNomadException):
        client.job.get_job("web")
    assert variable_paths(client) == [f"{PREFIX}/cache"]
    assert [row.split()[0] for row in run_cli("ls").out.splitlines()[1:]] == ["cache"]


def test_forget_removes_a_garbage_collected_job_known_only_by_its_definition(
    run_cli: RunCli, client: nomad.Nomad, nomad_env: ThreadHandle
) -> None:
    register(client, service_job("old"))
    assert run_cli("save-definitions").code == 0
    garbage_collect(nomad_env, "old")

    result = run_cli("forget", "old", "--yes")

    assert (result.code, result.out) == (0, f"old: saved definition deleted ({PREFIX}/old)\n")
    assert variable_paths(client) == []


def test_forget_purges_a_job_without_a_definition(run_cli: RunCli, client: nomad.Nomad) -> None:
    register(client, service_job("a/b"))

    result = run_cli("forget", "a/b", "--yes")

    assert (result.code, result.out) == (0, "a/b: purged from Nomad\n")
    assert client.jobs.get_jobs() == []


def test_forget_of_an_unknown_job_exits_3(run_cli: RunCli, client: nomad.Nomad) -> None:
    register(client, service_job("web"))
    result = run_cli("forget", "nope", "--yes")
    assert (result.code, result.err) == (3, "nomad-bridge: job 'nope' not found\n")
    assert definition_path(PREFIX, "nope") not in variable_paths(client)
