"""Test controls: outages, latency, request counts, and the same controls over `/_sim/`."""

from __future__ import annotations

import asyncio
import socket

import aiohttp
import pytest

from nomad_bridge.sim import SimServer, Simulator
from nomad_bridge.sim.testing import batch_job, job_status, service_job, summary_of, wait_until
from tests import support

CONDITION_TIMEOUT_S = 5.0


async def fetch(url: str, method: str = "GET", **kwargs: object) -> tuple[int, str]:
    async with (
        aiohttp.ClientSession() as http,
        http.request(method, url, **kwargs) as resp,  # type: ignore[arg-type]
    ):
        return resp.status, await resp.text()


async def test_unavailable_outage_answers_503_until_cleared(
    simulator: Simulator, sim_server: SimServer
) -> None:
    """`unavailable` stands for Nomad without a leader behind a proxy: 503, text body
    `No cluster leader`; clearing it restores normal answers."""
    simulator.controls.set_outage("unavailable")
    assert await fetch(f"{sim_server.url}/v1/jobs") == (503, "No cluster leader")
    simulator.controls.set_outage(None)
    assert await fetch(f"{sim_server.url}/v1/jobs") == (200, "[]")


async def test_hang_outage_holds_requests_until_cleared(
    simulator: Simulator, sim_server: SimServer
) -> None:
    """`hang` accepts requests and never answers them until the outage is cleared."""
    simulator.controls.set_outage("hang")
    pending = asyncio.create_task(fetch(f"{sim_server.url}/v1/jobs"))
    await support.wait_until(lambda: simulator.controls.request_counts["GET /v1/jobs"] == 1)
    assert not pending.done()
    simulator.controls.set_outage(None)
    assert await asyncio.wait_for(pending, CONDITION_TIMEOUT_S) == (200, "[]")


async def test_refuse_outage_closes_the_port_and_reopens_it(
    simulator: Simulator, sim_server: SimServer
) -> None:
    """`refuse` closes the listening socket (connections are refused, open ones dropped);
    clearing it listens again on the same port."""
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{sim_server.url}/v1/jobs") as resp:
            assert resp.status == 200
        simulator.controls.set_outage("refuse")
        with pytest.raises(aiohttp.ClientConnectionError):
            async with http.get(f"{sim_server.url}/v1/jobs") as resp:
                await resp.read()
    with pytest.raises(aiohttp.ClientConnectorError):
        await fetch(f"{sim_server.url}/v1/jobs")
    simulator.controls.set_outage(None)
    assert await fetch(f"{sim_server.url}/v1/jobs") == (200, "[]")


async def test_refuse_keeps_the_port_so_that_clearing_it_always_listens_again(
    simulator: Simulator, sim_server: SimServer
) -> None:
    """While refusing, the port stays bound to the simulator without listening: nothing else
    can take it meanwhile (another server, or an outgoing connection's ephemeral port on a
    busy machine), so clearing the outage never fails with "address already in use"."""
    simulator.controls.set_outage("refuse")
    try:
        with socket.socket() as other, pytest.raises(OSError, match="in use"):
            other.bind(("127.0.0.1", sim_server.port))
        with pytest.raises(aiohttp.ClientConnectorError):
            await fetch(f"{sim_server.url}/v1/jobs")
    finally:
        simulator.controls.set_outage(None)
    assert await fetch(f"{sim_server.url}/v1/jobs") == (200, "[]")


async def test_latency_delays_each_request(simulator: Simulator, sim_server: SimServer) -> None:
    """Latency is added before the request is handled."""
    simulator.controls.set_latency(0.1)
    loop = asyncio.get_running_loop()
    started = loop.time()
    await fetch(f"{sim_server.url}/v1/status/leader")
    assert loop.time() - started >= 0.1
    simulator.controls.set_latency(0)


