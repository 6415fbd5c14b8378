"""Nomad faults, end to end: every answer bounded and truthful, and recovery within 2 s.

For each fault (Nomad refusing connections, answering 503, hanging, slowed down, restarted
with its index reset, collecting stopped jobs, failing and losing allocations, refusing the
bridge's token) the tests check what a client sees while it lasts — every request answered
within its bound with the right problem+json status, reads served from the last synced
view, `/ready` telling the truth — and that once Nomad is back the view reflects every
change made meanwhile within `CONVERGENCE_BOUND_S` and wakes the clients waiting on it.

Requests run concurrently and are bounded with `asyncio.wait_for` (`bounded.ask`); nothing
sleeps to assert. Every test starts from a cluster at rest (`synced_bridge` waits for the
simulator to have nothing left to do and for the view to show it), so that a view taken
before a fault can be compared with one taken during it: allocations still starting would
change the view in between, and the test would be comparing two moments, not two states.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

import pytest
from pydantic import SecretStr

from nomad_bridge.nomad import NomadSettings
from nomad_bridge.settings import BridgeSettings
from nomad_bridge.sim import SimConfig, Simulator
from nomad_bridge.sim.acl import Acl
from tests.reliability.bounded import (
    CONVERGENCE_BOUND_S,
    Exchange,
    ask,
    assert_problem,
    becomes_ready,
    by_name,
    converges,
    group,
    long_poll,
    view,
)
from tests.support import (
    WAIT_TIMEOUT_S,
    BridgeClient,
    MakeBridge,
    NomadProbe,
    job_spec,
    saved_definition,
    settled,
    wait_until,
)

NOMAD_TIMEOUT_S = 0.5
"""`BRIDGE_NOMAD_TIMEOUT_S` in these tests: small, so that bounds are quick to check."""
NOMAD_READ_ATTEMPTS = 3
"""The Nomad client tries a read up to 3 times (`RetryPolicy.attempts`), backoff <= 0.3 s."""
NOTHING_HANGS_S = NOMAD_READ_ATTEMPTS * NOMAD_TIMEOUT_S + 1.0
"""What every request answers within today: 3 attempts of one Nomad read, plus slack."""
WAKE_BOUND_S = 5.0
"""A waiter answers this soon once the view it waits on has changed (else: its 30 s wait)."""

COUNT = {"jobID": "web", "taskGroup": "frontend", "count": 1}
# One job per mutation: mutations of one job queue behind each other (see the queue test).
MUTATIONS: list[tuple[str, dict[str, Any] | None]] = [
    ("/jobs/stop/web", None),
    ("/jobs/start/stopped", None),
    ("/jobs/startall", None),
    ("/jobs/stopall", None),
    ("/jobs/updatecounts", {"jobID": "cache", "taskGroup": "redis", "count": 1}),
    ("/jobs/settaskgroupcount", {"jobID": "batch", "taskGroup": "work", "count": 3}),
]
SAME_JOB_MUTATIONS: list[tuple[str, dict[str, Any] | None]] = [
    ("/jobs/stop/web", None),
    ("/jobs/start/web", None),
    ("/jobs/updatecounts", COUNT),
    ("/jobs/settaskgroupcount", {**COUNT, "count": 3}),
]


def fast_settings(**changes: Any) -> BridgeSettings:
    return BridgeSettings(**{"nomad_timeout_s": NOMAD_TIMEOUT_S, **changes})


@pytest.fixture
def web(simulator: Simulator) -> str:
    """`web`, plus one job for each mutation that does not act on `web`."""
    simulator.register_job_spec(
        job_spec("web", {"frontend": 2}, Meta={"autostart": "true"}), namespace="default"
    )
    simulator.register_job_spec(job_spec("stopped", {"g": 1}, Stop=True))
    simulator.register_job_spec(job_spec("cache", {"redis": 1}))
    simulator.register_job_spec(job_spec("batch", {"work": 1}))
    return "web"


async def synced_bridge(
    make_bridge: MakeBridge,
    simulator: Simulator,
    probe: NomadProbe,
    settings: BridgeSettings | None = None,
    **kw: Any,
) -> BridgeClient:
    """A bridge whose view shows a cluster at rest: nothing moves until the test acts."""
    bridge = await make_bridge(settings or fast_settings(), **kw)
    await settled(bridge, simulator, probe)
    return bridge


async def every_mutation(
    bridge: BridgeClient, bound_s: float, mutations: list[tuple[str, Any]] = MUTATIONS
) -> list[Exchange]:
    """Every mutation at once, each bounded."""
    return list(
        await asyncio.gather(
            *(ask(bridge, "POST", path, body=body, bound_s=bound_s) for path, body in mutations)
        )
    )


async def settle(tasks: list[asyncio.Task[Exchange]]) -> None:
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


# --- outages: refused, 503, hung, too slow ---------------------------------------------------

OUTAGES: dict[str, tuple[Callable[[Simulator], None], int]] = {
    # fault, and the status a mutation gets while it lasts
    "refuse": (lambda sim: sim.controls.set_outage("refuse"), 503),
    "unavailable": (lambda sim: sim.controls.set_outage("unavailable"), 503),
    "hang": (lambda sim: sim.controls.set_outage("hang"), 504),
    "slower-than-timeout": (lambda sim: sim.controls.set_latency(3 * NOMAD_TIMEOUT_S), 504),
}


def recover(simulator: Simulator) -> None:
    simulator.controls.set_outage(None)
    simulator.controls.set_latency(0)


@pytest.mark.parametrize("fault", list(OUTAGES))
async def test_an_outage_is_answered_in_bounds_and_the_view_catches_up_after_it(
    make_bridge: MakeBridge, simulator: Simulator, nomad_probe: NomadProbe, web: str, fault: str
) -> None:
    bridge = await synced_bridge(make_bridge, simulator, nomad_probe)
    index, before = await view(bridge)
    summary = await ask(bridge, "GET", "/job/web/summary", bound_s=1.0)
    waiters = [
        long_poll(bridge, "/jobs", index),
        long_poll(bridge, "/job/web/summary", int(summary.headers["waitIndex"])),
    ]
    inject, mutation_status = OUTAGES[fault]
    inject(simulator)
    try:
        reads = await asyncio.gather(
            ask(bridge, "GET", "/jobs", bound_s=NOTHING_HANGS_S),
            ask(bridge, "GET", "/job/web/summary", bound_s=NOTHING_HANGS_S),
            ask(bridge, "GET", "/health", bound_s=NOTHING_HANGS_S),
        )
        ready, mutations = await asyncio.gather(
            ask(bridge, "GET", "/ready", bound_s=NOTHING_HANGS_S),
            every_mutation(bridge, NOTHING_HANGS_S),
        )
        # Reads are answered from the last synced view; liveness is not readiness.
        assert [r.status for r in reads] == [200, 200, 200]
        assert reads[0].json() == before
        assert_problem(ready, 503)
        for mutation in mutations:
            assert_problem(mutation, mutation_status)
        # Changes made in Nomad meanwhile (by someone else, or by the outage's own writes).
        simulator.register_job_spec(job_spec("api", {"g": 1}))
        simulator.register_job_spec(
            job_spec("web", {"frontend": 4}, Meta={"autostart": "true"}), namespace="default"
        )
        if fault != "slower-than-timeout":  # a slow Nomad still answers the watch
            assert not any(w.done() for w in waiters), [str(w.result()) for w in waiters]
    except BaseException:
        await settle(waiters)
        raise
    finally:
        recover(simulator)

    def caught_up(views: list[dict[str, Any]]) -> bool:
        return "api" in by_name(views) and group(views, "web", "frontend")["count"] == 4

    try:
        woken = await asyncio.wait_for(asyncio.gather(*waiters), CONVERGENCE_BOUND_S)
    finally:
        await settle(waiters)
    assert int(woken[0].headers["waitIndex"]) > index
    assert caught_up(woken[0].json()), str(woken[0])
    assert woken[1].json()["taskGroups"][0]["count"] == 4
    await converges(bridge, caught_up)
    await becomes_ready(bridge)
    assert (await ask(bridge, "POST", "/jobs/stop/api", bound_s=2.0)).status == 200


HANG_TIMEOUT_S = 2.0
"""`BRIDGE_NOMAD_TIMEOUT_S` in the 504 test: long enough that its slack absorbs a loaded
machine, while a retried read (3 x 2 s, plus backoff) still lands far past the bound."""
ONE_TIMEOUT_S = 2 * HANG_TIMEOUT_S
"""One `BRIDGE_NOMAD_TIMEOUT_S`, with as much again for scheduling; retries take 3 x."""


async def test_a_hung_nomad_is_answered_504_within_one_nomad_timeout(
    make_bridge: MakeBridge, simulator: Simulator, nomad_probe: NomadProbe, web: str
) -> None:
    """BRIDGE_NOMAD_TIMEOUT_S is "the longest wait for one Nomad answer (504 past it)".

    Today a client waits up to 3 x the setting (+ backoff): the Nomad client retries a
    timed-out read twice more inside the same client request (`RetryPolicy`), so with the
    default 10 s a mutation or `/ready` answers after ~31 s — past common proxy timeouts.
    """
    settings = fast_settings(nomad_timeout_s=HANG_TIMEOUT_S)
    bridge = await synced_bridge(make_bridge, simulator, nomad_probe, settings)
    simulator.controls.set_outage("hang")
    try:
        bound_s = 3 * HANG_TIMEOUT_S + 2.0  # to end the test, not to pass it
        answers = await asyncio.gather(
            ask(bridge, "GET", "/ready", bound_s=bound_s), every_mutation(bridge, bound_s)
        )
    finally:
        recover(simulator)
    ready, mutations = answers
    slow = [str(a) for a in [ready, *mutations] if a.elapsed_s > ONE_TIMEOUT_S]
    if slow:
        pytest.fail(f"answered later than {ONE_TIMEOUT_S} s:\n" + "\n".join(slow))


async def test_mutations_of_one_job_queued_during_a_hang_each_answer_in_bounds(
    make_bridge: MakeBridge, simulator: Simulator, nomad_probe: NomadProbe, web: str
) -> None:
    """Mutations of one job are serialised by a per-job lock (`operations.KeyedLocks`) whose
    wait has no bound: during a hang each queued request first waits out the one ahead of
    it, so the k-th of k concurrent mutations answers after k x (3 x timeout). With the
    default 10 s and a client retrying, requests pile up for minutes."""
    bridge = await synced_bridge(make_bridge, simulator, nomad_probe)
    simulator.controls.set_outage("hang")
    try:
        bound_s = len(SAME_JOB_MUTATIONS) * NOTHING_HANGS_S  # to end the test, not to pass it
        answers = await every_mutation(bridge, bound_s, SAME_JOB_MUTATIONS)
    finally:
        recover(simulator)
    for answer in answers:
        assert_problem(answer, 504)
    slow = [str(a) for a in answers if a.elapsed_s > NOTHING_HANGS_S]
    if slow:
        pytest.fail(f"answered later than {NOTHING_HANGS_S} s:\n" + "\n".join(slow))


SLOW_LATENCY_S = 0.5


async def test_a_nomad_slower_than_usual_but_within_the_timeout_serves_everything(
    make_bridge: MakeBridge, simulator: Simulator, nomad_probe: NomadProbe, web: str
) -> None:
    """Nomad answers every request `latency_s` late, within the bridge's timeout. Reads are
    answered from memory, well within that latency (a read that asked Nomad could not be);
    the latency is large enough that a loaded machine's scheduling delays stay below it."""
    settings = fast_settings(nomad_timeout_s=4 * SLOW_LATENCY_S)
    bridge = await synced_bridge(make_bridge, simulator, nomad_probe, settings)
    latency_s = SLOW_LATENCY_S
    simulator.controls.set_latency(latency_s)
    try:
        reads = await asyncio.gather(
            *(ask(bridge, "GET", "/jobs", bound_s=latency_s) for _ in range(20))
        )
        assert {r.status for r in reads} == {200}  # from memory: Nomad's latency is not theirs
        ready = await ask(bridge, "GET", "/ready", bound_s=2 * latency_s + 1.0)
        assert ready.status == 200, str(ready)
        # A read and a write, then the view catches up (the watch's answer, a job read).
        bound_s = 4 * latency_s + 1.0
        change = await ask(bridge, "POST", "/jobs/updatecounts", body=COUNT, bound_s=bound_s)
        assert change.status == 200, str(change)
        stop = await ask(bridge, "POST", "/jobs/stop/web", bound_s=bound_s)
        assert stop.status == 200, str(stop)
        _, views = await view(bridge)  # a read right after a mutation sees it
        assert group(views, "web", "frontend")["count"] == 3
        assert by_name(views)["web"]["status"] in ("running", "dead")  # stopping
    finally:
        recover(simulator)
    await converges(bridge, lambda views: by_name(views)["web"]["status"] == "dead")


