"""Concurrent mutations across two bridge replicas: no lost update, no deadlock, nothing
unreported (SPEC section 2).

tests/bridge/test_counts.py already checks N concurrent +1s on one group; here deltas of
both signs mix with absolute sets and with start/stop, and bulk operations race each other.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from typing import Any

import pytest

from nomad_bridge.sim import Simulator
from tests.reliability.bounded import (
    Exchange,
    ask,
    assert_problem,
    by_name,
    converges,
    group,
    view,
)
from tests.support import BridgeClient, MakeBridge, NomadProbe, in_sync, job_spec, wait_until

MUTATION_BOUND_S = 20.0
"""No deadlock: a whole burst of concurrent mutations is answered within this."""
START_RESULTS = {"started", "already running", "restored"}
STOP_RESULTS = {"stopped", "already stopped"}


async def replicas(make_bridge: MakeBridge, probe: NomadProbe, n: int = 2) -> list[BridgeClient]:
    bridges = [await make_bridge() for _ in range(n)]
    for bridge in bridges:
        await in_sync(bridge, probe)
    return bridges


async def burst(calls: list[tuple[BridgeClient, str, Any]]) -> list[Exchange]:
    """Every call at once (shuffled, so neither replica always goes first), each bounded."""
    order = list(range(len(calls)))
    random.Random(7).shuffle(order)
    answers: list[Exchange | None] = [None] * len(calls)

    async def one(i: int) -> None:
        bridge, path, body = calls[i]
        answers[i] = await ask(bridge, "POST", path, body=body, bound_s=MUTATION_BOUND_S)

    await asyncio.wait_for(asyncio.gather(*(one(i) for i in order)), MUTATION_BOUND_S)
    return [a for a in answers if a is not None]


def change(job: str, group_name: str, count: int) -> dict[str, Any]:
    return {"jobID": job, "taskGroup": group_name, "count": count}


async def all_views_show(bridges: list[BridgeClient], job: str, name: str, count: int) -> None:
    for bridge in bridges:
        await converges(bridge, lambda views: group(views, job, name)["count"] == count)


# --- count changes -----------------------------------------------------------------------


@pytest.mark.parametrize("path", ["scale", "register"])
async def test_mixed_signed_deltas_then_a_set_across_two_replicas_lose_nothing(
    make_bridge: MakeBridge, simulator: Simulator, nomad_probe: NomadProbe, path: str
) -> None:
    """+3 x 12 and -1 x 12 from 20 never go below 0 in any order and end at exactly 44; a
    set sent after all of them then decides the count alone. `register`: deployments are
    held, Nomad refuses to scale while one is active, and changes take the check-and-set
    re-register path. (Held from the start: the first deployment never completes, whatever
    the time the burst takes to begin.)"""
    if path == "register":
        simulator.controls.hold_deployments(True)
    simulator.register_job_spec(job_spec("web", {"frontend": 20, "api": 1}))
    bridges = await replicas(make_bridge, nomad_probe)
    if path == "register":
        await nomad_probe.placed("web")
    deltas = [3, -1] * 12
    answers = await burst(
        [
            (bridges[i % 2], "/jobs/updatecounts", change("web", "frontend", delta))
            for i, delta in enumerate(deltas)
        ]
    )
    assert [a.status for a in answers] == [200] * len(deltas), [str(a) for a in answers]
    bodies = [a.json() for a in answers]
    assert Counter(b["count"] - b["previousCount"] for b in bodies) == Counter(deltas)
    paths = {b["path"] for b in bodies}
    assert paths <= {"scale", "register"}
    if path == "register":  # the held deployment made Nomad refuse to scale
        assert "register" in paths
    assert await nomad_probe.group_count("web", "frontend") == 20 + sum(deltas) == 44
    assert await nomad_probe.group_count("web", "api") == 1  # the other group untouched
    await all_views_show(bridges, "web", "frontend", 44)

    final = await ask(
        bridges[1], "POST", "/jobs/settaskgroupcount", body=change("web", "frontend", 5), bound_s=5
    )
    assert (final.status, final.json()["previousCount"]) == (200, 44)
    assert await nomad_probe.group_count("web", "frontend") == 5
    await all_views_show(bridges, "web", "frontend", 5)


def is_one_history(start: int, end: int, transitions: list[tuple[int, int]]) -> bool:
    """Whether the (previous, new) count transitions chain into one history start -> end.

    With no lost update every change starts from the count the change before it left, so
    the transitions are the edges of one trail from `start` to `end` (an Euler path). Two
    writers that both read 5 and both wrote 6 leave two 5 -> 6 edges and no 6 -> 5: no
    such path.
    """
    balance: Counter[int] = Counter()
    for previous, new in transitions:
        balance[previous] += 1
        balance[new] -= 1
    expected: Counter[int] = Counter({start: 1, end: -1}) if start != end else Counter()
    if +balance != +expected or -balance != -expected:
        return False
    remaining = list(transitions)
    reached, frontier = {start}, [start]
    while frontier:  # every edge reachable from `start`
        node = frontier.pop()
        for previous, new in [t for t in remaining if t[0] == node]:
            remaining.remove((previous, new))
            if new not in reached:
                reached.add(new)
            frontier.append(new)
    return not remaining


def test_is_one_history_accepts_a_chain_and_refuses_a_lost_update() -> None:
    assert is_one_history(5, 7, [(6, 0), (5, 6), (0, 7)])
    assert is_one_history(5, 5, [(5, 0), (0, 5)])
    assert not is_one_history(5, 6, [(5, 6), (5, 6)])  # both read 5: one update lost
    assert not is_one_history(5, 6, [(5, 6), (9, 9)])


async def test_deltas_zero_sets_and_absolute_sets_racing_form_one_history(
    make_bridge: MakeBridge, simulator: Simulator, nomad_probe: NomadProbe
) -> None:
    """With absolute sets in the race the final count depends on the order; what must hold
    is that every answer is one step of a single history that ends where Nomad is."""
    simulator.register_job_spec(job_spec("web", {"frontend": 4}))
    bridges = await replicas(make_bridge, nomad_probe)
    calls: list[tuple[BridgeClient, str, Any]] = []
    for i in range(8):
        calls.append((bridges[i % 2], "/jobs/updatecounts", change("web", "frontend", 2)))
    for i, value in enumerate([3, 9, 1, 6]):
        calls.append((bridges[i % 2], "/jobs/settaskgroupcount", change("web", "frontend", value)))
    calls.append((bridges[0], "/jobs/updatecounts", change("web", "frontend", 0)))  # sets 0
    answers = await burst(calls)
    assert [a.status for a in answers] == [200] * len(calls), [str(a) for a in answers]
    for (_, route, body), answer in zip(calls, answers, strict=True):
        result = answer.json()
        if route == "/jobs/settaskgroupcount" or body["count"] == 0:
            assert result["count"] == body["count"], str(answer)
        else:
            assert result["count"] == result["previousCount"] + body["count"], str(answer)
    final = await nomad_probe.group_count("web", "frontend")
    transitions = [(a.json()["previousCount"], a.json()["count"]) for a in answers]
    assert is_one_history(4, final, transitions), (final, transitions)
    await all_views_show(bridges, "web", "frontend", final)


async def test_a_start_racing_count_changes_loses_none_of_them(
    make_bridge: MakeBridge, simulator: Simulator, nomad_probe: NomadProbe
) -> None:
    """A start re-registers the whole spec it read: without check-and-set it would put back
    the count it read and undo increments that landed in between."""
    simulator.register_job_spec(job_spec("web", {"frontend": 2}, Stop=True))
    bridges = await replicas(make_bridge, nomad_probe)
    increments = 10
    calls: list[tuple[BridgeClient, str, Any]] = [
        (bridges[i % 2], "/jobs/updatecounts", change("web", "frontend", 1))
        for i in range(increments)
    ]
    calls.insert(increments // 2, (bridges[0], "/jobs/start/web", None))
    calls.insert(increments // 3, (bridges[1], "/jobs/start/web", None))
    answers = await burst(calls)
    assert [a.status for a in answers] == [200] * len(calls), [str(a) for a in answers]
    starts = [a.json()["result"] for a in answers if "/start/" in a.path]
    assert sorted(starts) == ["already running", "started"]
    job = await nomad_probe.job("web")
    assert job["Stop"] is False
    assert job["TaskGroups"][0]["Count"] == 2 + increments
    await all_views_show(bridges, "web", "frontend", 2 + increments)


# --- start and stop ----------------------------------------------------------------------


def assert_bulk_answer(answer: Exchange, results: set[str]) -> None:
    """200 with every job's result, or a problem that carries every job's result."""
    body = answer.json()
    if answer.status != 200:
        assert_problem(answer, answer.status)
    assert isinstance(body["results"], list), str(answer)
    for entry in body["results"]:
        if entry["status"] == 200:
            assert entry["result"] in results, str(answer)
        else:
            assert entry["detail"], str(answer)
            assert answer.status != 200, str(answer)


async def job_states_match_views(bridge: BridgeClient, probe: NomadProbe, jobs: list[str]) -> None:
    """Every job ends running or dead, and the view says what Nomad says."""
    seen: list[list[dict[str, Any]]] = [[]]

    async def match() -> bool:
        _, seen[0] = await view(bridge)
        for job in jobs:
            stopped = (await probe.job(job))["Stop"]
            if by_name(seen[0])[job]["status"] != ("dead" if stopped else "running"):
                return False
        return True

    await wait_until(match, what=lambda: f"views matching Nomad (last: {seen[0]})")


async def test_startall_racing_stopall_neither_deadlocks_nor_hides_a_failure(
    make_bridge: MakeBridge, simulator: Simulator, nomad_probe: NomadProbe
) -> None:
    jobs = [f"job-{i}" for i in range(8)]
    for i, job in enumerate(jobs):
        simulator.register_job_spec(job_spec(job, {"g": 1}, Meta={"autostart": "true"}))
        if i % 2:
            await nomad_probe.stop(job)
    bridges = await replicas(make_bridge, nomad_probe)
    calls: list[tuple[BridgeClient, str, Any]] = []
    for round_ in range(3):
        calls += [
            (bridges[round_ % 2], "/jobs/startall", None),
            (bridges[(round_ + 1) % 2], "/jobs/stopall", None),
        ]
    answers = await burst(calls)
    for answer in answers:
        assert_bulk_answer(answer, START_RESULTS if "startall" in answer.path else STOP_RESULTS)
    for bridge in bridges:
        await job_states_match_views(bridge, nomad_probe, jobs)
    # Whatever the race left, one more startall decides it, and the views follow.
    final = await ask(bridges[0], "POST", "/jobs/startall", bound_s=MUTATION_BOUND_S)
    assert final.status == 200, str(final)
    assert all([not (await nomad_probe.job(job))["Stop"] for job in jobs])
    for bridge in bridges:
        await job_states_match_views(bridge, nomad_probe, jobs)


async def test_many_starts_and_stops_of_one_job_end_in_one_consistent_state(
    make_bridge: MakeBridge, simulator: Simulator, nomad_probe: NomadProbe
) -> None:
    simulator.register_job_spec(job_spec("web", {"frontend": 2}))
    bridges = await replicas(make_bridge, nomad_probe)
    calls: list[tuple[BridgeClient, str, Any]] = [
        (bridges[i % 2], f"/jobs/{'start' if i % 3 else 'stop'}/web", None) for i in range(30)
    ]
    answers = await burst(calls)
    assert [a.status for a in answers] == [200] * len(calls), [str(a) for a in answers]
    for answer in answers:
        results = START_RESULTS if "/start/" in answer.path else STOP_RESULTS
        assert answer.json()["result"] in results, str(answer)
    outcomes = Counter(a.json()["result"] for a in answers)
    assert outcomes["started"] + outcomes["stopped"] >= 1, outcomes
    for bridge in bridges:
        await job_states_match_views(bridge, nomad_probe, ["web"])
    # The last word is a stop: Nomad and both views agree on it.
    final = await ask(bridges[1], "POST", "/jobs/stop/web", bound_s=5.0)
    assert final.status == 200
    assert (await nomad_probe.job("web"))["Stop"] is True
    for bridge in bridges:
        await job_states_match_views(bridge, nomad_probe, ["web"])
