"""Logging set-up: one JSON object per line for machines, plain text on a terminal.

Modules log events with `extra={...}` fields (`log.info("job_started", extra={"job": ...})`);
the JSON formatter puts those fields at the top level so log pipelines can index them.
Tokens never reach a log call: settings hold them as `SecretStr`.
"""

from __future__ import annotations

import atexit
import json
import logging
import queue
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from logging.handlers import QueueHandler, QueueListener
from typing import Any, TextIO

# Attributes every LogRecord has; anything else on a record came from `extra=`.
_STANDARD_ATTRS = frozenset(
    vars(logging.LogRecord("", 0, "", 0, "", None, None)).keys() | {"message", "asctime"}
)


def record_fields(record: logging.LogRecord) -> dict[str, Any]:
    """The `extra=` fields of a record."""
    return {k: v for k, v in vars(record).items() if k not in _STANDARD_ATTRS}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": record.getMessage(),
            **record_fields(record),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """`time level logger event key=value ...` for people at a terminal."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        fields = " ".join(f"{k}={v}" for k, v in record_fields(record).items())
        line = super().format(record)
        return f"{line} {fields}" if fields else line


class _EnqueueRecord(QueueHandler):
    """Hands the record over as it is: formatting happens on the writer thread, not here."""

    def prepare(self, record: logging.LogRecord) -> logging.LogRecord:
        return record


def configure_logging(level: str = "INFO", *, stream: TextIO | None = None) -> Callable[[], None]:
    """Log to `stream` (stderr): JSON lines unless it is a terminal.

    Records are formatted and written by a thread of their own (the logging cookbook's
    QueueHandler/QueueListener), so the event loop never waits on a write to stderr.
    Returns the function that flushes and stops that thread (registered at exit too).
    """
    stream = stream if stream is not None else sys.stderr
    writer = logging.StreamHandler(stream)
    writer.setFormatter(TextFormatter() if stream.isatty() else JsonFormatter())
    records: queue.SimpleQueue[logging.LogRecord] = queue.SimpleQueue()
    listener = QueueListener(records, writer, respect_handler_level=False)
    root = logging.getLogger()
    root.handlers[:] = [_EnqueueRecord(records)]
    root.setLevel(level.upper())
    # aiohttp's own access log would repeat our request lines in another format.
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    listener.start()
    stopped = False

    def stop() -> None:
        nonlocal stopped
        if not stopped:
            stopped = True
            listener.stop()

    atexit.register(stop)
    return stop
