"""What handlers read from a request: query options, flags, and the JSON body.

`parse_query` is Nomad's `HTTPServer.parse`: region, consistency, prefix, namespace,
pagination, filter, reverse, then `wait` and `index`, with the same 400 texts. Flags parsed
by `parseBool`/`parseInt` fail as plain errors (500), as they do in Nomad.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiohttp import web

from nomad_bridge.sim.durations import SECOND, DurationError, parse_go_duration
from nomad_bridge.sim.errors import NO_PATH_TO_REGION, NomadError
from nomad_bridge.sim.gojson import (
    GoJSONError,
    Struct,
    decode_body,
    parse_bool,
    parse_int,
    parse_uint,
)


@dataclass
class QueryOptions:
    """What `HTTPServer.parse` reads from a request's query string."""

    region: str
    namespace: str = "default"
    prefix: str = ""
    min_index: int = 0
    wait_s: float | None = None
    per_page: int = 0
    next_token: str = ""
    reverse: bool = False
    filter: str = ""


def parse_query(request: web.Request, agent_region: str) -> QueryOptions:
    """parse(): region, consistency, prefix, namespace, pagination, filter, reverse, wait."""
    query = request.rel_url.query
    opts = QueryOptions(region=query.get("region") or agent_region)
    if "stale" in query and query["stale"] != "":
        try:
            parse_bool(query["stale"])
        except ValueError:
            raise NomadError(
                400,
                "Expect `true` or `false` for `stale` query string parameter, got "
                + query["stale"],
            ) from None
    opts.prefix = query.get("prefix", "")
    opts.namespace = query.get("namespace") or "default"
    raw_per_page = query.get("per_page", "")
    if raw_per_page.lstrip("+-").isdigit() and abs(int(raw_per_page)) < 2**31:
        opts.per_page = int(raw_per_page)
    opts.next_token = query.get("next_token", "")
    opts.filter = query.get("filter", "")
    opts.reverse = query.get("reverse") == "true"
    if query.get("wait"):
        try:
            opts.wait_s = parse_go_duration(query["wait"]) / SECOND
        except DurationError:
            raise NomadError(400, "Invalid wait time") from None
    if query.get("index"):
        try:
            opts.min_index = parse_uint(query["index"])
        except ValueError:
            raise NomadError(400, "Invalid index") from None
    return opts


def check_region(region: str, agent_region: str) -> None:
    """Forwarding: a request for another region has nowhere to go in a one-region cluster."""
    if region != agent_region:
        raise NomadError(500, NO_PATH_TO_REGION)


def bool_param(request: web.Request, name: str) -> bool | None:
    """parseBool: absent is None; a bad value is a plain error, hence 500."""
    text = request.rel_url.query.get(name, "")
    if not text:
        return None
    try:
        return parse_bool(text)
    except ValueError as err:
        raise NomadError(
            500, f'Failed to parse value of "{name}" ({text}) as a bool: {err}'
        ) from None


def int_param(request: web.Request, name: str) -> int | None:
    """parseInt: absent is None; a bad value is a plain error, hence 500."""
    text = request.rel_url.query.get(name, "")
    if not text:
        return None
    try:
        return parse_int(text)
    except ValueError as err:
        raise NomadError(
            500, f'Failed to parse value of "{name}" ({text}) as a int: {err}'
        ) from None


async def read_body(request: web.Request, spec: Struct) -> dict[str, Any]:
    """decodeBody: the request body into `spec`, or 400 with the decoder's message."""
    try:
        return decode_body(await request.read(), spec)
    except GoJSONError as err:
        raise NomadError(400, str(err)) from None
