"""`GET /v1/event/stream`: newline-delimited JSON, `{}` on connect and as a heartbeat.

From command/agent/event_endpoint.go (EventStream), nomad/event_endpoint.go (Event.stream,
validateACL, validateNsOp) and nomad/stream/ndjson.go (v1.9.7):

- Before anything is written: a method other than GET is 405 `Invalid method`; `index` is
  read with strconv.Atoi (400 `Unable to parse index: ...`); topics are repeated
  `topic=Topic[:key]` (a bare topic means key `*`, no topic at all means `*:*`, more than one
  `:` is 400 `Invalid topic query: ...`). Those answers are text/plain.
- Then the headers are set (`Content-Type: application/json`, `Cache-Control: no-cache`) and
  the usual query parsing runs, whose failures write a 400 and a text but do not stop the
  request: a bad `stale`, a bad `wait` (`Invalid wait time`) or an `index` that is not an
  unsigned integer (`Invalid index`, e.g. `-1`, which Atoi took) leave the status at 400
  with that text first in a body that then streams on.
- The server authenticates (an unknown or expired token: 403 `Permission denied`),
  forwards (an unknown region: 500 `No path to region`) and checks the topics against the
  token in the namespace, or in every namespace for `*` (403 `Permission denied`): read-job
  for Job, Allocation, Evaluation, Deployment and Service; management for anything else
  (Node needs node:read, which the simulator's policies cannot grant). These bodies are the
  bare text, with the JSON content type already set. `filter` and the paging parameters are
  ignored.
- Then `{}` at once and every heartbeat interval (a ticker, 30 s in Nomad, whether or not
  events flow), and one `{"Index":N,"Events":[...]}` line per raft entry with events this
  reader wants. Before sending events, a token that has expired ends the stream.
- When the server ends the stream it writes the error's text after the last line, with no
  newline, and completes the response (the 200 status was sent long before).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING

from aiohttp import web
from multidict import MultiMapping

from nomad_bridge.sim.acl import Token
from nomad_bridge.sim.compress import StreamingResponse, negotiate
from nomad_bridge.sim.durations import DurationError, parse_go_duration
from nomad_bridge.sim.errors import (
    INVALID_METHOD,
    NO_PATH_TO_REGION,
    PERMISSION_DENIED,
    NomadError,
)
from nomad_bridge.sim.events import (
    ALL,
    StreamEnded,
    SubscribeRequest,
    Subscription,
    encode_line,
)
from nomad_bridge.sim.gojson import parse_bool, parse_int, parse_uint
from nomad_bridge.sim.responses import JSON_TYPE

if TYPE_CHECKING:
    from nomad_bridge.sim.simulator import Simulator

log = logging.getLogger(__name__)

HEARTBEAT = b"{}\n"
TOKEN_EXPIRED = "ACL token expired"
STREAM_HEADERS = {"Content-Type": JSON_TYPE, "Cache-Control": "no-cache"}
READ_JOB_TOPICS = frozenset({"Job", "Allocation", "Evaluation", "Deployment", "Service"})
UINT64 = 2**64

Topics = dict[str, tuple[str, ...]]


def parse_topics(query: MultiMapping[str]) -> Topics:
    """parseEventTopics: no `topic` at all is `*:*`; keys are kept in order, repeats too."""
    raw = query.getall("topic", [])
    if not raw:
        return {ALL: (ALL,)}
    topics: dict[str, list[str]] = {}
    for topic in raw:
        parts = topic.split(":")
        if len(parts) > 2:
            raise NomadError(
                400,
                "Invalid topic query: error parsing topics: "
                f"Invalid key value pair for topic, topic: {topic}",
            )
        name, key = (parts[0], parts[1]) if len(parts) == 2 else (topic, ALL)
        topics.setdefault(name, []).append(key)
    return {name: tuple(keys) for name, keys in topics.items()}


def allowed_namespaces(
    sim: Simulator, token: Token, namespace: str, topics: Mapping[str, tuple[str, ...]]
) -> frozenset[str] | None:
    """validateACL: `*` means every namespace there is now; each must allow every topic."""
    names = list(sim.config.namespaces) if namespace == ALL else [namespace]
    for name in names:
        for topic in topics:
            if topic in READ_JOB_TOPICS:
                if not sim.acl.allows(token, name, "read-job"):
                    return None
            elif not token.management:
                return None
    return frozenset(names)


def still_allowed(sim: Simulator, sub: Subscription) -> bool:
    """The broker's re-check on ACL changes: token still valid and still allowed."""
    token = sim.acl.resolve(sub.request.token)
    request = sub.request
    return (
        token is not None
        and allowed_namespaces(sim, token, request.namespace, request.topics) is not None
    )


