"""Bearer-token authentication for the API routes (`BRIDGE_TOKENS`); a route declared `open`
in the route table is served without one."""

from __future__ import annotations

import hmac
from collections.abc import Iterable

from aiohttp import web
from aiohttp.typedefs import Middleware
from pydantic import SecretStr

from nomad_bridge.api.problems import Handler, Problem
from nomad_bridge.api.routing import route_of

AUTH_SCHEME = "bearer"


def token_middleware(tokens: Iterable[SecretStr]) -> Middleware | None:
    """A middleware that requires one of `tokens`, or None when no token is configured."""
    secrets = [token.get_secret_value().encode("utf-8") for token in tokens]
    if not secrets:
        return None

    def accepted(presented: bytes) -> bool:
        # Compare against every token so that timing says nothing about which one matched.
        matches = [hmac.compare_digest(presented, secret) for secret in secrets]
        return any(matches)

    @web.middleware
    async def require_token(request: web.Request, handler: Handler) -> web.StreamResponse:
        route = route_of(request)
        if route is not None and route.open:
            return await handler(request)
        scheme, _, presented = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != AUTH_SCHEME or not accepted(
            # aiohttp hands undecodable header bytes over as surrogate escapes
            presented.strip().encode("utf-8", "surrogateescape")
        ):
            raise Problem(
                401,
                "a valid 'Authorization: Bearer <token>' header is required",
                headers={"WWW-Authenticate": 'Bearer realm="nomad-bridge"'},
            )
        return await handler(request)

    return require_token
