"""What the Nomad client tests share besides tests/support.py: the client's request log (its
`on_request` hook) and the factory that opens clients on the simulator."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from nomad_bridge.nomad import NomadClient, RetryPolicy

TEST_TIMEOUT_S = 2.0
FAST_RETRY = RetryPolicy(attempts=3, base_delay_s=0.01, max_delay_s=0.05)

ClientFactory = Callable[..., Awaitable[NomadClient]]
"""The `make_client` fixture: `await make_client(settings=None, **NomadClient options)`."""


@dataclass
class RequestLog:
    """What the client's `on_request` hook reported, one entry per HTTP attempt."""

    calls: list[tuple[str, str, str, float]] = field(default_factory=list)

    def __call__(self, method: str, path_template: str, outcome: str, duration_s: float) -> None:
        self.calls.append((method, path_template, outcome, duration_s))

    def outcomes(self, method: str, path_template: str) -> list[str]:
        return [o for m, p, o, _ in self.calls if (m, p) == (method, path_template)]
