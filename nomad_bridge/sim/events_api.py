"""`GET /v1/event/stream`: newline-delimited JSON, `{}` on connect and as heartbeat.

From command/agent/event_endpoint.go and nomad/event_endpoint.go: topics come from
repeated `topic=Topic[:key]` (a bare topic means every key, no topic means all), the
namespace defaults to `default` (`*` for all), `index` picks where replay starts. The
stream ends cleanly (a complete chunked response) when the server shuts down or the
broker closes the subscription.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from aiohttp import web

from nomad_bridge.sim.errors import NomadError
from nomad_bridge.sim.events import SubscriptionClosed, encode_line
from nomad_bridge.sim.gojson import parse_int
from nomad_bridge.sim.query import check_region

if TYPE_CHECKING:
    from nomad_bridge.sim.simulator import Simulator

log = logging.getLogger(__name__)
HEARTBEAT = b"{}\n"


def parse_topics(request: web.Request) -> dict[str, list[str]]:
    raw = request.rel_url.query.getall("topic", [])
    if not raw:
        return {"*": ["*"]}
    topics: dict[str, list[str]] = {}
    for topic in raw:
        parts = topic.split(":")
        if len(parts) == 1:
            name, key = topic, "*"
        elif len(parts) == 2:
            name, key = parts
        else:
            raise NomadError(
                400,
                "Invalid topic query: error parsing topics: "
                f"Invalid key value pair for topic, topic: {topic}",
            )
        topics.setdefault(name, []).append(key)
    return topics


async def event_stream(request: web.Request, sim: Simulator, _: str) -> web.StreamResponse:
    query = request.rel_url.query
    index = 0
    if query.get("index"):
        try:
            index = max(0, parse_int(query["index"]))
        except ValueError as err:
            raise NomadError(400, f"Unable to parse index: {err}") from None
    topics = parse_topics(request)
    namespace = query.get("namespace") or "default"
    check_region(query.get("region") or sim.config.region, sim.config.region)
    sim.acl.check(request)
    subscription = sim.events.subscribe(index, topics, namespace)
    response = web.StreamResponse(
        headers={"Content-Type": "application/json", "Cache-Control": "no-cache"}
    )
    try:
        await response.prepare(request)
        await response.write(HEARTBEAT)
        while True:
            try:
                entry = await subscription.next(sim.config.heartbeat_interval_s)
            except SubscriptionClosed:
                break
            if entry is None:
                await response.write(HEARTBEAT)
                continue
            wanted = [e for e in entry.events if subscription.wants(e)]
            if wanted:
                await response.write(encode_line(entry.index, wanted))
        await response.write_eof()
    except (ConnectionResetError, ConnectionError):
        log.debug("event_stream_client_gone")
    finally:
        sim.events.unsubscribe(subscription)
    return response
