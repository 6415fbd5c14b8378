"""Logging set-up: one JSON object per line for machines, plain text on a terminal.

Modules log events with `extra={...}` fields (`log.info("job_started", extra={"job": ...})`);
the JSON formatter puts those fields at the top level so log pipelines can index them.
Tokens never reach a log call: settings hold them as `SecretStr`.

Every line is written by one thread of its own (`LineWriter`), in batches: the event loop
only appends to a queue. The access line of each request (`AccessLog`) skips the `LogRecord`
as well when nothing but that writer would see it: it is queued as a tuple and formatted
on the writer thread, so a request pays well under a microsecond for its line.
"""

from __future__ import annotations

import atexit
import json
import logging
import sys
import threading
import time
from collections import deque
from datetime import UTC, datetime
from json.encoder import encode_basestring
from typing import Any, TextIO

# Attributes every LogRecord has; anything else on a record came from `extra=`.
_STANDARD_ATTRS = frozenset(
    vars(logging.LogRecord("", 0, "", 0, "", None, None)).keys() | {"message", "asctime"}
)

FLUSH_INTERVAL_S = 0.1
"""How long the writer lets lines gather before writing them in one go."""
MAX_QUEUED_LINES = 200_000
"""Past this many unwritten lines (the stream blocked), new ones are counted, not kept."""
STOP_TIMEOUT_S = 10.0
ACCESS_LOGGER = "nomad_bridge.access"
ACCESS_EVENT = "request"


def record_fields(record: logging.LogRecord) -> dict[str, Any]:
    """The `extra=` fields of a record."""
    return {k: v for k, v in vars(record).items() if k not in _STANDARD_ATTRS}


def iso_time(created: float) -> str:
    return datetime.fromtimestamp(created, UTC).isoformat(timespec="milliseconds")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": iso_time(record.created),
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


AccessEntry = tuple[float, str, str, int, float, str]
"""(time, method, route, status, duration in seconds, request id): one request's line."""


def access_fields(entry: AccessEntry) -> dict[str, Any]:
    """The line's own fields, as `extra=` carries them."""
    _, method, route, status, duration_s, request_id = entry
    return {
        "method": method,
        "route": route,
        "status": status,
        "duration_ms": round(duration_s * 1000, 2),
        "request_id": request_id,
    }


def access_record(entry: AccessEntry) -> logging.LogRecord:
    record = logging.LogRecord(ACCESS_LOGGER, logging.INFO, __file__, 0, ACCESS_EVENT, None, None)
    record.created = entry[0]
    record.msecs = entry[0] % 1 * 1000
    record.__dict__.update(access_fields(entry))
    return record


class _AccessJson:
    """`JsonFormatter`'s line for an access entry, field for field, without building a dict:
    the whole-second part of the time is formatted once per second, and the fields that
    repeat (method, route, status) once per combination."""

    def __init__(self) -> None:
        self._second = -1
        self._second_text = ""
        self._middles: dict[tuple[str, str, int], str] = {}

    def _middle(self, method: str, route: str, status: int) -> str:
        middle = self._middles[(method, route, status)] = (
            f'+00:00", "level": "info", "logger": "{ACCESS_LOGGER}", "event": "{ACCESS_EVENT}", '
            f'"method": {encode_basestring(method)}, "route": {encode_basestring(route)}, '
            f'"status": {status}, "duration_ms": '
        )
        return middle

    def __call__(self, entry: AccessEntry) -> str:
        created, method, route, status, duration_s, request_id = entry
        second, milli = divmod(int(created * 1000), 1000)
        if second != self._second:
            self._second = second
            self._second_text = datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%S")
        middle = self._middles.get((method, route, status)) or self._middle(method, route, status)
        # `%.2f`: the digits of round(ms, 2), so the same number JsonFormatter writes
        return (
            f'{{"time": "{self._second_text}.{milli:03d}{middle}{duration_s * 1000:.2f}, '
            f'"request_id": {encode_basestring(request_id)}}}'
        )


