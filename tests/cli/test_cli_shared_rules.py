"""The operator CLI answers with the server's rules: it lists exactly the jobs `GET /jobs`
lists, and a job ID Nomad would route to another job or endpoint never reaches Nomad."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer

from nomad_bridge.app import create_app
from nomad_bridge.cli import main
from nomad_bridge.jobs.definitions import definition_path, encode_items
from nomad_bridge.nomad import NomadSettings
from nomad_bridge.settings import BridgeSettings
from nomad_bridge.sim import SimServer, Simulator
from nomad_bridge.sim.testing import batch_job, service_job, summary_of, wait_until
from tests.cli.harness import RunCli

PREFIX = "nomad-bridge/jobs"
AGREE_TIMEOUT_S = 10.0


async def test_ls_lists_exactly_what_get_jobs_lists(
    simulator: Simulator,
    sim_server: SimServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Jobs in Nomad, a child job, a job whose ID Nomad would route to a sub-resource, and a
    job known only by its saved definition: both answer the same views, in the same order."""
    simulator.register_job_spec(service_job("web", frontend=2) | {"Meta": {"autostart": "yes"}})
    simulator.register_job_spec(batch_job("nightly") | {"Periodic": {"Spec": "0 3 * * *"}})
    simulator.controls.add_child_job("nightly")
    simulator.register_job_spec(service_job("web/summary"))
    gone = encode_items("gone", service_job("gone", worker=3) | {"Status": "dead"})
    async with aiohttp.ClientSession() as session:
        url = f"{sim_server.url}/v1/var/{definition_path(PREFIX, 'gone')}"
        async with session.put(url, json={"Items": gone}) as put:
            assert put.status == 200
    await wait_until(simulator, lambda: summary_of(simulator, "web")["frontend"]["Running"] == 2)
    monkeypatch.setenv("NOMAD_ADDR", sim_server.url)
    capsys.readouterr()

    code = await asyncio.to_thread(main, ["jobs", "ls", "--json"])

    assert code == 0
    from_cli: list[dict[str, Any]] = json.loads(capsys.readouterr().out)
    assert [view["name"] for view in from_cli] == ["gone", "nightly", "web"]
    app = create_app(BridgeSettings(), NomadSettings(addr=sim_server.url))
    async with TestClient(TestServer(app)) as bridge, asyncio.timeout(AGREE_TIMEOUT_S):
        index = "0"  # long-poll the bridge's view until it agrees (it syncs from Nomad)
        while True:
            answer = await bridge.get("/jobs", headers={"waitIndex": index})
            if await answer.json() == from_cli:
                break
            index = answer.headers["waitIndex"]


@pytest.mark.parametrize("job_id", ["web/summary", "..", "a/../b"])
def test_a_job_id_nomad_would_route_elsewhere_never_reaches_nomad(
    run_cli: RunCli, simulator: Simulator, job_id: str
) -> None:
    simulator.controls.reset_request_counts()

    result = run_cli("forget", job_id, "--yes")

    assert result.code == 1
    assert "cannot be sent to Nomad safely" in result.err
    assert not [call for call in simulator.controls.request_counts if "/v1/job/" in call]