def _quirks(query: MultiMapping[str]) -> tuple[int | None, str]:
    """HTTPServer.parse on this endpoint: failures write 400 and a text, and go on."""
    texts = []
    stale = query.get("stale")
    if stale:
        try:
            parse_bool(stale)
        except ValueError:
            texts.append(
                f"Expect `true` or `false` for `stale` query string parameter, got {stale}"
            )
    wait = query.get("wait")
    if wait and _bad_duration(wait):
        texts.append("Invalid wait time")
    elif query.get("index"):
        try:
            parse_uint(query["index"])
        except ValueError:
            texts.append("Invalid index")
    return (400 if texts else None), "".join(texts)


def _bad_duration(text: str) -> bool:
    try:
        parse_go_duration(text)
    except DurationError:
        return True
    return False


def _authorize(
    sim: Simulator, request: web.Request, topics: Topics, namespace: str
) -> tuple[Token, frozenset[str]]:
    """Event.stream: authenticate, forward, then validate the topics in the namespaces."""
    token = sim.acl.authenticate(request)
    if (request.rel_url.query.get("region") or sim.config.region) != sim.config.region:
        raise NomadError(500, NO_PATH_TO_REGION)
    namespaces = allowed_namespaces(sim, token, namespace, topics)
    if namespaces is None or sim.controls.event_stream_fault == "forbidden":
        raise NomadError(403, PERMISSION_DENIED)
    return token, namespaces


async def event_stream(request: web.Request, sim: Simulator, _: str) -> web.StreamResponse:
    if request.method != "GET":
        raise NomadError(405, INVALID_METHOD)
    query = request.rel_url.query
    try:
        index = parse_int(query.get("index") or "0")
    except ValueError as err:
        raise NomadError(400, f"Unable to parse index: {err}") from None
    topics = parse_topics(query)
    status, prelude = _quirks(query)
    namespace = query.get("namespace") or "default"
    try:
        token, namespaces = _authorize(sim, request, topics, namespace)
    except NomadError as err:
        body = (prelude + err.message).encode()
        return web.Response(status=status or err.status, body=body, headers=STREAM_HEADERS)
    subscription = sim.events.subscribe(
        index % UINT64, SubscribeRequest(topics, namespace, namespaces, token.secret_id)
    )
    response = StreamingResponse(negotiate(request), status=status or 200, headers=STREAM_HEADERS)
    try:
        await response.prepare(request)
        if prelude:
            await response.write(prelude.encode())
        output = Output(response, sim)
        ending = await _pump(output, subscription, sim, token.expiration_time)
        if ending.abort:
            if request.transport is not None:
                request.transport.abort()
            return response
        await output.flush()
        if ending.reason:
            await response.write(ending.reason.encode())
        await response.write_eof()
    except (ConnectionResetError, ConnectionError):
        log.debug("event_stream_client_gone")
    finally:
        sim.events.unsubscribe(subscription)
    return response


class Output:
    """The response body as the client receives it: held back while a `stall` fault is on
    (a proxy that buffers), all of it released when the fault clears."""

    def __init__(self, response: web.StreamResponse, sim: Simulator) -> None:
        self._response = response
        self._sim = sim
        self._held: list[bytes] = []

    async def write(self, data: bytes) -> None:
        self._held.append(data)
        if self._sim.controls.event_stream_fault != "stall":
            await self.flush()

    async def release(self) -> None:
        if self._held and self._sim.controls.event_stream_fault != "stall":
            await self.flush()

    async def flush(self) -> None:
        held, self._held = b"".join(self._held), []
        if held:
            await self._response.write(held)


async def _pump(
    output: Output, subscription: Subscription, sim: Simulator, expires_at: float | None
) -> StreamEnded:
    """JsonStream and Event.stream's loop: heartbeats on a ticker, entries as they come."""
    loop = asyncio.get_running_loop()
    await output.write(HEARTBEAT)
    last_beat = loop.time()
    while True:
        await output.release()
        interval = sim.config.heartbeat_interval_s  # a control may change it meanwhile
        now = loop.time()
        beat_at = last_beat + interval
        if now >= beat_at:
            await output.write(HEARTBEAT)
            last_beat = beat_at if now - beat_at < interval else now  # ticks nobody took
            continue
        try:
            entry = await subscription.next(beat_at - now)
        except StreamEnded as ended:
            return ended
        if entry is None:
            continue
        wanted = subscription.request.matching(entry.events)
        if not wanted:
            continue
        if expires_at is not None and expires_at <= time.time():
            return StreamEnded(TOKEN_EXPIRED)
        await output.write(encode_line(entry.index, wanted))
