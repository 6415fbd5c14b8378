"""SPEC section 2 (Errors): Nomad refusing the bridge's token is 403, and no token leaks."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from nomad_bridge.nomad import NomadSettings
from nomad_bridge.sim import SimConfig, Simulator
from tests.support import MakeBridge, job_spec, wait_until

NOMAD_TOKEN = "the-real-nomad-token"
WRONG_TOKEN = "wrong-nomad-token"


@pytest.fixture
def sim_config(sim_config: SimConfig) -> SimConfig:
    sim_config.acl_token = NOMAD_TOKEN
    return sim_config


async def test_the_bridge_uses_its_nomad_token(
    make_bridge: MakeBridge, simulator: Simulator, nomad_settings: NomadSettings
) -> None:
    simulator.register_job_spec(job_spec("web", {"g": 1}))
    right = nomad_settings.model_copy(update={"token": SecretStr(NOMAD_TOKEN)})
    bridge = await make_bridge(nomad=right)

    async def listed() -> bool:
        response = await bridge.get("/jobs")
        return response.status == 200 and len(await response.json()) == 1

    await wait_until(listed)


async def test_nomad_refusing_the_bridges_token_is_403_without_leaking_it(
    make_bridge: MakeBridge,
    simulator: Simulator,
    nomad_settings: NomadSettings,
    caplog: pytest.LogCaptureFixture,
) -> None:
    simulator.register_job_spec(job_spec("web", {"g": 1}))
    wrong = nomad_settings.model_copy(update={"token": SecretStr(WRONG_TOKEN)})
    bridge = await make_bridge(nomad=wrong)
    for response in [
        await bridge.post("/jobs/stop/web"),
        await bridge.post(
            "/jobs/updatecounts", json={"jobID": "web", "taskGroup": "g", "count": 1}
        ),
    ]:
        assert response.status == 403
        assert response.content_type == "application/problem+json"
        assert WRONG_TOKEN not in await response.text()
    ready = await bridge.get("/ready")
    assert ready.status == 503
    assert WRONG_TOKEN not in await ready.text()
    assert WRONG_TOKEN not in caplog.text
