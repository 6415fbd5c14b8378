"""Schemathesis against a running bridge: a short, derandomized run for `make test`.

`python -m tests.fuzz` (`make fuzz`) runs the same checks with 10,000 cases.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from nomad_bridge.api.openapi import openapi_document
from nomad_bridge.api.routes import ROUTES
from nomad_bridge.settings import BridgeSettings
from tests.fuzz.harness import FuzzReport, RunningBridge, check_explicit, fuzz, running_bridge

# The bridge runs in a thread of this process and draws jitter from `random` while Hypothesis
# generates: Hypothesis notices the global random state moving and warns; nothing is wrong.
pytestmark = pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisDeprecationWarning")

CASES_PER_OPERATION = 36  # x 11 operations: about 400 cases, ~10 s
# Every route but the document itself (schemathesis does not fuzz the schema's own URL).
OPERATIONS = [
    f"{method.upper()} {path}"
    for path, item in openapi_document(BridgeSettings(), ROUTES)["paths"].items()
    for method in item
    if path != "/openapi.json"
]


@pytest.fixture(scope="module")
def fuzzed() -> Iterator[RunningBridge]:
    with running_bridge() as bridge:
        yield bridge


@pytest.mark.parametrize("operation", OPERATIONS)
def test_generated_requests_get_documented_answers_and_no_server_error(
    fuzzed: RunningBridge, operation: str
) -> None:
    report = fuzz(fuzzed.url, cases=CASES_PER_OPERATION, operations=[operation])
    assert report.cases > 0
    assert not report.failures, report.summary()
    assert not report.upstream, f"Nomad is healthy, yet: {dict(report.upstream)}"


def test_hand_picked_requests_get_documented_answers(fuzzed: RunningBridge) -> None:
    report = check_explicit(fuzzed.url, FuzzReport())
    assert not report.failures, report.summary()
