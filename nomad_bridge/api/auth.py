"""Bearer-token authentication for the API routes (`BRIDGE_TOKENS`); a route declared `open`
in the route table is served without one (`api/observe.py` checks the others)."""

from __future__ import annotations

import hmac
from collections.abc import Callable, Iterable

from aiohttp import web
from pydantic import SecretStr

from nomad_bridge.api.problems import Problem

AUTH_SCHEME = "bearer"

Authorize = Callable[[web.Request], None]


def token_check(tokens: Iterable[SecretStr]) -> Authorize | None:
    """A check that raises 401 unless the request carries one of `tokens`, or None when no
    token is configured."""
    secrets = [token.get_secret_value().encode("utf-8") for token in tokens]
    if not secrets:
        return None

    def accepted(presented: bytes) -> bool:
        # Compare against every token so that timing says nothing about which one matched.
        matches = [hmac.compare_digest(presented, secret) for secret in secrets]
        return any(matches)

    def require_token(request: web.Request) -> None:
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

    return require_token
