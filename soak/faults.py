"""Nomad faults the soak injects through the simulator's `/_sim/` controls, and their windows.

Each fault says which error statuses it explains: a client error during a fault's window
(from its start to `GRACE_S` after its end, so that requests already waiting when it ended
count too) with one of those statuses is explained; any other error is not.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp

Control = Callable[[str, str, dict[str, Any] | None], Awaitable[Any]]


@dataclass
class Window:
    """One injected fault, as it happened."""

    name: str
    started_s: float
    ended_s: float | None = None
    explains: frozenset[int] = frozenset()
    recovery_s: float | None = None  # from the end to the bridge's view showing a new change
    ready_recovery_s: float | None = None  # from the end to `/ready` 200 again
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Fault:
    name: str
    explains: frozenset[int]
    duration_s: float
    outage: bool  # Nomad unreachable or too slow: /ready must say 503 meanwhile

    async def begin(
        self, control: Control, rng: random.Random, targets: list[str]
    ) -> dict[str, Any]:
        """Inject the fault; what it touched."""
        match self.name:
            case "latency-below-timeout":
                await control("POST", "latency", {"seconds": 0.4})
            case "latency-above-timeout":
                await control("POST", "latency", {"seconds": 4.0})
            case "unavailable" | "hang" | "refuse":
                await control("POST", "outage", {"mode": self.name})
            case "restart-with-index-reset":
                await control("POST", "outage", {"mode": "refuse"})
            case "fail-allocations" | "lose-allocations":
                job = rng.choice(targets)
                verb = "fail" if self.name == "fail-allocations" else "lose"
                found = await control("POST", verb, {"job": job, "group": "web", "count": 1})
                return {"job": job, "allocations": len(found["allocations"])}
            case "garbage-collect":
                return {"collected": (await control("POST", "gc", None))["collected"]}
        return {}

    async def end(self, control: Control) -> dict[str, Any]:
        match self.name:
            case "latency-below-timeout" | "latency-above-timeout":
                await control("POST", "latency", {"seconds": 0})
            case "unavailable" | "hang" | "refuse":
                await control("POST", "outage", {"mode": None})
            case "restart-with-index-reset":
                state = await control("GET", "state", None)
                to = max(2, int(state["index"]) // 10)
                await control("POST", "reset-index", {"to": to})
                await control("POST", "outage", {"mode": None})
                return {"index_from": state["index"], "index_to": to}
        return {}


UPSTREAM = frozenset({502, 503, 504})
FAULTS = [
    Fault("latency-below-timeout", frozenset(), 10.0, outage=False),
    Fault("latency-above-timeout", frozenset({504}), 6.0, outage=True),
    Fault("unavailable", frozenset({503}), 6.0, outage=True),
    Fault("hang", frozenset({504}), 6.0, outage=True),
    Fault("refuse", frozenset({503}), 6.0, outage=True),
    Fault("restart-with-index-reset", frozenset({503}), 4.0, outage=True),
    Fault("fail-allocations", frozenset(), 0.0, outage=False),
    Fault("lose-allocations", frozenset(), 0.0, outage=False),
    Fault("garbage-collect", frozenset(), 0.0, outage=False),
]


def schedule(rng: random.Random, count: int) -> list[Fault]:
    """`count` faults: every kind once per cycle, each cycle in a seeded random order."""
    order: list[Fault] = []
    while len(order) < count:
        cycle = list(FAULTS)
        rng.shuffle(cycle)
        order += cycle
    return order[:count]


def sim_control(session: aiohttp.ClientSession, control_url: str) -> Control:
    async def control(method: str, name: str, body: dict[str, Any] | None) -> Any:
        async with session.request(
            method, f"{control_url}/_sim/{name}", json=body, timeout=aiohttp.ClientTimeout(10)
        ) as response:
            answer = await response.json()
            if response.status != 200:
                raise RuntimeError(f"control {method} {name}: {response.status} {answer}")
            return answer

    return control


async def sleep_until(loop_time_s: float) -> None:
    await asyncio.sleep(max(0.0, loop_time_s - asyncio.get_running_loop().time()))
