"""Response encoding the way Nomad's `wrap` writes it: JSON bodies, plain-text errors, headers."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from nomad_bridge.sim.errors import NomadError

JSON_TYPE = "application/json"
TEXT_TYPE = "text/plain; charset=utf-8"


def is_pretty(request: web.Request) -> bool:
    """`?pretty` with no value or any value but "0" asks for indented output."""
    values = request.rel_url.query.getall("pretty", [])
    return bool(values) and (values[0] == "" or values[0] != "0")


def encode(obj: Any, *, pretty: bool = False) -> bytes:
    """Go's encoder with HTMLCharsAsIs: no HTML escaping, UTF-8, compact unless pretty."""
    if pretty:
        return (json.dumps(obj, ensure_ascii=False, indent=4) + "\n").encode()
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode()


def json_response(
    request: web.Request,
    obj: Any,
    *,
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> web.Response:
    return web.Response(
        status=status,
        body=encode(obj, pretty=is_pretty(request)),
        headers={**(headers or {}), "Content-Type": JSON_TYPE},
    )


def error_response(err: NomadError) -> web.Response:
    return web.Response(
        status=err.status,
        body=err.message.encode(),
        headers={**err.headers, "Content-Type": TEXT_TYPE},
    )


def read_headers(index: int, next_token: str = "") -> dict[str, str]:
    """setMeta: every read carries the index, leader knowledge and last contact."""
    headers = {
        "X-Nomad-Index": str(index),
        "X-Nomad-KnownLeader": "true",
        "X-Nomad-LastContact": "0",
    }
    if next_token:
        headers["X-Nomad-NextToken"] = next_token
    return headers


def write_headers(index: int) -> dict[str, str]:
    """setIndex: writes carry only the index."""
    return {"X-Nomad-Index": str(index)}


def query_meta(index: int, *, known_leader: bool = True) -> dict[str, Any]:
    """QueryMeta fields embedded in some response bodies."""
    return {"Index": index, "LastContact": 0, "KnownLeader": known_leader, "NextToken": ""}
