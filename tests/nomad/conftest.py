"""Fixtures for the Nomad client: the real client against the real simulator, on loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from nomad_bridge.nomad import NomadClient, NomadSettings
from tests.nomad.harness import FAST_RETRY, TEST_TIMEOUT_S, ClientFactory, RequestLog


@pytest.fixture
def request_log() -> RequestLog:
    return RequestLog()


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
