"""`nomad-bridge jobs save-definitions`: the saved definition of every listed job, in the
bridge's own encoding, written only when the stored digest differs."""

from __future__ import annotations

import nomad
import pytest

from nomad_bridge.jobs.definitions import decode_items, definition_path, spec_digest
from nomad_bridge.nomad.models import Job
from nomad_bridge.sim import ThreadHandle
from nomad_bridge.sim.testing import batch_job, service_job
from tests.cli.harness import RunCli, register

PREFIX = "nomad-bridge/jobs"


def saved_variable(client: nomad.Nomad, job_id: str) -> dict[str, object]:
    return dict(client.variable.get_variable(definition_path(PREFIX, job_id)))


def test_save_definitions_writes_every_listed_job_in_the_bridge_encoding(
    run_cli: RunCli, client: nomad.Nomad
) -> None:
    register(client, service_job("web", frontend=2), autostart="true")
    register(client, service_job("web.v2"))

    result = run_cli("save-definitions")

    assert result.code == 0, result.err
    assert result.out.splitlines()[-1] == "2 saved, 0 unchanged, 0 failed (2 jobs)"
    for job_id in ("web", "web.v2"):
        items = saved_variable(client, job_id)["Items"]
        assert isinstance(items, dict)
        stored_id, spec = decode_items(items)
        job = Job.model_validate(client.job.get_job(job_id))
        assert stored_id == job_id
        assert items["digest"] == spec_digest(job.spec()) == spec_digest(spec)


def test_a_second_run_writes_nothing(run_cli: RunCli, client: nomad.Nomad) -> None:
    register(client, service_job("web"))
    register(client, service_job("cache"))
    assert run_cli("save-definitions").code == 0
    before = saved_variable(client, "web")["ModifyIndex"]

    result = run_cli("save-definitions")

    assert (result.code, result.out) == (0, "0 saved, 2 unchanged, 0 failed (2 jobs)\n")
    assert saved_variable(client, "web")["ModifyIndex"] == before


def test_a_changed_spec_is_saved_again_and_stopping_is_not_a_change(
    run_cli: RunCli, client: nomad.Nomad
) -> None:
    register(client, service_job("web", web=1))
    assert run_cli("save-definitions").code == 0
    client.job.deregister_job("web")
    assert run_cli("save-definitions").out.endswith("0 saved, 1 unchanged, 0 failed (1 jobs)\n")

    changed = client.job.get_job("web")
    changed["TaskGroups"][0]["Count"] = 5
    client.jobs.register_job({"Job": changed})

    result = run_cli("save-definitions")

    assert result.out.splitlines() == [
        f"web: saved ({PREFIX}/web)",
        "1 saved, 0 unchanged, 0 failed (1 jobs)",
    ]
    _, spec = decode_items(saved_variable(client, "web")["Items"])  # type: ignore[arg-type]
    assert spec["TaskGroups"][0]["Count"] == 5


def test_child_jobs_get_no_definition(
    run_cli: RunCli, client: nomad.Nomad, nomad_env: ThreadHandle
) -> None:
    register(client, batch_job("nightly") | {"Periodic": {"Spec": "0 3 * * *"}})
    nomad_env.call(lambda sim: sim.controls.add_child_job("nightly"))

    result = run_cli("save-definitions")

    assert result.out.splitlines()[-1] == "1 saved, 0 unchanged, 0 failed (1 jobs)"
    paths = [v["Path"] for v in client.variables.get_variables(prefix=PREFIX)]
    assert paths == [f"{PREFIX}/nightly"]


def test_definitions_go_under_the_configured_prefix(
    run_cli: RunCli, client: nomad.Nomad, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BRIDGE_DEFINITIONS_PREFIX", "ops/saved")
    register(client, service_job("web"))

    assert run_cli("save-definitions").code == 0

    assert [v["Path"] for v in client.variables.get_variables(prefix="ops/")] == ["ops/saved/web"]
