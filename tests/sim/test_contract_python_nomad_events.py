"""Contract: python-nomad's event stream client reads the simulator's stream.

python-nomad (jrxFive/python-nomad 2.1, nomad/api/event.py) is synchronous: `get_stream`
returns a thread that reads `GET /v1/event/stream` with `requests` (`iter_lines`), drops the
`{}` heartbeats, and puts every other line on a queue; it checks its exit event after each
line it reads, so heartbeats are what let it stop. Each test runs that thread against the
simulator served in its own thread, with a short heartbeat, and waits on the queue with a
timeout. Nomad facts: api-docs/events.mdx; nomad/stream/ndjson.go; event_broker.go.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import nomad
import pytest

from nomad_bridge.sim import SimConfig, ThreadHandle
from tests.sim.harness import config_with, python_nomad
from tests.support import job_spec

pytestmark = pytest.mark.usefixtures("no_nomad_environment")

HEARTBEAT_S = 0.05
QUEUE_TIMEOUT_S = 5.0
THREAD_STOP_TIMEOUT_S = 5.0


@pytest.fixture
def sim_config(sim_config: SimConfig) -> SimConfig:
    return config_with(sim_config, heartbeat_interval_s=HEARTBEAT_S, namespaces=["default", "team"])


@contextmanager
def _streaming(client: nomad.Nomad, **kwargs: Any) -> Iterator[queue.Queue[dict[str, Any]]]:
    """python-nomad's stream thread, running for the block, then stopped and joined."""
    thread, stop, events = client.event.stream.get_stream(**kwargs)
    thread.start()
    try:
        yield events
    finally:
        stop.set()
        thread.join(THREAD_STOP_TIMEOUT_S)
        assert not thread.is_alive(), "python-nomad's stream thread did not stop"


def _until(events: queue.Queue[dict[str, Any]], kind: str, key: str) -> list[dict[str, Any]]:
    """Every queued line up to and including the first with that event type and key."""
    seen = []
    while True:
        line = events.get(timeout=QUEUE_TIMEOUT_S)
        seen.append(line)
        if any(e["Type"] == kind and e["Key"] == key for e in line["Events"]):
            return seen


def test_it_receives_a_registration_and_no_heartbeat(threaded_sim: ThreadHandle) -> None:
    """A registration reaches python-nomad's queue as a line with a JobRegistered event;
    the `{}` heartbeats it skips never show up there.

    Source: python-nomad nomad/api/event.py (`if msg: event_queue.put(msg)`);
    nomad/stream/ndjson.go (`{}` heartbeats); nomad/state/events.go (JobRegistered).
    """
    client = python_nomad(threaded_sim.url)
    with _streaming(client, topic=["Job"]) as events:
        client.jobs.register_job({"Job": job_spec("pn-events")})
        seen = _until(events, "JobRegistered", "pn-events")

    assert all(set(line) == {"Index", "Events"} for line in seen)
    assert seen[-1]["Events"][-1]["Payload"]["Job"]["ID"] == "pn-events"


def test_its_index_starts_at_that_entry(threaded_sim: ThreadHandle) -> None:
    """`get_stream(index=N)` starts at the entry with index N, included.

    Source: python-nomad nomad/api/event.py (`params = {"index": index}`);
    nomad/stream/event_buffer.go StartAtClosest.
    """
    client = python_nomad(threaded_sim.url)
    client.jobs.register_job({"Job": job_spec("pn-first")})
    second = client.jobs.register_job({"Job": job_spec("pn-second")})

    with _streaming(client, index=second["JobModifyIndex"], topic=["Job"]) as events:
        first_line = events.get(timeout=QUEUE_TIMEOUT_S)

    assert first_line["Index"] == second["JobModifyIndex"]
    assert [e["Key"] for e in first_line["Events"]] == ["pn-second"]


def test_its_namespace_selects_that_namespaces_events(threaded_sim: ThreadHandle) -> None:
    """`get_stream(namespace="team")` sends `namespace=team`: only that namespace's events.

    Source: python-nomad nomad/api/event.py (`params["namespace"] = namespace`);
    nomad/event_endpoint.go validateACL; nomad/stream/subscription.go filter.
    """
    client = python_nomad(threaded_sim.url)
    with _streaming(client, topic=["Job"], namespace="team") as events:
        client.jobs.register_job({"Job": job_spec("pn-default")})
        client.jobs.register_job({"Job": {**job_spec("pn-team"), "Namespace": "team"}})
        seen = _until(events, "JobRegistered", "pn-team")

    assert {e["Namespace"] for line in seen for e in line["Events"]} == {"team"}


def test_it_stops_on_its_exit_event_between_heartbeats(threaded_sim: ThreadHandle) -> None:
    """With no events at all, the heartbeat lines are what wake python-nomad's thread to
    notice its exit event.

    Source: python-nomad nomad/api/event.py (`if exit_event.is_set(): return` after each
    line); nomad/stream/ndjson.go (heartbeat ticker).
    """
    client = python_nomad(threaded_sim.url)
    thread, stop, _ = client.event.stream.get_stream(topic=["Job:nothing-will-come"])
    thread.start()
    stop.set()
    thread.join(THREAD_STOP_TIMEOUT_S)

    assert isinstance(thread, threading.Thread)
    assert not thread.is_alive()
