"""The event stream as the simulation drives it: event types over a job's life, restores,
shutdown, and the controls tests use (buffer size, heartbeat, faults, ACL tokens)."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from nomad_bridge.sim import SimConfig, SimServer, Simulator
from nomad_bridge.sim.acl import Acl
from nomad_bridge.sim.testing import batch_job, job_status, service_job, wait_until
from tests.sim.event_streams import QUIET_PERIOD_S, of, open_stream, refused
from tests.sim.harness import config_with, nomad_http

CLOSED = b"subscription closed by server, client should resubscribe"
HEARTBEAT_S = 0.05
NEVER_S = 3600.0
MANAGEMENT_TOKEN = "sim-root"
JOB = [("topic", "Job")]


async def _nothing_arrives(stream: Any) -> bool:
    """True when not a byte arrives for a quiet period."""
    try:
        await stream.raw_line(QUIET_PERIOD_S)
    except TimeoutError:
        return True
    return False


async def test_register_run_stop_emit_nomads_types(
    simulator: Simulator, sim_server: SimServer
) -> None:
    """Event Type follows the raft message (nomad/state/events.go MsgTypeEvents): register
    is JobRegistered, the scheduler's plan is PlanResult, client updates are
    AllocationUpdated, stop is JobDeregistered with Stop:true, and the status change the
    completed eval causes is EvaluationUpdated on the Job topic."""
    params = [("topic", "Job"), ("topic", "Allocation")]
    async with open_stream(sim_server.url, params) as events:
        await events.line()
        simulator.register_job_spec(service_job("web", web=1))
        _, registered = await events.until(of("Job", "JobRegistered", "web"))
        _, placed = await events.until(of("Allocation", "PlanResult"))
        _, running = await events.until(of("Allocation", "AllocationUpdated"))
        simulator.jobs.deregister("web", namespace="default", purge=False)
        _, stopped = await events.until(of("Job", "JobDeregistered", "web"))
        _, dead = await events.until(
            lambda e: e["Topic"] == "Job" and e["Payload"]["Job"]["Status"] == "dead"
        )

    assert registered["Payload"]["Job"]["ID"] == "web"
    assert placed["FilterKeys"][0] == "web"
    assert running["Payload"]["Allocation"]["ClientStatus"] == "running"
    assert stopped["Payload"]["Job"]["Stop"] is True
    assert dead["Type"] == "EvaluationUpdated"
    assert {e["Topic"] for e in events.events()} <= {"Job", "Allocation"}


async def test_gc_emits_job_batch_deregistered(simulator: Simulator, sim_server: SimServer) -> None:
    """A GC reaps dead jobs through Job.BatchDeregister: JobBatchDeregistered, one event per
    job deleted (nomad/state/events.go MsgTypeEvents; PR #19903 for deletions)."""
    simulator.register_job_spec(batch_job("report"))
    await wait_until(simulator, lambda: job_status(simulator, "report") == "dead")
    async with open_stream(sim_server.url, JOB) as events:
        await events.line()
        simulator.controls.garbage_collect()
        _, collected = await events.until(of("Job", "JobBatchDeregistered", "report"))

    assert collected["Namespace"] == "default"


async def test_an_index_reset_closes_open_streams_and_empties_the_buffer(
    simulator: Simulator, sim_server: SimServer
) -> None:
    """`reset_index` is a snapshot restore: the old broker closes every stream (the closed
    text ends it), and the new one starts empty, so a reader from index 0 sees only what
    happens after the restore (nomad/fsm.go restoreImpl: new state store and broker, the old
    store Abandon()ed → StopEventBroker → closeAll)."""
    simulator.register_job_spec(batch_job("earlier"))
    simulator.register_job_spec(batch_job("before"))
    async with open_stream(sim_server.url, JOB) as old:
        await old.until(of("Job", "JobRegistered", "before"))
        restored = simulator.controls.reset_index(to=1)
        ending = await old.ending()
    simulator.register_job_spec(batch_job("after"))

    async with open_stream(sim_server.url, JOB) as new:
        await new.until(of("Job", "JobRegistered", "after"))

    assert ending == CLOSED
    assert {e["Key"] for e in new.events() if e["Type"] == "JobRegistered"} == {"after"}
    assert all(line["Index"] > restored for line in new.data)


async def test_a_stopping_simulator_ends_its_streams_cleanly(
    simulator: Simulator, sim_server: SimServer
) -> None:
    """On shutdown every stream's response is completed, with no error text: what a Nomad
    client sees when an agent goes away is a race; a clean end is one of its outcomes."""
    async with open_stream(sim_server.url) as events:
        assert await events.line() == {}
        await sim_server.stop()
        assert await events.ending() == b""


# --- settings and controls ----------------------------------------------------------------


async def test_the_heartbeat_interval_is_a_setting_and_a_control(
    simulator: Simulator, sim_server: SimServer
) -> None:
    """`SimConfig.heartbeat_interval_s` sets the `{}` period; `set_event_heartbeat` changes
    it for open streams too."""
    simulator.config.heartbeat_interval_s = NEVER_S
    async with open_stream(sim_server.url, JOB) as events:
        assert await events.line() == {}
        quiet = await _nothing_arrives(events)
        simulator.controls.set_event_heartbeat(HEARTBEAT_S)
        beats = [await events.line(), await events.line()]

    assert quiet
    assert beats == [{}, {}]


async def test_the_buffer_size_is_a_setting_and_a_control(sim_config: SimConfig) -> None:
    """`SimConfig.event_buffer_size` sizes the buffer; `set_event_buffer_size` resizes it
    (keeping the newest entries): replay from index 0 is then size + 1 entries."""
    simulator = Simulator(config_with(sim_config, eval_delay_s=60.0, event_buffer_size=5))
    server = SimServer(simulator)
    await server.start()
    try:
        indexes = [simulator.register_job_spec(batch_job(f"j{n}"))["Index"] for n in range(8)]
        simulator.controls.set_event_buffer_size(2)
        async with open_stream(server.url, JOB) as events:
            assert await events.line() == {}
            replayed = await events.lines_for()
    finally:
        await server.stop()

    assert [line["Index"] for line in replayed] == indexes[-3:]
    assert simulator.config.event_buffer_size == 2


async def test_a_stall_holds_everything_back_until_it_clears(
    simulator: Simulator, sim_server: SimServer
) -> None:
    """`stall`: open streams send nothing, heartbeats included, and stay open, as behind a
    proxy that buffers; when the fault clears, what was held arrives."""
    simulator.config.heartbeat_interval_s = HEARTBEAT_S
    async with open_stream(sim_server.url, JOB) as events:
        assert await events.line() == {}
        simulator.controls.set_event_stream_fault("stall")
        simulator.register_job_spec(batch_job("held"))
        quiet = await _nothing_arrives(events)
        simulator.controls.set_event_stream_fault(None)
        _, event = await events.until(of("Job", "JobRegistered", "held"))

    assert quiet
    assert event["Key"] == "held"


async def test_a_stream_opened_during_a_stall_gets_its_headers_and_no_body(
    simulator: Simulator, sim_server: SimServer
) -> None:
    """A stream that starts while `stall` is on answers 200 and then nothing, not even the
    first `{}`."""
    simulator.config.heartbeat_interval_s = HEARTBEAT_S
    simulator.controls.set_event_stream_fault("stall")
    async with open_stream(sim_server.url, JOB) as events:
        quiet = await _nothing_arrives(events)
        simulator.controls.set_event_stream_fault(None)
        first = await events.raw_line()

    assert quiet
    assert first == b"{}\n"


async def test_forbidden_refuses_new_streams_as_nomad_refuses_a_token(
    simulator: Simulator, sim_server: SimServer
) -> None:
    """`forbidden`: new streams get Nomad's refusal (403 `Permission denied`, JSON content
    type); a stream already open goes on."""
    async with open_stream(sim_server.url, JOB) as open_before:
        assert await open_before.line() == {}
        simulator.controls.set_event_stream_fault("forbidden")
        answer = await refused(sim_server.url, JOB)
        simulator.register_job_spec(batch_job("still-flowing"))
        await open_before.until(of("Job", "JobRegistered", "still-flowing"))
    simulator.controls.set_event_stream_fault(None)

    assert answer == (403, "application/json", "Permission denied")


async def test_dropping_cuts_open_streams_mid_response(
    simulator: Simulator, sim_server: SimServer
) -> None:
    """`drop_event_streams` cuts each open stream's connection: the client sees a broken
    response, not an end; new streams work."""
    async with open_stream(sim_server.url, JOB) as events:
        assert await events.line() == {}
        assert simulator.controls.drop_event_streams() == 1
        with pytest.raises(aiohttp.ClientPayloadError):
            await events.ending()
    async with open_stream(sim_server.url, JOB) as again:
        assert await again.line() == {}


async def test_replacing_the_acl_closes_the_streams_it_no_longer_allows(
    sim_config: SimConfig,
) -> None:
    """Assigning `simulator.acl` (all tokens and policies at once, as after rotating the
    management token) closes the streams of tokens that no longer exist."""
    simulator = Simulator(config_with(sim_config, acl_token=MANAGEMENT_TOKEN))
    server = SimServer(simulator)
    await server.start()
    try:
        async with open_stream(server.url, JOB, token=MANAGEMENT_TOKEN) as events:
            assert await events.line() == {}
            simulator.acl = Acl("rotated")
            ending = await events.ending()
    finally:
        await server.stop()

    assert ending == CLOSED


async def test_the_stream_controls_over_http(simulator: Simulator, sim_server: SimServer) -> None:
    """The same controls under `/_sim/`: buffer size, heartbeat, faults, drop, and what
    `/_sim/state` reports; a bad fault is 400."""
    async with nomad_http(sim_server.url) as http:
        sized = await http.post("/_sim/event-buffer-size", body={"size": 7})
        beat = await http.post("/_sim/event-heartbeat", body={"seconds": 2.5})
        bad = await http.post("/_sim/event-stream-fault", body={"mode": "sleepy"})
        stalled = await http.post("/_sim/event-stream-fault", body={"mode": "stall"})
        async with open_stream(sim_server.url, JOB):
            state = (await http.get("/_sim/state")).json()
            dropped = await http.post("/_sim/event-stream-drop")
        cleared = await http.post("/_sim/event-stream-fault", body={"mode": None})

    assert sized.json() == {"event_buffer_size": 7}
    assert beat.json() == {"heartbeat_interval_s": 2.5}
    assert bad.status == 400
    assert stalled.json() == {"event_stream_fault": "stall"}
    assert cleared.json() == {"event_stream_fault": None}
    assert dropped.json() == {"dropped": 1}
    assert {k: state[k] for k in ("event_stream_fault", "event_buffer_size")} == {
        "event_stream_fault": "stall",
        "event_buffer_size": 7,
    }
    assert (state["heartbeat_interval_s"], state["event_streams"]) == (2.5, 1)


async def test_the_acl_controls_over_http(sim_config: SimConfig) -> None:
    """`/_sim/acl-policy` and `/_sim/acl-token` make a token lacking read-job (refused the
    stream, allowed to list jobs) and revoke it."""
    simulator = Simulator(config_with(sim_config, acl_token=MANAGEMENT_TOKEN))
    server = SimServer(simulator)
    await server.start()
    try:
        async with nomad_http(server.url) as http:
            await http.post(
                "/_sim/acl-policy",
                body={"name": "lister", "namespaces": {"default": ["list-jobs", "submit-job"]}},
            )
            made = await http.post("/_sim/acl-token", body={"policies": ["lister"]})
            token = made.json()["secret_id"]
            listed = await http.get("/v1/jobs", headers={"X-Nomad-Token": token})
            stream = await refused(server.url, JOB, token=token)
            revoked = await http.delete("/_sim/acl-token", body={"secret_id": token})
            after = await http.get("/v1/jobs", headers={"X-Nomad-Token": token})
    finally:
        await server.stop()

    assert listed.status == 200
    assert stream == (403, "application/json", "Permission denied")
    assert revoked.json() == {"deleted": True}
    assert after.status == 403


def test_tokens_need_acls_on() -> None:
    """Creating a token on a simulator without ACLs is refused: there is nothing to check it
    against (Nomad answers its ACL endpoints 400 `ACL support disabled`)."""
    with pytest.raises(ValueError, match="ACLs are disabled"):
        Simulator(SimConfig()).controls.create_acl_token()


def test_stream_fault_names_are_checked(simulator: Simulator) -> None:
    with pytest.raises(ValueError, match="unknown fault"):
        simulator.controls.set_event_stream_fault("sleepy")  # type: ignore[arg-type]
