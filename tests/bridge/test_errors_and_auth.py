"""SPEC section 2 (Errors) and 5: problem+json, tokens, health and readiness."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from nomad_bridge.nomad import NomadSettings
from nomad_bridge.settings import BridgeSettings
from nomad_bridge.sim import Simulator
from tests.support import BridgeClient, MakeBridge, wait_until

TOKEN = "bridge-secret-token"


@pytest.fixture
def bridge_settings() -> BridgeSettings:
    return BridgeSettings(tokens=[SecretStr(TOKEN)], body_limit_bytes=2048)


def bearer(token: str = TOKEN) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.parametrize("headers", [{}, bearer("wrong"), {"Authorization": TOKEN}])
async def test_api_routes_need_a_valid_bearer_token(
    bridge: BridgeClient, headers: dict[str, str]
) -> None:
    response = await bridge.get("/jobs", headers=headers)
    assert response.status == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert response.content_type == "application/problem+json"
    assert TOKEN not in await response.text()


async def test_a_valid_token_is_accepted(bridge: BridgeClient) -> None:
    assert (await bridge.get("/jobs", headers=bearer())).status == 200


async def test_health_and_ready_need_no_token(bridge: BridgeClient) -> None:
    assert (await bridge.get("/health")).status == 200

    async def ready() -> bool:
        return (await bridge.get("/ready")).status == 200

    await wait_until(ready)


async def test_a_body_over_the_limit_is_413(bridge: BridgeClient) -> None:
    response = await bridge.post(
        "/jobs/updatecounts", data=b"{" + b" " * 4096 + b"}", headers=bearer()
    )
    assert response.status == 413
    assert response.content_type == "application/problem+json"


async def test_unknown_routes_and_methods_are_problems(bridge: BridgeClient) -> None:
    response = await bridge.get("/nowhere", headers=bearer())
    assert (response.status, response.content_type) == (404, "application/problem+json")
    response = await bridge.get("/jobs/startall", headers=bearer())
    assert (response.status, response.content_type) == (405, "application/problem+json")


async def test_nomad_unreachable_is_503_and_ready_says_so(
    bridge: BridgeClient, simulator: Simulator
) -> None:
    simulator.controls.set_outage("refuse")
    response = await bridge.get("/jobs", headers=bearer())
    assert response.status == 503
    assert response.content_type == "application/problem+json"
    assert (await bridge.get("/ready")).status == 503
    assert (await bridge.get("/health")).status == 200


async def test_nomad_answering_503_is_503(bridge: BridgeClient, simulator: Simulator) -> None:
    simulator.controls.set_outage("unavailable")
    response = await bridge.post("/jobs/stop/web", headers=bearer())
    assert response.status == 503


async def test_nomad_not_answering_in_time_is_504(
    make_bridge: MakeBridge,
    simulator: Simulator,
    nomad_settings: NomadSettings,
) -> None:
    bridge = await make_bridge(BridgeSettings(nomad_timeout_s=0.5))
    simulator.controls.set_outage("hang")
    response = await bridge.post("/jobs/stop/web")
    assert response.status == 504
    assert response.content_type == "application/problem+json"
    simulator.controls.set_outage(None)
