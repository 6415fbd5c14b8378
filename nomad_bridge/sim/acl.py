"""ACL checks with a single management token, split the way Nomad's RPCs split them.

`authenticate` runs first in every RPC: a token that is present but unknown is refused
at once. `authorize` runs where the endpoint checks capabilities: an absent token is
the anonymous policy, which may do nothing, so it is refused there, after the checks
Nomad runs before it (a malformed job gives 500 even without a token).
"""

from __future__ import annotations

from aiohttp import web

from nomad_bridge.sim.errors import PERMISSION_DENIED, NomadError


def request_token(request: web.Request) -> str:
    """parseToken: X-Nomad-Token first, else `Authorization: Bearer <token>`."""
    token = request.headers.get("X-Nomad-Token", "").strip()
    if token:
        return token
    parts = request.headers.get("Authorization", "").split(" ")
    if len(parts) > 1 and parts[0].lower() == "bearer":
        value = " ".join(parts[1:]).strip()
        return value.split(" ")[0].strip()
    return ""


class Acl:
    def __init__(self, management_token: str | None) -> None:
        self._token = management_token

    @property
    def enabled(self) -> bool:
        return self._token is not None

    def authenticate(self, request: web.Request) -> None:
        token = request_token(request)
        if self._token is not None and token and token != self._token:
            raise NomadError(403, PERMISSION_DENIED)

    def authorize(self, request: web.Request) -> None:
        if self._token is not None and request_token(request) != self._token:
            raise NomadError(403, PERMISSION_DENIED)

    def check(self, request: web.Request) -> None:
        self.authenticate(request)
        self.authorize(request)
