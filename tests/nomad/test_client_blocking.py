"""Blocking queries: an answer on change with the new index, or when the wait ends."""

from __future__ import annotations

import asyncio

from nomad_bridge.nomad import NomadClient
from nomad_bridge.nomad.query import blocking_timeout_s, go_duration
from nomad_bridge.sim import Simulator
from tests.nomad.harness import RequestLog
from tests.support import job_spec, wait_until

SHORT_WAIT_S = 0.2


async def test_a_blocking_read_returns_on_change_with_the_new_index(
    client: NomadClient, simulator: Simulator
) -> None:
    first = await client.put_variable("watched", {"v": "1"})
    current = await client.read_variable("watched")
    simulator.controls.reset_request_counts()

    waiting = asyncio.create_task(client.read_variable("watched", index=current.index, wait_s=30))
    await wait_until(lambda: bool(simulator.controls.request_counts))
    assert not waiting.done()
    second = await client.put_variable("watched", {"v": "2"})

    changed = await asyncio.wait_for(waiting, timeout=5)
    assert changed.value.items == {"v": "2"}
    assert changed.index == second.modify_index > first.modify_index


async def test_a_blocking_read_returns_the_current_index_when_the_wait_ends(
    client: NomadClient,
) -> None:
    await client.put_variable("quiet", {"v": "1"})
    current = await client.read_variable("quiet")
    loop = asyncio.get_running_loop()
    started = loop.time()

    unchanged = await client.read_variable("quiet", index=current.index, wait_s=SHORT_WAIT_S)

    assert loop.time() - started >= SHORT_WAIT_S * 0.9
    assert unchanged.index == current.index
    assert unchanged.value.items == {"v": "1"}


async def test_a_blocking_job_read_wakes_when_the_job_is_stopped(client: NomadClient) -> None:
    await client.register_job(job_spec("web"))
    current = await client.read_job("web")

    waiting = asyncio.create_task(client.read_job("web", index=current.index, wait_s=30))
    await client.stop_job("web")

    stopped = await asyncio.wait_for(waiting, timeout=5)
    assert stopped.value.stop is True
    assert stopped.index > current.index


async def test_a_blocking_list_wakes_on_a_new_job(client: NomadClient) -> None:
    current = await client.list_jobs()
    waiting = asyncio.create_task(client.list_jobs(index=current.index, wait_s=30))
    await client.register_job(job_spec("newcomer"))

    listed = await asyncio.wait_for(waiting, timeout=5)
    assert listed.index > current.index
    assert "newcomer" in [stub.id for stub in listed.value]


async def test_a_blocking_read_is_one_attempt_even_when_it_waits(
    client: NomadClient, request_log: RequestLog
) -> None:
    await client.put_variable("quiet", {"v": "1"})
    current = await client.read_variable("quiet")
    await client.read_variable("quiet", index=current.index, wait_s=SHORT_WAIT_S)
    assert request_log.outcomes("GET", "/v1/var/:path") == ["ok", "ok"]


def test_the_wait_is_sent_as_a_go_duration() -> None:
    assert go_duration(30) == "30000ms"
    assert go_duration(0.25) == "250ms"


def test_a_blocking_read_is_bounded_past_nomads_jitter() -> None:
    assert blocking_timeout_s(None, 60, margin_s=10) is None
    assert blocking_timeout_s(5, 160, margin_s=10) == 160 * 17 / 16 + 10
    assert blocking_timeout_s(5, None, margin_s=10) == 300 * 17 / 16 + 10
