"""Results of Nomad reads and the blocking-query parameters (`index`, `wait`).

A blocking read answers once Nomad's index for the object passes `index`, or when the wait
ends (up to `wait * 17/16`: Nomad adds jitter of up to a sixteenth). Either way the answer
carries the current index; an answer does not guarantee a change.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")

DEFAULT_BLOCKING_WAIT_S = 300.0  # Nomad's wait when a blocking read names none
JITTER_FRACTION = 16  # Nomad adds up to wait/16, so that clients do not wake in step


@dataclass(frozen=True, slots=True)
class QueryResult(Generic[T]):
    """A read's value with Nomad's query metadata (`X-Nomad-Index` and the leader headers)."""

    value: T
    index: int
    known_leader: bool
    last_contact_ms: int

    @classmethod
    def from_headers(cls, value: T, headers: Mapping[str, str]) -> QueryResult[T]:
        """Read the metadata from headers (looked up case-insensitively by aiohttp).

        `ValueError` if a header is present but not a number."""
        return cls(
            value=value,
            index=int(headers.get("X-Nomad-Index", "0")),
            known_leader=headers.get("X-Nomad-KnownLeader", "false").lower() == "true",
            last_contact_ms=int(headers.get("X-Nomad-LastContact", "0")),
        )


def go_duration(seconds: float) -> str:
    """A wait time in Go's duration syntax as Nomad's Go client sends it: `1500ms`."""
    return f"{max(0, round(seconds * 1000))}ms"


def blocking_params(index: int | None, wait_s: float | None) -> list[tuple[str, str]]:
    """Query parameters of a blocking read; none when `index` is None or 0 (no blocking)."""
    if not index:
        return []
    params = [("index", str(index))]
    if wait_s is not None:
        params.append(("wait", go_duration(wait_s)))
    return params


def blocking_timeout_s(index: int | None, wait_s: float | None, margin_s: float) -> float | None:
    """The time bound of a blocking read, longer than Nomad may hold it; None if not blocking."""
    if not index:
        return None
    wait = DEFAULT_BLOCKING_WAIT_S if wait_s is None else wait_s
    return wait * (JITTER_FRACTION + 1) / JITTER_FRACTION + margin_s
