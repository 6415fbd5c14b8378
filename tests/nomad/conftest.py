"""Fixtures for the Nomad client: the real client against the real simulator, on loopback."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from nomad_bridge.nomad import NomadClient, NomadSettings, RetryPolicy
from nomad_bridge.sim import SimServer

WAIT_TIMEOUT_S = 5.0
POLL_INTERVAL_S = 0.01
TEST_TIMEOUT_S = 2.0
FAST_RETRY = RetryPolicy(attempts=3, base_delay_s=0.01, max_delay_s=0.05)


def job_spec(job_id: str, groups: dict[str, int] | None = None, **fields: Any) -> dict[str, Any]:
    """A small valid Nomad job spec (the inside of `{"Job": ...}`)."""
    spec: dict[str, Any] = {
        "ID": job_id,
        "Name": job_id,
        "Type": "service",
        "Datacenters": ["dc1"],
        "Meta": {"autostart": "true"},
        "TaskGroups": [
            {
                "Name": name,
                "Count": count,
                "Tasks": [{"Name": "main", "Driver": "docker", "Config": {"image": "busybox"}}],
            }
            for name, count in (groups or {"main": 1}).items()
        ],
    }
    return spec | fields


async def wait_until(
    condition: Callable[[], bool | Awaitable[bool]], timeout_s: float = WAIT_TIMEOUT_S
) -> None:
    """Wait for a condition (plain or async) to hold; fail the test if it does not in time."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while True:
        held = condition()
        if not isinstance(held, bool):
            held = await held
        if held:
            return
        if loop.time() > deadline:
            pytest.fail(f"condition not met within {timeout_s} s")
        await asyncio.sleep(POLL_INTERVAL_S)


@dataclass
class RequestLog:
    """What the client's `on_request` hook reported, one entry per HTTP attempt."""

    calls: list[tuple[str, str, str, float]] = field(default_factory=list)

    def __call__(self, method: str, path_template: str, outcome: str, duration_s: float) -> None:
        self.calls.append((method, path_template, outcome, duration_s))

    def outcomes(self, method: str, path_template: str) -> list[str]:
        return [o for m, p, o, _ in self.calls if (m, p) == (method, path_template)]


@pytest.fixture
def request_log() -> RequestLog:
    return RequestLog()


@pytest.fixture
def nomad_settings(sim_server: SimServer) -> NomadSettings:
    return NomadSettings(addr=sim_server.url)


ClientFactory = Callable[..., Awaitable[NomadClient]]


@pytest.fixture
async def make_client(
    nomad_settings: NomadSettings, request_log: RequestLog
) -> AsyncIterator[ClientFactory]:
    """Open clients on the simulator (options as for NomadClient); all closed at the end."""
    opened: list[NomadClient] = []

    async def make(settings: NomadSettings | None = None, **overrides: Any) -> NomadClient:
        options: dict[str, Any] = {
            "timeout_s": TEST_TIMEOUT_S,
            "retry": FAST_RETRY,
            "on_request": request_log,
        } | overrides
        client = NomadClient(settings or nomad_settings, **options)
        await client.open()
        opened.append(client)
        return client

    yield make
    for client in opened:
        await client.close()


@pytest.fixture
async def client(make_client: ClientFactory) -> NomadClient:
    return await make_client()
