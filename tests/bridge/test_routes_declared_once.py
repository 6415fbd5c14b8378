"""A route is declared once, in the route table: the app serves it, `/openapi.json` describes
it and the token check follows its `open` flag, with nothing else to edit."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from pydantic import BaseModel, SecretStr

from nomad_bridge.api.routing import Reply, Route, add_routes
from nomad_bridge.app import create_app
from nomad_bridge.nomad import NomadSettings
from nomad_bridge.settings import BridgeSettings
from tests.support import BridgeClient

TOKEN = "bridge-secret-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


class Echo(BaseModel):
    said: str


async def echo(request: web.Request) -> web.Response:
    return web.json_response({"said": request.match_info.get("word", "")})


THROWAWAY = (
    Route("GET", "throwaway", echo, "A route only this test declares", Reply("Echoed.", Echo)),
    Route(
        "GET",
        "/open-throwaway",
        echo,
        "An open route only this test declares",
        Reply("Echoed.", Echo),
        under_base_path=False,
        open=True,
    ),
)


@pytest.fixture
async def bridge_with_throwaway_routes(
    nomad_settings: NomadSettings,
) -> AsyncIterator[BridgeClient]:
    settings = BridgeSettings(base_path="/api", tokens=[SecretStr(TOKEN)])
    app = create_app(settings, nomad_settings)
    add_routes(app, settings, THROWAWAY)
    async with TestClient(TestServer(app)) as client:
        yield client


async def test_a_route_added_to_the_table_is_served_and_described(
    bridge_with_throwaway_routes: BridgeClient,
) -> None:
    bridge = bridge_with_throwaway_routes
    assert (await bridge.get("/api/throwaway", headers=AUTH)).status == 200

    document = await (await bridge.get("/openapi.json", headers=AUTH)).json()

    operation = document["paths"]["/api/throwaway"]["get"]
    assert operation["summary"] == "A route only this test declares"
    assert operation["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Echo"
    }
    assert "401" in operation["responses"]
    assert "Echo" in document["components"]["schemas"]
    assert document["paths"]["/open-throwaway"]["get"]["security"] == []


async def test_a_route_declared_open_needs_no_token_and_the_others_do(
    bridge_with_throwaway_routes: BridgeClient,
) -> None:
    bridge = bridge_with_throwaway_routes
    assert (await bridge.get("/open-throwaway")).status == 200
    assert (await bridge.get("/api/throwaway")).status == 401
    assert (await bridge.get("/health")).status == 200
    assert (await bridge.get("/api/jobs")).status == 401


def test_a_path_variable_must_be_a_declared_parameter(nomad_settings: NomadSettings) -> None:
    settings = BridgeSettings()
    app = create_app(settings, nomad_settings)
    undeclared = Route("GET", "echo/{word}", echo, "Echo", Reply("Echoed.", Echo))
    with pytest.raises(ValueError, match="word"):
        add_routes(app, settings, [undeclared])
