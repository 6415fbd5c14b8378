"""Structured logging: JSON lines for machines, text for terminals (issue 5)."""

from __future__ import annotations

import io
import json
import logging

from nomad_bridge.logs import JsonFormatter, TextFormatter, configure_logging


def record(**extra: object) -> logging.LogRecord:
    entry = logging.LogRecord(
        "nomad_bridge.x", logging.INFO, __file__, 1, "job_started", None, None
    )
    entry.__dict__.update(extra)
    return entry


def test_json_lines_carry_the_event_and_its_fields_at_top_level() -> None:
    line = JsonFormatter().format(record(job="web", attempts=2))
    entry = json.loads(line)
    assert entry["event"] == "job_started"
    assert entry["level"] == "info"
    assert (entry["job"], entry["attempts"]) == ("web", 2)
    assert "\n" not in line


def test_text_lines_end_with_key_value_fields() -> None:
    assert TextFormatter().format(record(job="web")).endswith("job_started job=web")


def test_configure_logging_writes_json_when_not_a_terminal() -> None:
    stream = io.StringIO()
    stop = configure_logging("DEBUG", stream=stream)
    logging.getLogger("nomad_bridge.test").info("hello", extra={"n": 1})
    stop()  # flushes the writer thread
    assert json.loads(stream.getvalue().splitlines()[-1])["n"] == 1
    logging.getLogger().handlers.clear()