class LineWriter:
    """Writes log lines to a stream from a thread of its own, a batch at a time.

    Producers only append to a deque (thread-safe, no lock) and, for the first line of a
    batch, wake the thread; it waits `flush_interval_s` for more, then formats and writes
    the batch with one write. `stop()` writes whatever is still queued: nothing is lost at
    shutdown.
    """

    def __init__(
        self,
        stream: TextIO,
        formatter: logging.Formatter,
        *,
        flush_interval_s: float = FLUSH_INTERVAL_S,
        max_queued_lines: int = MAX_QUEUED_LINES,
    ) -> None:
        self._stream = stream
        self._formatter = formatter
        self._json = isinstance(formatter, JsonFormatter)
        self._access_json = _AccessJson()
        self._interval_s = flush_interval_s
        self._max_queued = max_queued_lines
        self._queued: deque[logging.LogRecord | AccessEntry] = deque()
        self._armed = False
        self._dropped = 0
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="log-writer", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def put(self, item: logging.LogRecord | AccessEntry) -> None:
        """Queue one line (a record, or an access entry); never blocks."""
        if self._closed:
            self._write([item])
            return
        queued = self._queued
        if len(queued) >= self._max_queued:
            self._dropped += 1
            return
        queued.append(item)
        if not self._armed:
            self._armed = True
            self._wake.set()

    def stop(self) -> None:
        """Write every queued line, then stop the thread (idempotent)."""
        if self._closed:
            return
        self._stopping.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(STOP_TIMEOUT_S)
        self._closed = True
        self._drain()

    def _run(self) -> None:
        while not self._stopping.is_set():
            self._wake.wait()
            self._wake.clear()
            self._stopping.wait(self._interval_s)  # let a batch gather
            self._armed = False  # lines queued from here on wake the next round
            self._drain()

    def _drain(self) -> None:
        items: list[logging.LogRecord | AccessEntry] = []
        queued = self._queued
        while queued:
            items.append(queued.popleft())
        if self._dropped:
            dropped, self._dropped = self._dropped, 0
            items.append(_dropped_record(dropped))
        if items:
            self._write(items)

    def _write(self, items: list[logging.LogRecord | AccessEntry]) -> None:
        lines = []
        for item in items:
            try:
                lines.append(self._format(item))
            except Exception:  # one bad record must not cost the batch
                lines.append(f"unformattable log record: {item!r}")
        try:
            self._stream.write("\n".join(lines) + "\n")
            self._stream.flush()
        except (OSError, ValueError):  # stream closed or broken: nowhere left to say it
            pass

    def _format(self, item: logging.LogRecord | AccessEntry) -> str:
        if isinstance(item, tuple):
            if self._json:
                return self._access_json(item)
            item = access_record(item)
        return self._formatter.format(item)


def _dropped_record(count: int) -> logging.LogRecord:
    record = logging.LogRecord(
        __name__, logging.WARNING, __file__, 0, "log_lines_dropped", None, None
    )
    record.__dict__["count"] = count
    return record


class _WriterHandler(logging.Handler):
    """Hands records to the writer as they are: formatted on its thread, not here."""

    def __init__(self, writer: LineWriter) -> None:
        super().__init__()
        self.writer = writer

    def handle(self, record: logging.LogRecord) -> bool:
        # No handler lock: the writer's queue is thread-safe.
        if self.filter(record):
            self.writer.put(record)
            return True
        return False

    def emit(self, record: logging.LogRecord) -> None:
        self.writer.put(record)


def _writer_of(logger: logging.Logger) -> LineWriter | None:
    """The writer `logger`'s records end in, when that writer is all that sees them (no
    other handler, no filter on the way): then a line may skip the `LogRecord`."""
    handlers: list[logging.Handler] = []
    current: logging.Logger | None = logger
    while current is not None:
        if current.filters:
            return None
        handlers += current.handlers
        current = current.parent if current.propagate else None
    if len(handlers) == 1 and isinstance(handlers[0], _WriterHandler) and not handlers[0].filters:
        return handlers[0].writer
    return None


class AccessLog:
    """One line per request (`method`, `route`, `status`, `duration_ms`, `request_id`),
    at INFO on the `nomad_bridge.access` logger.

    With `configure_logging`'s writer behind that logger, the line goes straight to the
    writer's queue as a tuple; otherwise (tests capturing records, an application with its
    own logging) it is an ordinary `LogRecord` with the same fields.
    """

    def __init__(self) -> None:
        self._logger = logging.getLogger(ACCESS_LOGGER)
        self._writer = _writer_of(self._logger)

    @property
    def direct(self) -> bool:
        """Whether lines skip the `LogRecord` (they go straight to the writer's queue)."""
        return self._writer is not None

    def request(
        self, method: str, route: str, status: int, duration_s: float, request_id: str
    ) -> None:
        if not self._logger.isEnabledFor(logging.INFO):
            return
        entry = (time.time(), method, route, status, duration_s, request_id)
        if self._writer is not None:
            self._writer.put(entry)
        else:
            self._logger.info(ACCESS_EVENT, extra=access_fields(entry))


def _skip_unused_record_fields() -> None:
    """The logging HOWTO's optimisations: the formatters never show the caller's file and
    line, thread, process or multiprocessing names, so no record pays for finding them."""
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    logging._srcfile = None


def configure_logging(
    level: str = "INFO",
    *,
    stream: TextIO | None = None,
    flush_interval_s: float = FLUSH_INTERVAL_S,
) -> LineWriter:
    """Log to `stream` (stderr): JSON lines unless it is a terminal.

    Lines are formatted and written by the writer's thread, in batches, so the event loop
    never waits on a write to stderr. Returns the writer: `stop()` flushes it and ends its
    thread (registered at exit too).
    """
    stream = stream if stream is not None else sys.stderr
    formatter = TextFormatter() if stream.isatty() else JsonFormatter()
    writer = LineWriter(stream, formatter, flush_interval_s=flush_interval_s)
    root = logging.getLogger()
    root.handlers[:] = [_WriterHandler(writer)]
    root.setLevel(level.upper())
    # aiohttp's own access log would repeat our request lines in another format.
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    _skip_unused_record_fields()
    writer.start()
    atexit.register(writer.stop)
    return writer