async def test_request_counts_per_method_and_raw_path(
    simulator: Simulator, sim_server: SimServer
) -> None:
    """Counts are keyed "METHOD /raw/path" (no query); control paths are not counted."""
    await fetch(f"{sim_server.url}/v1/jobs?prefix=a")
    await fetch(f"{sim_server.url}/v1/jobs")
    await fetch(f"{sim_server.url}/v1/job/a%2Fb")
    await fetch(f"{sim_server.url}/_sim/state")
    counts = simulator.controls.request_counts
    assert counts == {"GET /v1/jobs": 2, "GET /v1/job/a%2Fb": 1}
    simulator.controls.reset_request_counts()
    assert simulator.controls.request_counts == {}


async def test_http_controls_drive_the_same_knobs(
    simulator: Simulator, sim_server: SimServer
) -> None:
    """Every control is reachable as JSON under /_sim/, a path real Nomad never serves."""
    url = sim_server.url
    simulator.register_job_spec(service_job("web", web=2))
    await wait_until(simulator, lambda: summary_of(simulator, "web")["web"]["Running"] == 2)

    status, _ = await fetch(f"{url}/_sim/outage", "POST", json={"mode": "unavailable"})
    assert status == 200
    assert (await fetch(f"{url}/v1/jobs"))[0] == 503
    await fetch(f"{url}/_sim/outage", "POST", json={"mode": None})
    assert (await fetch(f"{url}/v1/jobs"))[0] == 200

    await fetch(f"{url}/_sim/fail", "POST", json={"job": "web", "group": "web", "count": 1})
    assert summary_of(simulator, "web")["web"]["Failed"] == 1
    await fetch(f"{url}/_sim/lose", "POST", json={"job": "web", "group": "web"})
    await wait_until(simulator, lambda: summary_of(simulator, "web")["web"]["Lost"] == 1)

    await fetch(f"{url}/_sim/latency", "POST", json={"seconds": 0.01})
    assert simulator.controls.latency_s == 0.01
    await fetch(f"{url}/_sim/hold-deployments", "POST", json={"hold": True})
    assert simulator.scheduler.hold_deployments is True

    parent = batch_job("nightly")
    parent["Periodic"] = {"Spec": "@daily"}
    simulator.register_job_spec(parent)
    status, body = await fetch(f"{url}/_sim/child", "POST", json={"parent": "nightly"})
    assert status == 200
    assert '"nightly/periodic-' in body

    simulator.register_job_spec(batch_job("report"))
    await wait_until(simulator, lambda: job_status(simulator, "report") == "dead")
    status, body = await fetch(f"{url}/_sim/gc", "POST")
    assert status == 200
    assert '"report"' in body

    status, body = await fetch(f"{url}/_sim/requests")
    assert '"GET /v1/jobs": 2' in body
    await fetch(f"{url}/_sim/requests", "DELETE")
    assert simulator.controls.request_counts == {}

    # At rest (replacements placed, the child run): nothing writes after the reset but us.
    await support.wait_until(lambda: support.simulator_idle(simulator))
    status, body = await fetch(f"{url}/_sim/reset-index", "POST", json={"to": 2})
    assert (status, body) == (200, '{"index": 2}')
    assert simulator.store.latest_index == 2


async def test_refuse_over_http_answers_then_closes(
    simulator: Simulator, sim_server: SimServer
) -> None:
    """The outage control answers before the socket closes; only the Python API (or
    `serve_in_thread`'s `handle.call`) can clear a `refuse`, as nothing listens."""
    assert await fetch(f"{sim_server.url}/_sim/outage", "POST", json={"mode": "refuse"}) == (
        200,
        '{"outage": "refuse"}',
    )
    with pytest.raises(aiohttp.ClientConnectorError):
        await fetch(f"{sim_server.url}/_sim/state")
    simulator.controls.set_outage(None)
    assert (await fetch(f"{sim_server.url}/_sim/state"))[0] == 200


async def test_bad_control_requests_are_400(sim_server: SimServer) -> None:
    assert (await fetch(f"{sim_server.url}/_sim/outage", "POST", json={"mode": "sideways"}))[
        0
    ] == 400
    assert (await fetch(f"{sim_server.url}/_sim/fail", "POST", json={"job": "x"}))[0] == 400
    assert (await fetch(f"{sim_server.url}/_sim/nothing", "POST"))[0] == 404
