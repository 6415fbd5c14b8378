"""The `waitIndex` long poll's request side: which index, and how long to wait (SPEC 3)."""

from __future__ import annotations

import random
import re

from aiohttp import web

from nomad_bridge.api.problems import Problem
from nomad_bridge.nomad.query import DEFAULT_BLOCKING_WAIT_S, JITTER_FRACTION

WAIT_INDEX_HEADER = "waitIndex"
LAST_CONTACT_HEADER = "X-Bridge-LastContact"
"""Milliseconds since the view last heard from Nomad (0 while its watch is healthy): a read
answered from memory during an outage says how stale it may be, as Nomad's
`X-Nomad-LastContact` does for a stale read."""
WAIT_QUERY = "wait"
WAIT_INDEX_MAX_DIGITS = 20  # up to 10**20 - 1: more than any uint64 index Nomad sends
WAIT_DEFAULT_S = DEFAULT_BLOCKING_WAIT_S  # as Nomad's blocking queries
WAIT_CAP_S = 600.0

_UNIT_S = {
    "ns": 1e-9,
    "us": 1e-6,
    "µs": 1e-6,
    "μs": 1e-6,
    "ms": 1e-3,
    "s": 1.0,
    "m": 60.0,
    "h": 3600.0,
}
GO_DURATION_PART = r"(?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|μs|ms|s|m|h)"
PLAIN_SECONDS = r"\d+(?:\.\d+)?"
WAIT_PATTERN = f"^(?:{PLAIN_SECONDS}|(?:{GO_DURATION_PART})+)$"  # what `wait_time_s` accepts
_GO_DURATION = re.compile(GO_DURATION_PART)
_PLAIN_SECONDS = re.compile(PLAIN_SECONDS)


def parse_wait_index(request: web.Request) -> int | None:
    """The client's `waitIndex` header: absent, or a non-negative integer (else 400)."""
    raw = request.headers.get(WAIT_INDEX_HEADER)
    if raw is None:
        return None
    value = raw.strip()
    if not (value.isascii() and value.isdecimal()) or len(value) > WAIT_INDEX_MAX_DIGITS:
        raise Problem(400, f"waitIndex must be a non-negative integer, got {raw[:64]!r}")
    return int(value)


def parse_duration_s(text: str) -> float:
    """Nomad's duration syntax (`30s`, `1m30s`, `500ms`) or plain seconds; `ValueError` else."""
    if _PLAIN_SECONDS.fullmatch(text):
        return float(text)
    if not text or _GO_DURATION.sub("", text) != "":
        raise ValueError(text)
    total = 0.0
    for part in _GO_DURATION.findall(text):
        number = re.match(r"[\d.]+", part)
        assert number is not None
        total += float(number.group()) * _UNIT_S[part[number.end() :]]
    return total


def parse_long_poll(request: web.Request) -> tuple[int, float] | None:
    """`(waitIndex, seconds it may wait)` of a long poll, None for a plain read (which pays
    for no query parsing unless it has a query string); a bad `wait` is 400 either way."""
    wait_index = parse_wait_index(request)
    if wait_index is None and "?" not in request.raw_path:
        return None
    wait_s = wait_time_s(request)
    return None if wait_index is None else (wait_index, wait_s)


def wait_time_s(request: web.Request) -> float:
    """How long this request may wait: `?wait=` capped at 10 minutes, plus Nomad-like jitter."""
    raw = request.query.get(WAIT_QUERY)
    wait_s = WAIT_DEFAULT_S
    if raw is not None:
        try:
            wait_s = min(parse_duration_s(raw.strip()), WAIT_CAP_S)
        except ValueError:
            raise Problem(
                400, f"wait must be a duration such as 30s or 5m, or seconds; got {raw[:64]!r}"
            ) from None
    return wait_s + random.uniform(0, wait_s / JITTER_FRACTION)
