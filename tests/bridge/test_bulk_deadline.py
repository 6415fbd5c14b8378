"""`BRIDGE_BULK_DEADLINE_S`: startall/stopall answer by the deadline whatever Nomad does.

Each job unfinished at the deadline is a 504 in `results`, saying whether anything was sent
to Nomad for it; what was sent is not undone, and repeating the call finishes the rest.
Every answer is awaited with a bound (`bounded.ask`): deadline + 2 s, with a 2 s deadline
(room for a loaded machine; a call that ignored the deadline takes 6 s or forever here).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from nomad_bridge.settings import BridgeSettings
from nomad_bridge.sim import Simulator
from tests.reliability.bounded import Exchange, ask
from tests.support import MakeBridge, NomadProbe, in_sync, job_spec

DEADLINE_S = 2.0
ANSWER_BOUND_S = DEADLINE_S + 2.0
JOBS = [f"job-{i:02d}" for i in range(20)]
NOTHING_SENT = "nothing was sent to Nomad"


@pytest.fixture
def twenty_jobs(simulator: Simulator) -> list[str]:
    for job_id in JOBS:
        simulator.register_job_spec(job_spec(job_id, {"g": 1}, Meta={"autostart": "true"}))
    return JOBS


@pytest.fixture
def outage_cleared(simulator: Simulator) -> Iterator[None]:
    """Whatever a test injects, Nomad answers again before the fixtures stop."""
    yield
    simulator.controls.set_latency(0)
    simulator.controls.set_outage(None)


def assert_every_job_unfinished_with_a_reason(answer: Exchange, jobs: list[str]) -> None:
    assert answer.status == 504, str(answer)
    assert answer.is_problem
    results = answer.json()["results"]
    assert [r["job"] for r in results] == jobs
    for result in results:
        assert result["status"] == 504, result
        assert "BRIDGE_BULK_DEADLINE_S (2 s)" in result["detail"], result


@pytest.mark.usefixtures("outage_cleared")
@pytest.mark.parametrize("bulk", ["startall", "stopall"])
async def test_during_a_nomad_hang_bulk_calls_answer_by_the_deadline_with_every_jobs_result(
    make_bridge: MakeBridge,
    simulator: Simulator,
    nomad_probe: NomadProbe,
    twenty_jobs: list[str],
    bulk: str,
) -> None:
    if bulk == "startall":
        for job_id in twenty_jobs:
            await nomad_probe.stop(job_id)
    bridge = await make_bridge(BridgeSettings(bulk_deadline_s=DEADLINE_S))
    await in_sync(bridge, nomad_probe)
    simulator.controls.set_outage("hang")

    answer = await ask(bridge, "POST", f"/jobs/{bulk}", bound_s=ANSWER_BOUND_S)

    assert_every_job_unfinished_with_a_reason(answer, twenty_jobs)
    assert all(NOTHING_SENT in r["detail"] for r in answer.json()["results"])


@pytest.mark.usefixtures("outage_cleared")
async def test_a_slow_nomad_cut_by_the_deadline_keeps_what_was_done_and_a_repeat_finishes(
    make_bridge: MakeBridge, simulator: Simulator, nomad_probe: NomadProbe, twenty_jobs: list[str]
) -> None:
    for job_id in twenty_jobs:
        await nomad_probe.stop(job_id)
    bridge = await make_bridge(BridgeSettings(bulk_deadline_s=DEADLINE_S, bulk_concurrency=2))
    await in_sync(bridge, nomad_probe)
    # Each job takes two Nomad calls: 20 jobs, 2 at a time, cannot finish within 2 s.
    simulator.controls.set_latency(0.3)

    first = await ask(bridge, "POST", "/jobs/startall", bound_s=ANSWER_BOUND_S)

    assert first.status == 504, str(first)
    results = {r["job"]: r for r in first.json()["results"]}
    assert sorted(results) == twenty_jobs
    assert {r["status"] for r in results.values()} <= {200, 504}
    assert any(NOTHING_SENT in r.get("detail", "") for r in results.values())
    simulator.controls.set_latency(0)
    started = [job_id for job_id, r in results.items() if r["status"] == 200]
    for job_id in started:  # nothing done is undone
        assert (await nomad_probe.job(job_id))["Stop"] is False

    again = await ask(bridge, "POST", "/jobs/startall", bound_s=ANSWER_BOUND_S)

    assert again.status == 200, str(again)
    assert not {r["job"] for r in again.json()["results"]} & set(started)
    for job_id in twenty_jobs:
        assert (await nomad_probe.job(job_id))["Stop"] is False


@pytest.mark.usefixtures("outage_cleared")
async def test_during_a_nomad_hang_a_bulk_call_with_nothing_to_do_is_a_504_by_the_deadline(
    make_bridge: MakeBridge, simulator: Simulator, nomad_probe: NomadProbe, twenty_jobs: list[str]
) -> None:
    """Every job runs already, as far as the view knows; Nomad could not confirm it."""
    bridge = await make_bridge(BridgeSettings(bulk_deadline_s=DEADLINE_S))
    await in_sync(bridge, nomad_probe)
    simulator.controls.set_outage("hang")

    answer = await ask(bridge, "POST", "/jobs/startall", bound_s=ANSWER_BOUND_S)

    assert answer.status == 504, str(answer)
    assert "BRIDGE_BULK_DEADLINE_S" in answer.json()["detail"]