LONG_OUTAGE_WATCH_FAILURES = 5
"""Five failures of the watch: with backoff capped at 1 s (`watch.RETRY_CAP_S`), about 4 s of
outage, past the point where an uncapped backoff (0.1 s x 2**n) would exceed 2 s."""


class WorstCaseJitter:
    """The backoff's `random` (`nomad.retry`), with every jittered delay at its upper bound."""

    @staticmethod
    def uniform(low: float, high: float) -> float:
        return high


async def test_after_a_long_outage_the_view_catches_up_within_2s(
    make_bridge: MakeBridge,
    simulator: Simulator,
    nomad_probe: NomadProbe,
    web: str,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The watch backs off exponentially while Nomad is down and nothing cuts the sleep short
    when Nomad is back: with the backoff once capped at 10 s, the view trailed Nomad for up
    to 10 s after an outage of a few seconds (`watch.RETRY_CAP_S` is now 1 s). The jitter is
    pinned to its upper bound here so the test is deterministic."""
    monkeypatch.setattr("nomad_bridge.nomad.retry.random", WorstCaseJitter())
    caplog.set_level(logging.WARNING, logger="nomad_bridge.jobs.watch")
    bridge = await synced_bridge(make_bridge, simulator, nomad_probe)
    index, _ = await view(bridge)
    waiter = long_poll(bridge, "/jobs", index)
    simulator.controls.set_outage("refuse")
    try:

        async def failed_5_times() -> bool:
            failures = [r for r in caplog.records if r.getMessage() == "nomad_watch_failed"]
            return len(failures) >= LONG_OUTAGE_WATCH_FAILURES

        await wait_until(failed_5_times, timeout_s=15.0)  # about 4 s of outage
    finally:
        recover(simulator)
    simulator.register_job_spec(job_spec("api", {"g": 1}))
    try:
        await converges(bridge, lambda views: "api" in by_name(views))
        woken = await asyncio.wait_for(waiter, WAKE_BOUND_S)
        assert int(woken.headers["waitIndex"]) > index
    finally:
        await settle([waiter])


# --- Nomad restarted with its index reset ----------------------------------------------------


async def test_nomad_restarted_with_its_index_reset_is_followed_within_2s(
    make_bridge: MakeBridge, simulator: Simulator, nomad_probe: NomadProbe, web: str
) -> None:
    """A restore from snapshot: Nomad goes away, comes back with a lower index, and jobs
    changed meanwhile. The watch reconnects with a *blocking* query on its old index,
    which Nomad holds until that index is passed or `BRIDGE_WATCH_WAIT_S` (60 s) ends:
    until then the view, `/ready` and waiters all stay behind."""
    bridge = await synced_bridge(make_bridge, simulator, nomad_probe)  # default watch_wait_s
    index, _ = await view(bridge)
    waiter = long_poll(bridge, "/jobs", index)
    simulator.controls.set_outage("refuse")
    try:
        assert_problem(await ask(bridge, "GET", "/ready", bound_s=NOTHING_HANGS_S), 503)
        simulator.controls.reset_index(to=3)
        simulator.register_job_spec(job_spec("api", {"g": 1}))
    finally:
        recover(simulator)
    try:
        await converges(bridge, lambda views: "api" in by_name(views))
        woken = await asyncio.wait_for(waiter, WAKE_BOUND_S)
        assert "api" in by_name(woken.json())
        await becomes_ready(bridge)
    finally:
        await settle([waiter])


# --- garbage collection ----------------------------------------------------------------------


async def test_jobs_collected_while_the_bridge_was_cut_off_stay_listed_dead(
    make_bridge: MakeBridge, simulator: Simulator, nomad_probe: NomadProbe
) -> None:
    simulator.register_job_spec(job_spec("game", {"match": 2}, Meta={"autostart": "true"}))
    simulator.register_job_spec(job_spec("web", {"frontend": 1}))
    bridge = await synced_bridge(make_bridge, simulator, nomad_probe)
    await saved_definition(nomad_probe, "game")  # what keeps it listed once collected
    assert (await ask(bridge, "POST", "/jobs/stop/game", bound_s=2.0)).status == 200
    await converges(bridge, lambda views: by_name(views)["game"]["status"] == "dead")
    await settled(bridge, simulator, nomad_probe)  # its allocations are terminal: collectable
    summary = await ask(bridge, "GET", "/job/game/summary", bound_s=1.0)
    before = summary.json()
    waiter = long_poll(bridge, "/job/game/summary", int(summary.headers["waitIndex"]))
    simulator.controls.set_outage("refuse")
    try:
        assert (await ask(bridge, "GET", "/jobs", bound_s=1.0)).status == 200
        assert simulator.controls.garbage_collect() == ["game"]
    finally:
        recover(simulator)
    zeros = dict.fromkeys(["queued", "complete", "failed", "running", "starting", "lost"], 0)
    try:
        woken = await asyncio.wait_for(waiter, CONVERGENCE_BOUND_S)
        collected = woken.json()
        assert collected["status"] == "dead"
        assert collected["taskGroups"] == [{"name": "match", "count": 2, "summary": zeros}]
        assert collected != before
        await converges(bridge, lambda views: sorted(by_name(views)) == ["game", "web"])
    finally:
        await settle([waiter])
    restored = await ask(bridge, "POST", "/jobs/start/game", bound_s=2.0)
    assert (restored.status, restored.json()["result"]) == (200, "restored")


async def test_a_job_being_collected_stays_listed_while_the_bridge_catches_up(
    make_bridge: MakeBridge, simulator: Simulator, nomad_probe: NomadProbe
) -> None:
    """Found by the soak. When Nomad collects a stopped job, `LiveView._apply` drops it from
    the live jobs and only then reads the saved definitions (`refresh_definitions`): for
    as long as those Nomad reads take, the job is in neither table and its summary answers
    404, though it is listed before and after (SPEC section 2). Nomad is slowed down here
    (0.2 s a request) so that the gap is wide enough to be seen every time."""
    simulator.register_job_spec(job_spec("game", {"match": 1}))
    bridge = await synced_bridge(make_bridge, simulator, nomad_probe)
    await saved_definition(nomad_probe, "game")  # what keeps it listed once collected
    assert (await ask(bridge, "POST", "/jobs/stop/game", bound_s=2.0)).status == 200
    await converges(bridge, lambda views: by_name(views)["game"]["status"] == "dead")
    await settled(bridge, simulator, nomad_probe)  # its allocations are terminal: collectable
    zeros = dict.fromkeys(["queued", "complete", "failed", "running", "starting", "lost"], 0)
    simulator.controls.set_latency(0.2)
    answers: list[Exchange] = []
    try:
        assert simulator.controls.garbage_collect() == ["game"]

        async def listed_as_collected() -> bool:  # every answer on the way is kept
            answers.append(await ask(bridge, "GET", "/job/game/summary", bound_s=1.0))
            last = answers[-1]
            return last.status == 200 and last.json()["taskGroups"][0]["summary"] == zeros

        await wait_until(listed_as_collected, timeout_s=WAIT_TIMEOUT_S)
    finally:
        recover(simulator)
    not_found = [str(a) for a in answers if a.status != 200]
    assert not_found == [], f"{len(not_found)} of {len(answers)} answers: {not_found[0]}"
    assert answers[-1].json()["taskGroups"][0]["summary"] == zeros


# --- allocations failing and lost ------------------------------------------------------------


async def test_failed_and_lost_allocations_wake_waiters_and_show_in_the_summary(
    make_bridge: MakeBridge, simulator: Simulator, nomad_probe: NomadProbe, web: str
) -> None:
    bridge = await synced_bridge(make_bridge, simulator, nomad_probe)
    await converges(bridge, lambda v: group(v, "web", "frontend")["summary"]["running"] == 2)

    async def after(fault: Callable[[], list[str]], counter: str) -> None:
        await settled(bridge, simulator, nomad_probe)  # only the fault can wake the waiter
        summary = await ask(bridge, "GET", "/job/web/summary", bound_s=1.0)
        waiter = long_poll(bridge, "/job/web/summary", int(summary.headers["waitIndex"]))
        assert len(fault()) == 1
        woken = await asyncio.wait_for(waiter, WAKE_BOUND_S)
        assert int(woken.headers["waitIndex"]) > int(summary.headers["waitIndex"])
        await converges(bridge, lambda v: group(v, "web", "frontend")["summary"][counter] == 1)

    await after(lambda: simulator.controls.fail_allocations("web", "frontend", 1), "failed")
    # Allocation trouble is not a Nomad outage: ready, and mutations keep working.
    assert (await ask(bridge, "GET", "/ready", bound_s=1.0)).status == 200
    change = await ask(bridge, "POST", "/jobs/updatecounts", body=COUNT, bound_s=2.0)
    assert change.status == 200, str(change)
    await after(lambda: simulator.controls.lose_allocations("web", "frontend", 1), "lost")
    # Nomad replaces both: three running again, the failed and lost ones still counted.
    await converges(
        bridge,
        lambda v: (
            group(v, "web", "frontend")["summary"] | {"queued": 0, "complete": 0, "starting": 0}
            == {"queued": 0, "complete": 0, "failed": 1, "running": 3, "starting": 0, "lost": 1}
        ),
        within_s=5.0,
    )


# --- Nomad refusing the bridge's token -------------------------------------------------------

NOMAD_TOKEN = "reliability-nomad-token"


class TestNomadRefusesTheToken:
    @pytest.fixture
    def sim_config(self, sim_config: SimConfig) -> SimConfig:
        sim_config.acl_token = NOMAD_TOKEN
        return sim_config

    @staticmethod
    def with_token(settings: NomadSettings, token: str) -> NomadSettings:
        return settings.model_copy(update={"token": SecretStr(token)})

    async def test_a_wrong_token_is_403_on_every_route_that_needs_nomad(
        self, make_bridge: MakeBridge, nomad_settings: NomadSettings, web: str
    ) -> None:
        """Reads of a view that never synced answer 503 "not synced" today, hiding the
        reason the watch keeps failing: Nomad refuses the token (SPEC: 403)."""
        bridge = await make_bridge(
            fast_settings(), nomad=self.with_token(nomad_settings, "wrong-token")
        )
        mutations = await every_mutation(bridge, NOTHING_HANGS_S)
        for mutation in mutations:
            assert_problem(mutation, 403)
        ready = await ask(bridge, "GET", "/ready", bound_s=NOTHING_HANGS_S)
        assert_problem(ready, 503)
        for path in ("/jobs", "/job/web/summary"):
            assert_problem(await ask(bridge, "GET", path, bound_s=NOTHING_HANGS_S), 403)

    async def test_a_revoked_token_keeps_reads_up_refuses_writes_and_recovers(
        self,
        make_bridge: MakeBridge,
        simulator: Simulator,
        nomad_probe: NomadProbe,
        nomad_settings: NomadSettings,
        web: str,
    ) -> None:
        # A cluster at rest, as the bridge shows it: the view cannot move on its own while
        # the token is refused, so the read below must show exactly this one.
        settings = self.with_token(nomad_settings, NOMAD_TOKEN)
        bridge = await synced_bridge(make_bridge, simulator, nomad_probe, nomad=settings)
        _, before = await view(bridge)
        assert by_name(before)["web"]["taskGroups"][0]["summary"]["running"] == 2
        simulator.acl = Acl("rotated-token")  # the bridge's token no longer works
        try:
            read = await ask(bridge, "GET", "/jobs", bound_s=1.0)
            assert (read.status, read.json()) == (200, before)
            for mutation in await every_mutation(bridge, NOTHING_HANGS_S):
                assert_problem(mutation, 403)
                assert NOMAD_TOKEN not in mutation.text
        finally:
            simulator.acl = Acl(NOMAD_TOKEN)
        simulator.register_job_spec(job_spec("api", {"g": 1}))
        await converges(bridge, lambda views: "api" in by_name(views))
        await becomes_ready(bridge)

    async def test_ready_says_so_when_nomad_revokes_the_token(
        self,
        make_bridge: MakeBridge,
        simulator: Simulator,
        nomad_probe: NomadProbe,
        nomad_settings: NomadSettings,
        web: str,
    ) -> None:
        """`/ready` asks `/v1/status/leader`, which Nomad answers without checking ACLs, and
        the watch only learns of the revocation when its blocking query ends (up to
        `BRIDGE_WATCH_WAIT_S`, 60 s): meanwhile `/ready` says 200 while every Nomad call the
        bridge makes is refused."""
        settings = self.with_token(nomad_settings, NOMAD_TOKEN)
        # At rest: nothing is left to wake the watch's blocking query.
        bridge = await synced_bridge(make_bridge, simulator, nomad_probe, nomad=settings)
        simulator.acl = Acl("rotated-token")
        try:
            assert_problem(
                await ask(bridge, "POST", "/jobs/stop/web", bound_s=NOTHING_HANGS_S), 403
            )
            ready = await ask(bridge, "GET", "/ready", bound_s=NOTHING_HANGS_S)
            assert_problem(ready, 503)
        finally:
            simulator.acl = Acl(NOMAD_TOKEN)
