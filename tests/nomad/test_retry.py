"""RetryPolicy: reads retried on outages, writes only when Nomad never saw them."""

from __future__ import annotations

import random

import pytest

from nomad_bridge.nomad import errors
from nomad_bridge.nomad.retry import RetryPolicy

PATH = "/v1/job/web"
REFUSED = errors.Unavailable("refused", path=PATH, request_sent=False)
RESET = errors.Unavailable("reset", path=PATH)
TIMED_OUT = errors.Timeout("slow", path=PATH)
ANSWERS = [
    errors.CasConflict("Enforcing job modify index 1", path=PATH, status=500),
    errors.BadRequest("bad", path=PATH, status=400),
    errors.NotFound("job not found", path=PATH, status=404),
    errors.PermissionDenied("Permission denied", path=PATH, status=403),
    errors.UnexpectedAnswer("validation", path=PATH, status=500),
]


@pytest.mark.parametrize("error", [REFUSED, RESET, TIMED_OUT])
def test_reads_are_retried_on_outages_and_timeouts(error: errors.NomadError) -> None:
    assert RetryPolicy(attempts=3).should_retry("GET", error, attempt=1)


@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "DELETE"])
@pytest.mark.parametrize("error", ANSWERS)
def test_answers_are_never_retried(method: str, error: errors.NomadError) -> None:
    assert not RetryPolicy(attempts=3).should_retry(method, error, attempt=1)


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE"])
def test_writes_are_retried_only_when_never_sent(method: str) -> None:
    policy = RetryPolicy(attempts=3)
    assert policy.should_retry(method, REFUSED, attempt=1)
    assert not policy.should_retry(method, RESET, attempt=1)
    assert not policy.should_retry(method, TIMED_OUT, attempt=1)


def test_attempts_bound_the_tries() -> None:
    policy = RetryPolicy(attempts=3)
    assert policy.should_retry("GET", RESET, attempt=2)
    assert not policy.should_retry("GET", RESET, attempt=3)
    assert not RetryPolicy(attempts=1).should_retry("GET", RESET, attempt=1)


def test_backoff_is_full_jitter_under_an_exponential_ceiling() -> None:
    policy = RetryPolicy(base_delay_s=0.1, max_delay_s=1.0)
    rng = random.Random(7)
    for attempt, ceiling in [(1, 0.1), (2, 0.2), (3, 0.4), (4, 0.8), (5, 1.0), (9, 1.0)]:
        delays = [policy.delay_s(attempt, rng) for _ in range(200)]
        assert all(0.0 <= d <= ceiling for d in delays)
        assert max(delays) > ceiling / 2  # spread over the whole range, not a fixed step


def test_at_least_one_attempt() -> None:
    with pytest.raises(ValueError, match="attempts"):
        RetryPolicy(attempts=0)
