"""Blocking queries: they wake on a change, return on timeout, and cost nothing while idle."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest

from nomad_bridge.sim import SimServer, Simulator
from nomad_bridge.sim.blocking import JITTER_FRACTION, blocking_query, wait_time_s
from nomad_bridge.sim.durations import DurationError, parse_go_duration
from nomad_bridge.sim.query import QueryOptions
from nomad_bridge.sim.state import JOBS
from nomad_bridge.sim.testing import deployment_settled, service_job, wait_parked, wait_until

WAKE_TIMEOUT_S = 5.0
ENDS_WITHIN_S = 5.0
"""A query whose wait ran out answers within this on a loaded machine; one that ignored
`wait` would take Nomad's default 5 minutes."""


async def get(http: aiohttp.ClientSession, url: str, **params: str) -> tuple[int, int, str]:
    async with http.get(url, params=params) as resp:
        return resp.status, int(resp.headers.get("X-Nomad-Index", "-1")), await resp.text()


async def test_blocking_list_wakes_when_a_job_registers(
    simulator: Simulator, sim_server: SimServer
) -> None:
    """blockingRPC (nomad/rpc.go): the query re-runs on a change of what it read and
    returns once its index passes `index`."""
    simulator.register_job_spec(service_job("first"))
    await wait_until(
        simulator, lambda: simulator.store.latest_deployment("default", "first") is not None
    )
    await wait_until(simulator, lambda: deployment_settled(simulator, "first"))
    async with aiohttp.ClientSession() as http:
        _, index, _ = await get(http, f"{sim_server.url}/v1/jobs")
        waiter = asyncio.create_task(get(http, f"{sim_server.url}/v1/jobs", index=str(index)))
        await wait_parked(simulator, JOBS)
        assert not waiter.done()
        simulator.register_job_spec(service_job("second"))
        status, new_index, body = await asyncio.wait_for(waiter, WAKE_TIMEOUT_S)
    assert status == 200
    assert new_index > index
    assert '"second"' in body


async def test_blocking_read_returns_the_current_index_when_the_wait_ends(
    simulator: Simulator, sim_server: SimServer
) -> None:
    """A return does not promise a change: when `wait` runs out the current (unchanged)
    index comes back, after at most wait + wait/16 of jitter."""
    simulator.register_job_spec(service_job("web"))
    await wait_until(
        simulator, lambda: simulator.store.jobs[("default", "web")]["Status"] == "running"
    )
    loop = asyncio.get_running_loop()
    async with aiohttp.ClientSession() as http:
        _, index, _ = await get(http, f"{sim_server.url}/v1/job/web/summary")
        started = loop.time()
        far = str(index + 1000)
        status, returned, _ = await get(
            http, f"{sim_server.url}/v1/job/web", index=far, wait="150ms"
        )
        elapsed = loop.time() - started
    assert status == 200
    assert returned < int(far)
    assert 0.15 <= elapsed < ENDS_WITHIN_S  # the jitter's bound: the test below


def test_the_wait_is_the_one_asked_for_plus_at_most_a_sixteenth_of_jitter() -> None:
    """blockingRPC (nomad/rpc.go): the wait is TimeToBlock (5 minutes by default and at most)
    plus `lib.RandomStagger(wait / structs.JitterFraction)`, JitterFraction being 16."""

    def waits(wait_s: float | None) -> list[float]:
        return [wait_time_s(QueryOptions(region="global", wait_s=wait_s)) for _ in range(500)]

    asked = waits(1.6)
    assert all(1.6 <= w <= 1.6 * (1 + 1 / JITTER_FRACTION) for w in asked)
    assert len(set(asked)) > 1  # jittered, not a fixed extra
    for unset_or_too_long in (None, 3600.0):
        assert all(300 <= w <= 300 * (1 + 1 / JITTER_FRACTION) for w in waits(unset_or_too_long))


async def test_thousand_blocked_queries_share_one_wake_up(
    simulator: Simulator, sim_server: SimServer
) -> None:
    """Waiting costs a future per request, not polling: a thousand waiters on one table
    all wake on one write."""
    simulator.register_job_spec(service_job("web"))
    await wait_until(
        simulator, lambda: simulator.store.latest_deployment("default", "web") is not None
    )
    await wait_until(simulator, lambda: deployment_settled(simulator, "web"))
    index = simulator.store.index(JOBS)
    opts = QueryOptions(region="global", min_index=index, wait_s=5.0)

    def run() -> tuple[int, int]:
        return simulator.store.index(JOBS), len(simulator.store.jobs)

    waiters = [
        asyncio.create_task(blocking_query(simulator.store, opts, (JOBS,), run))
        for _ in range(1000)
    ]
    await wait_parked(simulator, JOBS, 1000)
    simulator.register_job_spec(service_job("other"))
    results = await asyncio.wait_for(asyncio.gather(*waiters), WAKE_TIMEOUT_S)
    assert {count for _, count in results} == {2}


@pytest.mark.parametrize(
    ("params", "text"),
    [({"wait": "10"}, "Invalid wait time"), ({"index": "abc"}, "Invalid index")],
)
async def test_bad_blocking_parameters_are_400(
    sim_server: SimServer, params: dict[str, str], text: str
) -> None:
    """parseWait (command/agent/http.go): `wait` needs a Go duration unit; `index` must be
    an unsigned integer; both are 400 with a fixed text."""
    async with aiohttp.ClientSession() as http:
        status, _, body = await get(http, f"{sim_server.url}/v1/jobs", **params)
    assert (status, body) == (400, text)


@pytest.mark.parametrize(
    ("text", "nanoseconds"),
    [
        ("0", 0),
        ("1h2m3.5s", 3_723_500_000_000),
        ("500ms", 500_000_000),
        ("1us", 1_000),
        ("1\u00b5s", 1_000),
        ("-1.5h", -5_400_000_000_000),
        (".5s", 500_000_000),
        ("1.s", 1_000_000_000),
        ("2562047h", 2562047 * 3600 * 10**9),
    ],
)
def test_go_durations_parse_like_time_parse_duration(text: str, nanoseconds: int) -> None:
    """time.ParseDuration: sequences of decimal numbers with units ns, us/µs, ms, s, m, h."""
    assert parse_go_duration(text) == nanoseconds


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("10", 'time: missing unit in duration "10"'),
        ("", 'time: invalid duration ""'),
        ("1d", 'time: unknown unit "d" in duration "1d"'),
        (".s", 'time: invalid duration ".s"'),
        ("1h-2m", 'time: unknown unit "h-" in duration "1h-2m"'),
        ("9999999999h", 'time: invalid duration "9999999999h"'),
    ],
)
def test_go_durations_refuse_what_go_refuses(text: str, message: str) -> None:
    with pytest.raises(DurationError) as err:
        parse_go_duration(text)
    assert str(err.value) == message
