"""Structured logging: JSON lines for machines, text for terminals (issue 5), written off the
event loop in batches, with the access line's content unchanged (issue 11)."""

from __future__ import annotations

import io
import json
import logging
import re
import threading
from collections.abc import Iterator

import pytest

from nomad_bridge.logs import (
    ACCESS_LOGGER,
    AccessLog,
    JsonFormatter,
    LineWriter,
    TextFormatter,
    configure_logging,
)

ACCESS_FIELDS = [
    "time",
    "level",
    "logger",
    "event",
    "method",
    "route",
    "status",
    "duration_ms",
    "request_id",
]
TIME_PATTERN = r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00$"
HOUR_S = 3600.0


def record(**extra: object) -> logging.LogRecord:
    entry = logging.LogRecord(
        "nomad_bridge.x", logging.INFO, __file__, 1, "job_started", None, None
    )
    entry.__dict__.update(extra)
    return entry


@pytest.fixture
def own_logging() -> Iterator[None]:
    """Give the root logger back as it was (configure_logging replaces its handlers)."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def test_json_lines_carry_the_event_and_its_fields_at_top_level() -> None:
    line = JsonFormatter().format(record(job="web", attempts=2))
    entry = json.loads(line)
    assert entry["event"] == "job_started"
    assert entry["level"] == "info"
    assert (entry["job"], entry["attempts"]) == ("web", 2)
    assert "\n" not in line


def test_text_lines_end_with_key_value_fields() -> None:
    assert TextFormatter().format(record(job="web")).endswith("job_started job=web")


@pytest.mark.usefixtures("own_logging")
def test_configure_logging_writes_json_when_not_a_terminal() -> None:
    stream = io.StringIO()
    writer = configure_logging("DEBUG", stream=stream)
    logging.getLogger("nomad_bridge.test").info("hello", extra={"n": 1})
    writer.stop()  # writes what is queued, ends the writer thread
    assert json.loads(stream.getvalue().splitlines()[-1])["n"] == 1


@pytest.mark.usefixtures("own_logging")
def test_an_access_line_has_exactly_the_fields_it_always_had() -> None:
    stream = io.StringIO()
    writer = configure_logging("INFO", stream=stream)
    access = AccessLog()
    assert access.direct  # no LogRecord on the request path
    access.request("GET", "/job/{jobName}/summary", 404, 0.001234, "abc-123")
    access.request("POST", "/jobs/stop/{jobName}", 200, 0.5, "4f2a9c1be0d7-7")
    writer.stop()
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [list(line) for line in lines] == [ACCESS_FIELDS, ACCESS_FIELDS]
    first, second = lines
    assert {k: v for k, v in first.items() if k != "time"} == {
        "level": "info",
        "logger": ACCESS_LOGGER,
        "event": "request",
        "method": "GET",
        "route": "/job/{jobName}/summary",
        "status": 404,
        "duration_ms": 1.23,
        "request_id": "abc-123",
    }
    assert (second["status"], second["duration_ms"]) == (200, 500.0)
    assert all(re.match(TIME_PATTERN, line["time"]) for line in lines)


def test_an_access_line_without_our_writer_is_a_record_with_the_same_fields(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level("INFO", logger=ACCESS_LOGGER)
    access = AccessLog()
    assert not access.direct  # pytest's handlers see records: so does this line
    access.request("GET", "/jobs", 200, 0.000123, "abc-1")
    (line,) = [json.loads(JsonFormatter().format(r)) for r in caplog.records]
    assert list(line) == ACCESS_FIELDS
    assert (line["route"], line["duration_ms"], line["request_id"]) == ("/jobs", 0.12, "abc-1")


def test_lines_still_queued_are_all_written_when_the_writer_stops() -> None:
    stream = io.StringIO()
    writer = LineWriter(stream, JsonFormatter(), flush_interval_s=HOUR_S)
    writer.start()
    for n in range(5000):
        writer.put((1.0e9, "GET", "/jobs", 200, 0.0001, f"id-{n}"))
    writer.put(record(job="web"))
    writer.stop()  # the batch would have waited an hour: stop writes it now
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [line["request_id"] for line in lines[:-1]] == [f"id-{n}" for n in range(5000)]
    assert lines[-1]["event"] == "job_started"


class BlockedStream(io.StringIO):
    """A stream whose first write blocks until released, as a full pipe would."""

    def __init__(self) -> None:
        super().__init__()
        self.entered = threading.Event()
        self.release = threading.Event()

    def write(self, text: str) -> int:
        self.entered.set()
        assert self.release.wait(30)
        return super().write(text)


def test_a_blocked_stream_never_blocks_whoever_logs_and_overflow_is_counted() -> None:
    stream = BlockedStream()
    writer = LineWriter(stream, JsonFormatter(), flush_interval_s=0, max_queued_lines=100)
    writer.start()
    writer.put((1.0e9, "GET", "/jobs", 200, 0.0001, "first"))
    assert stream.entered.wait(30)  # the writer is stuck in the stream now
    for n in range(1000):
        writer.put((1.0e9, "GET", "/jobs", 200, 0.0001, f"id-{n}"))  # returns at once
    stream.release.set()
    writer.stop()
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [line.get("request_id") for line in lines[:101]] == [
        "first",
        *(f"id-{n}" for n in range(100)),
    ]
    assert (lines[-1]["event"], lines[-1]["count"]) == ("log_lines_dropped", 900)
