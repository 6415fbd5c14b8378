"""Time bounds and retries: reads survive outages, writes are never sent twice."""

from __future__ import annotations

import asyncio

import pytest

from nomad_bridge.nomad import NomadClient, RetryPolicy, errors
from nomad_bridge.sim import Simulator
from tests.nomad.harness import ClientFactory, RequestLog
from tests.support import job_spec, wait_until

PATIENT_RETRY = RetryPolicy(attempts=50, base_delay_s=0.01, max_delay_s=0.05)
HANG_TIMEOUT_S = 0.3
TIME_MARGIN_S = 0.5


async def test_a_hanging_nomad_is_a_timeout_within_the_bound(
    make_client: ClientFactory, simulator: Simulator, request_log: RequestLog
) -> None:
    client = await make_client(timeout_s=HANG_TIMEOUT_S, retry=RetryPolicy(attempts=2))
    simulator.controls.set_outage("hang")
    loop = asyncio.get_running_loop()
    started = loop.time()

    with pytest.raises(errors.Timeout):
        await client.list_jobs()

    bound_s = 2 * HANG_TIMEOUT_S + RetryPolicy().max_delay_s + TIME_MARGIN_S
    assert loop.time() - started < bound_s
    assert request_log.outcomes("GET", "/v1/jobs") == ["timeout", "timeout"]


async def test_a_read_is_retried_through_an_outage_and_succeeds_after_it(
    make_client: ClientFactory, simulator: Simulator, request_log: RequestLog
) -> None:
    client = await make_client(retry=PATIENT_RETRY)
    await client.register_job(job_spec("web"))
    simulator.controls.set_outage("refuse")

    reading = asyncio.create_task(client.read_job("web"))
    await wait_until(lambda: "unavailable" in request_log.outcomes("GET", "/v1/job/:id"))
    simulator.controls.set_outage(None)

    assert (await reading).value.id == "web"
    outcomes = request_log.outcomes("GET", "/v1/job/:id")
    assert outcomes[-1] == "ok"
    assert set(outcomes[:-1]) == {"unavailable"}


async def test_a_read_answering_503_is_retried(
    make_client: ClientFactory, simulator: Simulator, request_log: RequestLog
) -> None:
    client = await make_client(retry=PATIENT_RETRY)
    await client.register_job(job_spec("web"))
    simulator.controls.set_outage("unavailable")

    listing = asyncio.create_task(client.list_jobs())
    await wait_until(lambda: len(request_log.outcomes("GET", "/v1/jobs")) >= 2)
    simulator.controls.set_outage(None)

    assert [stub.id for stub in (await listing).value] == ["web"]
    assert set(request_log.outcomes("GET", "/v1/jobs")[:-1]) == {"unavailable"}


async def test_a_write_answering_500_is_not_retried(
    client: NomadClient, request_log: RequestLog
) -> None:
    with pytest.raises(errors.UnexpectedAnswer):
        await client.register_job({"ID": "invalid", "TaskGroups": []})
    assert request_log.outcomes("POST", "/v1/jobs") == ["unexpected_answer"]


async def test_a_write_answering_503_is_not_retried(
    make_client: ClientFactory, simulator: Simulator, request_log: RequestLog
) -> None:
    client = await make_client(retry=PATIENT_RETRY)
    simulator.controls.set_outage("unavailable")
    with pytest.raises(errors.Unavailable):
        await client.register_job(job_spec("web"))
    assert request_log.outcomes("POST", "/v1/jobs") == ["unavailable"]


async def test_a_write_that_timed_out_is_not_retried(
    make_client: ClientFactory, simulator: Simulator, request_log: RequestLog
) -> None:
    client = await make_client(timeout_s=HANG_TIMEOUT_S, retry=PATIENT_RETRY)
    simulator.controls.set_outage("hang")
    with pytest.raises(errors.Timeout):
        await client.stop_job("web")
    assert request_log.outcomes("DELETE", "/v1/job/:id") == ["timeout"]


async def test_a_write_nomad_never_saw_is_retried_once_it_is_back(
    make_client: ClientFactory, simulator: Simulator, request_log: RequestLog
) -> None:
    client = await make_client(retry=PATIENT_RETRY)
    simulator.controls.set_outage("refuse")

    registering = asyncio.create_task(client.register_job(job_spec("web")))
    await wait_until(lambda: "unavailable" in request_log.outcomes("POST", "/v1/jobs"))
    simulator.controls.set_outage(None)

    assert (await registering).job_modify_index > 0
    assert (await client.read_job("web")).value.version == 0


async def test_the_hook_sees_every_attempt_with_its_path_template(
    client: NomadClient, request_log: RequestLog
) -> None:
    await client.register_job(job_spec("web"))
    await client.job_summary("web")
    with pytest.raises(errors.NotFound):
        await client.read_job("nope")

    assert [(m, p, o) for m, p, o, _ in request_log.calls] == [
        ("POST", "/v1/jobs", "ok"),
        ("GET", "/v1/job/:id/summary", "ok"),
        ("GET", "/v1/job/:id", "not_found"),
    ]
    assert all(duration >= 0 for *_, duration in request_log.calls)


async def test_a_failing_hook_does_not_fail_the_request(make_client: ClientFactory) -> None:
    def broken(method: str, path: str, outcome: str, duration_s: float) -> None:
        raise RuntimeError("metrics are down")

    client = await make_client(on_request=broken)
    assert (await client.list_jobs()).value == []
