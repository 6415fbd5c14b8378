"""When a failed Nomad request is tried again, and how long to wait before it."""

from __future__ import annotations

import random
from dataclasses import dataclass

from nomad_bridge.nomad.errors import NomadError, Timeout, TLSFailure, Unavailable

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD"})


def backoff_s(
    attempt: int, *, base_s: float, cap_s: float, rng: random.Random | None = None
) -> float:
    """Exponential backoff with full jitter: uniform in [0, min(cap, base * 2^(attempt-1))].

    The one backoff of the project (Nomad retries, check-and-set conflicts, the watch, the
    operator CLI): full jitter spreads competing replicas and clients apart (AWS's
    "Exponential Backoff and Jitter"). `attempt` is 1-based.
    """
    ceiling = min(cap_s, base_s * 2 ** max(attempt - 1, 0))
    return (rng or random).uniform(0.0, ceiling)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Up to `attempts` tries per request, with exponential backoff and full jitter.

    Reads (GET) are retried when Nomad was unavailable or did not answer in time. Writes are
    retried only when the connection could not be made, so Nomad never saw them: a write that
    may have reached Nomad is never sent twice. Answers (4xx, check-and-set conflicts, other
    500s) and TLS failures (a certificate or handshake problem is configuration) are never
    retried here.
    """

    attempts: int = 3
    base_delay_s: float = 0.1
    max_delay_s: float = 2.0
    retry_timeouts: bool = True
    """Whether a read that timed out is tried again. A server answering clients wants it
    off: each retry adds a whole timeout to the client's wait."""

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError("attempts must be at least 1")
        if self.base_delay_s < 0 or self.max_delay_s < 0:
            raise ValueError("delays must not be negative")

    def should_retry(self, method: str, error: NomadError, attempt: int) -> bool:
        """Whether to try again after `error` ended try number `attempt` (1-based)."""
        if attempt >= self.attempts or isinstance(error, TLSFailure):
            return False  # a TLS failure is configuration: trying again cannot fix it
        if method.upper() in IDEMPOTENT_METHODS:
            return isinstance(error, Unavailable) or (
                self.retry_timeouts and isinstance(error, Timeout)
            )
        return isinstance(error, Unavailable) and not error.request_sent

    def delay_s(self, attempt: int, rng: random.Random) -> float:
        """How long to wait after try number `attempt` failed (see `backoff_s`)."""
        return backoff_s(attempt, base_s=self.base_delay_s, cap_s=self.max_delay_s, rng=rng)
