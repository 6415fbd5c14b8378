"""What one access line costs: the micro-benchmark behind `access_line_loop_us`.

    python -m bench.accessline [--lines N]

Run in its own process (it configures logging for the whole process). Lines go to
/dev/null through the bridge's own logging set-up (`nomad_bridge.logs`), at a steady
rate in bursts as a busy event loop would produce them. Prints one JSON object:

- `loop_us`: CPU the producing thread spends per line (`AccessLog.request`): what the
  event loop pays per request;
- `total_us`: CPU of the whole process per line, writer thread included (formatting,
  writing);
- `record_loop_us`, `record_total_us`: the same for the anchor, the standard library's
  way the bridge used before: a `LogRecord` per line through a `QueueHandler`, formatted
  by `JsonFormatter` and written line by line by a `QueueListener` thread.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import queue
import time
from collections.abc import Callable
from logging.handlers import QueueHandler, QueueListener
from typing import TextIO

from nomad_bridge.logs import ACCESS_LOGGER, AccessLog, JsonFormatter, configure_logging

BURST_LINES = 200
BURST_PAUSE_S = 0.002
"""Bursts of lines with pauses: the writer works while the producer waits, as it would
while the event loop waits for sockets."""
DEFAULT_LINES = 100_000
REQUEST_IDS = [f"4f2a9c1be0d7-{n}" for n in range(1000)]

Produce = Callable[[int], None]


def _produce(line: Produce, lines: int) -> float:
    """Thread CPU seconds spent producing `lines` lines (pauses excluded)."""
    spent = 0.0
    for burst in range(0, lines, BURST_LINES):
        numbers = range(burst, min(burst + BURST_LINES, lines))
        started = time.thread_time()
        for n in numbers:
            line(n)
        spent += time.thread_time() - started
        time.sleep(BURST_PAUSE_S)
    return spent


def measure_direct(lines: int, sink: TextIO) -> tuple[float, float]:
    writer = configure_logging("INFO", stream=sink)
    access = AccessLog()
    assert access.direct, "the access line should bypass LogRecords here"
    started = time.process_time()

    def line(n: int) -> None:
        access.request("GET", "/jobs", 200, 0.000123, REQUEST_IDS[n % len(REQUEST_IDS)])

    loop_s = _produce(line, lines)
    writer.stop()
    return loop_s, time.process_time() - started


def measure_records(lines: int, sink: TextIO) -> tuple[float, float]:
    """The anchor: what `configure_logging` did before (a record per line, a thread that
    formats and writes each record as it comes)."""
    handler = logging.StreamHandler(sink)
    handler.setFormatter(JsonFormatter())
    records: queue.SimpleQueue[logging.LogRecord] = queue.SimpleQueue()
    listener = QueueListener(records, handler)
    root = logging.getLogger()
    root.handlers[:] = [QueueHandler(records)]
    root.setLevel(logging.INFO)
    log = logging.getLogger(ACCESS_LOGGER)
    listener.start()
    started = time.process_time()

    def line(n: int) -> None:
        log.info(
            "request",
            extra={
                "method": "GET",
                "route": "/jobs",
                "status": 200,
                "duration_ms": round(0.000123 * 1000, 2),
                "request_id": REQUEST_IDS[n % len(REQUEST_IDS)],
            },
        )

    loop_s = _produce(line, lines)
    listener.stop()
    return loop_s, time.process_time() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lines", type=int, default=DEFAULT_LINES)
    args = parser.parse_args()
    with open(os.devnull, "w", encoding="utf-8") as sink:
        record_loop_s, record_total_s = measure_records(args.lines, sink)
        loop_s, total_s = measure_direct(args.lines, sink)
    per_line_us = 1e6 / args.lines
    print(
        json.dumps(
            {
                "lines": args.lines,
                "loop_us": loop_s * per_line_us,
                "total_us": total_s * per_line_us,
                "record_loop_us": record_loop_s * per_line_us,
                "record_total_us": record_total_s * per_line_us,
            }
        )
    )


if __name__ == "__main__":
    main()
