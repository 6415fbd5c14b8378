"""Hostile input: every request gets a clear 4xx (or its normal answer), nothing crashes,
no Nomad request goes anywhere but the job's own path, and no token shows anywhere.

Requests that aiohttp's HTTP parser refuses before the application sees them (a raw CR in a
header, a 100 KB header line) are answered by aiohttp itself here, a 400 and a closed
connection: this test server is aiohttp's own (`nomad-bridge serve` answers them with a
problem, see test_malformed_http.py). They are sent over raw sockets, since no HTTP client
would send them.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote, unquote

import pytest
from pydantic import SecretStr

from nomad_bridge.logs import JsonFormatter
from nomad_bridge.nomad import NomadSettings
from nomad_bridge.settings import BridgeSettings
from nomad_bridge.sim import SimConfig, Simulator
from nomad_bridge.sim.acl import Acl
from tests.reliability.bounded import Exchange, ask, assert_problem
from tests.support import (
    BridgeClient,
    MakeBridge,
    NomadProbe,
    in_sync,
    job_spec,
    room_for_connections,
)

BRIDGE_TOKEN = "hostile-bridge-token-5f1e"
NOMAD_TOKEN = "hostile-nomad-token-9a7c"
AUTH = {"Authorization": f"Bearer {BRIDGE_TOKEN}"}
BOUND_S = 5.0
IDLE_CONNECTIONS = 2000

# What the bridge may ask Nomad: the fixed endpoints, and one encoded segment per job ID or
# variable path (`[^/]+`: no raw slash), the job's own scale endpoint included.
NOMAD_PATH = re.compile(
    r"^(GET /v1/jobs|POST /v1/jobs|GET /v1/vars|GET /v1/status/leader|GET /v1/event/stream"
    r"|(GET|DELETE) /v1/job/[^/]+|(GET|POST) /v1/job/[^/]+/scale|GET /v1/job/[^/]+/summary"
    r"|(GET|PUT|DELETE) /v1/var/[^/]+)$"
)


@pytest.fixture
def sim_config(sim_config: SimConfig) -> SimConfig:
    sim_config.acl_token = NOMAD_TOKEN
    return sim_config


@pytest.fixture
async def hostile(
    make_bridge: MakeBridge,
    simulator: Simulator,
    nomad_probe: NomadProbe,
    nomad_settings: NomadSettings,
) -> AsyncIterator[BridgeClient]:
    """A bridge with both tokens set, and after the test: every Nomad path it used is one
    of its own, and `web` is exactly as it was."""
    simulator.register_job_spec(job_spec("web", {"frontend": 2}))
    bridge = await make_bridge(
        BridgeSettings(tokens=[SecretStr(BRIDGE_TOKEN)]),
        nomad=nomad_settings.model_copy(update={"token": SecretStr(NOMAD_TOKEN)}),
    )
    await in_sync(bridge, nomad_probe)
    simulator.controls.reset_request_counts()
    yield bridge
    unexpected = [key for key in simulator.controls.request_counts if not NOMAD_PATH.match(key)]
    assert unexpected == [], "Nomad requests outside the bridge's own paths"
    job = await nomad_probe.job("web")
    assert (job["Stop"], job["TaskGroups"][0]["Count"]) == (False, 2), "web was changed"


async def post(bridge: BridgeClient, path: str, **kw: Any) -> Exchange:
    return await ask(bridge, "POST", path, bound_s=BOUND_S, **kw)


async def raw_exchange(bridge: BridgeClient, request: bytes) -> bytes:
    """Send bytes as they are; the answer up to the connection's close."""
    reader, writer = await asyncio.open_connection("127.0.0.1", bridge.server.port)
    try:
        writer.write(request)
        await writer.drain()
        async with asyncio.timeout(BOUND_S):
            return await reader.read()
    finally:
        writer.close()


def status_of(answer: bytes) -> int:
    match = re.match(rb"HTTP/1\.[01] (\d{3}) ", answer)
    assert match, answer[:200]
    return int(match.group(1))


def request_bytes(head: bytes, *headers: bytes, body: bytes = b"") -> bytes:
    lines = [head, b"Host: 127.0.0.1", f"Authorization: Bearer {BRIDGE_TOKEN}".encode()]
    lines += [*headers, b"Connection: close", b"Content-Length: %d" % len(body)]
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


async def still_serves(bridge: BridgeClient) -> None:
    answer = await ask(bridge, "GET", "/jobs", bound_s=BOUND_S, headers=AUTH)
    assert answer.status == 200, str(answer)
    assert [job["name"] for job in answer.json()] == ["web"]


# --- bodies ------------------------------------------------------------------------------

DEPTH = 10_000  # 20-60 KB: under the 64 KiB body limit, far past Python's recursion limit


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b"[" * DEPTH + b"]" * DEPTH, id="deep-arrays"),
        pytest.param(b'{"a":' * DEPTH + b"1" + b"}" * DEPTH, id="deep-objects"),
        pytest.param(
            b'{"jobID": "web", "taskGroup": "frontend", "count": ' + b"9" * 5000 + b"}",
            id="5000-digit-count",
        ),
    ],
)
async def test_json_that_breaks_the_parser_is_a_400_problem(
    hostile: BridgeClient, body: bytes
) -> None:
    """`parse_body` catches `JSONDecodeError` only: Python's json raises `RecursionError`
    for deep nesting and `ValueError` past 4300 integer digits, and both become 500s."""
    for route in ("/jobs/updatecounts", "/jobs/settaskgroupcount"):
        assert_problem(await post(hostile, route, data=body, headers=AUTH), 400)
    await still_serves(hostile)


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
async def test_a_huge_body_is_413_and_never_reaches_nomad(
    hostile: BridgeClient, simulator: Simulator, chunked: bool
) -> None:
    size = 10 * 1024 * 1024

    async def stream() -> AsyncIterator[bytes]:
        for _ in range(size // 65536):
            yield b" " * 65536

    data: Any = stream() if chunked else b" " * size
    answer = await post(hostile, "/jobs/updatecounts", data=data, headers=AUTH)
    assert_problem(answer, 413)
    watch_own = {"GET /v1/jobs", "GET /v1/job/web/summary"}  # index probe, allocations moving
    assert set(simulator.controls.request_counts) <= watch_own
    await still_serves(hostile)


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "application/xml", "", "image/png"],
)
async def test_content_type_is_not_trusted_only_the_body_is(
    hostile: BridgeClient, content_type: str
) -> None:
    """`curl -d` (README's example) sends JSON as form data: any content type is parsed as
    JSON, and whatever is not JSON is a 400 problem."""
    headers = {**AUTH, "Content-Type": content_type} if content_type else AUTH
    good = b'{"jobID": "nope", "taskGroup": "g", "count": 1}'
    assert_problem(await post(hostile, "/jobs/updatecounts", data=good, headers=headers), 404)
    for bad in [b"jobID=web&taskGroup=frontend&count=1", b"<count>1</count>", b"", b"\x89PNG"]:
        answer = await post(hostile, "/jobs/updatecounts", data=bad, headers=headers)
        assert_problem(answer, 400)


async def test_non_utf8_bodies_and_job_ids_are_400(hostile: BridgeClient) -> None:
    for body in [b'{"jobID": "\xff", "taskGroup": "g", "count": 1}', b"\xfe\xff\x00{"]:
        answer = await post(hostile, "/jobs/settaskgroupcount", data=body, headers=AUTH)
        assert_problem(answer, 400)
    lone_surrogate = b'{"jobID": "\\ud800", "taskGroup": "g", "count": 1}'
    answer = await post(hostile, "/jobs/settaskgroupcount", data=lone_surrogate, headers=AUTH)
    assert answer.status in (400, 404), str(answer)
    assert answer.is_problem


async def test_very_long_job_names_are_refused_or_unknown(hostile: BridgeClient) -> None:
    long_id = "j" * 1025  # one past the body model's limit
    body = {"jobID": long_id, "taskGroup": "g", "count": 1}
    assert_problem(await post(hostile, "/jobs/updatecounts", body=body, headers=AUTH), 400)
    name = "n" * 4000  # a path segment Nomad will never have
    assert_problem(await post(hostile, f"/jobs/start/{name}", headers=AUTH), 404)
    summary = await ask(hostile, "GET", f"/job/{name}/summary", bound_s=BOUND_S, headers=AUTH)
    assert_problem(summary, 404)
    too_long = request_bytes(b"POST /jobs/stop/" + b"n" * 10_000 + b" HTTP/1.1")
    assert 400 <= status_of(await raw_exchange(hostile, too_long)) < 500
    await still_serves(hostile)


# --- paths -------------------------------------------------------------------------------

PATH_TRICKS = [
    "..%2F..%2Fv1%2Facl%2Ftokens",
    "%2e%2e",
    "%2E%2E%2Fjobs",
    "web%2F..%2F..%2Fjobs",
    "web%2Fsummary",
    "web%2Fscale",
    "web%2F",
    "%2Fweb",
    "web%3Fpurge%3Dtrue",
    "web%23fragment",
    "web%3Bpurge=true",
    "%252e%252e%252fv1",
    "web%252Fsummary",
    "..%5C..%5Cv1",
    "%C0%AE%C0%AE",
    "web%00",
    "web%0D%0AX-Nomad-Token:%20stolen",
    "web%0A",
    "web%09",
    "web%7F",
    "%FF%FE",
    "%",
    "%zz",
    "web%20",
    "WEB",
]


@pytest.mark.parametrize("name", PATH_TRICKS)
async def test_percent_encoded_path_tricks_reach_no_other_nomad_path(
    hostile: BridgeClient, simulator: Simulator, name: str
) -> None:
    answers = [
        await ask(hostile, "GET", f"/job/{name}/summary", bound_s=BOUND_S, headers=AUTH),
        await post(hostile, f"/jobs/start/{name}", headers=AUTH),
        await post(hostile, f"/jobs/stop/{name}", headers=AUTH),
        await post(
            hostile,
            "/jobs/settaskgroupcount",
            body={"jobID": unquote(name), "taskGroup": "frontend", "count": 9},
            headers=AUTH,
        ),
    ]
    for answer in answers:
        assert answer.status in (400, 404), str(answer)
        assert answer.is_problem, str(answer)
    for key in simulator.controls.request_counts:
        method, path = key.split(" ", 1)
        if path.startswith("/v1/job/"):
            # One segment, and it is the job ID the client named, encoded: never `web`.
            assert method == "GET", key
            assert unquote(path.removeprefix("/v1/job/")) != "web", key


async def test_control_characters_and_non_utf8_in_the_raw_path_are_400(
    hostile: BridgeClient,
) -> None:
    for path in [b"/jobs/start/a\x00b", b"/jobs/start/a\rb", b"/jobs/start/\xff\xfe", b"/jobs/a b"]:
        answer = await raw_exchange(hostile, request_bytes(b"POST " + path + b" HTTP/1.1"))
        assert 400 <= status_of(answer) < 500, answer[:200]
    await still_serves(hostile)


async def test_a_job_nomad_cannot_address_is_left_out_of_startall_and_stopall(
    make_bridge: MakeBridge,
    simulator: Simulator,
    nomad_probe: NomadProbe,
    nomad_settings: NomadSettings,
) -> None:
    """Someone registered `web/summary` in Nomad directly. The view leaves it out (a path
    with it would reach web's summary), so no endpoint knows it; but bulk operations list
    jobs from Nomad afresh (`JobCatalog.listed_now`) and then fail on it, so every
    `stopall` answers a 400 problem — for a job no client can see."""
    for job_id in ("web", "web/summary"):
        simulator.register_job_spec(job_spec(job_id, {"g": 1}, Meta={"autostart": "true"}))
    bridge = await make_bridge(
        BridgeSettings(), nomad=nomad_settings.model_copy(update={"token": SecretStr(NOMAD_TOKEN)})
    )
    await in_sync(bridge, nomad_probe)
    listed = await ask(bridge, "GET", "/jobs", bound_s=BOUND_S)
    assert [job["name"] for job in listed.json()] == ["web"]
    for bulk, result in (("stopall", "stopped"), ("startall", "started")):
        answer = await post(bridge, f"/jobs/{bulk}")
        assert answer.status == 200, str(answer)
        assert answer.json()["results"] == [{"job": "web", "status": 200, "result": result}]


# --- headers -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "header",
    [
        pytest.param(b"X-Request-ID: a\rb", id="cr-in-value"),
        pytest.param(b"X-Request-ID: a\x00b", id="nul-in-value"),
        pytest.param(b"waitIndex: 1\r\nX-Injected: 1\rx", id="crlf-injection"),
        pytest.param(b"X-Bad\x00Name: 1", id="nul-in-name"),
        pytest.param(b"X-Big: " + b"a" * 100_000, id="100kb-header"),
        pytest.param(b"\r\n".join(b"X-%d: a" % i for i in range(5000)), id="5000-headers"),
        pytest.param(b"waitIndex: " + b"9" * 8000, id="8kb-wait-index"),
    ],
)
async def test_malformed_and_oversized_headers_are_a_4xx_and_harm_nothing(
    hostile: BridgeClient, header: bytes
) -> None:
    answer = await raw_exchange(hostile, request_bytes(b"GET /jobs HTTP/1.1", header))
    assert 400 <= status_of(answer) < 500, answer[:300]
    await still_serves(hostile)


@pytest.mark.parametrize(
    ("header", "status"),
    [
        pytest.param(b"waitIndex: \xff\xfe", 400, id="wait-index"),
        pytest.param(b"X-Request-ID: \xff\xfe", 200, id="request-id"),
        pytest.param(b"Authorization: Bearer \xff\xfe", 401, id="authorization"),
    ],
)
async def test_non_utf8_header_values_are_handled(
    hostile: BridgeClient, header: bytes, status: int
) -> None:
    """aiohttp hands undecodable header bytes on as surrogate escapes; the token check
    encodes the presented token strictly (`api/auth.py`) and fails with a 500."""
    head = [b"GET /jobs HTTP/1.1", b"Host: 127.0.0.1", header, b"Connection: close"]
    if not header.startswith(b"Authorization"):
        head.insert(2, f"Authorization: Bearer {BRIDGE_TOKEN}".encode())
    answer = await raw_exchange(hostile, b"\r\n".join(head) + b"\r\n\r\n")
    assert status_of(answer) == status, answer[:300]
    await still_serves(hostile)


# --- connections -------------------------------------------------------------------------


@pytest.fixture
def descriptors_for_idle_connections() -> None:
    room_for_connections(IDLE_CONNECTIONS)


@pytest.mark.usefixtures("descriptors_for_idle_connections")
async def test_thousands_of_idle_connections_leave_room_for_a_normal_request(
    hostile: BridgeClient, simulator: Simulator
) -> None:
    port = hostile.server.port
    writers: list[asyncio.StreamWriter] = []
    try:
        for i in range(IDLE_CONNECTIONS):
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            if i % 2:  # half of them stall in the middle of a request line
                writer.write(b"GET /jo")
            writers.append(writer)
        await asyncio.gather(*(w.drain() for w in writers))
        answer = await ask(hostile, "GET", "/jobs", bound_s=BOUND_S, headers=AUTH)
        assert answer.status == 200, str(answer)
        body = {"jobID": "web", "taskGroup": "frontend", "count": 2}
        change = await ask(
            hostile, "POST", "/jobs/settaskgroupcount", body=body, bound_s=BOUND_S, headers=AUTH
        )
        assert change.status == 200, str(change)
    finally:
        for writer in writers:
            writer.close()
        await asyncio.gather(*(w.wait_closed() for w in writers), return_exceptions=True)
    await still_serves(hostile)


# --- secrets -----------------------------------------------------------------------------


async def test_no_token_in_any_answer_or_log_line(
    hostile: BridgeClient, simulator: Simulator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    wrong = {"Authorization": f"Bearer {BRIDGE_TOKEN}x"}
    answers = [
        await ask(hostile, "GET", "/jobs", bound_s=BOUND_S, headers=wrong),
        await ask(hostile, "GET", "/jobs", bound_s=BOUND_S, headers={"Authorization": "Basic x"}),
        await ask(hostile, "GET", "/ready", bound_s=BOUND_S),
        await ask(hostile, "GET", "/metrics", bound_s=BOUND_S, headers=AUTH),
        await ask(hostile, "GET", "/openapi.json", bound_s=BOUND_S, headers=AUTH),
        await post(hostile, "/jobs/start/%2e%2e", headers=AUTH),
        await post(hostile, "/jobs/updatecounts", data=b"{", headers=AUTH),
        await post(hostile, "/jobs/updatecounts", body={"jobID": "web"}, headers=AUTH),
    ]
    # Nomad refusing the bridge's token, and Nomad gone: errors that mention Nomad.
    simulator.acl = Acl("another-token")
    answers.append(await post(hostile, "/jobs/stop/web", headers=AUTH))
    answers.append(await ask(hostile, "GET", "/ready", bound_s=BOUND_S))
    simulator.acl = Acl(NOMAD_TOKEN)
    simulator.controls.set_outage("unavailable")
    answers.append(await post(hostile, "/jobs/stop/web", headers=AUTH))
    simulator.controls.set_outage(None)
    assert {a.status for a in answers} >= {401, 400, 403, 503}
    formatter = JsonFormatter()
    lines = [formatter.format(record) for record in caplog.records]
    for secret in (BRIDGE_TOKEN, NOMAD_TOKEN):
        assert [str(a) for a in answers if secret in a.text + repr(a.headers)] == []
        assert [line for line in lines if secret in line] == []


def test_the_nomad_path_check_refuses_foreign_paths() -> None:
    for key in ["GET /v1/acl/tokens", "GET /v1/job/web/allocations", "DELETE /v1/jobs", "GET /"]:
        assert not NOMAD_PATH.match(key)
    assert NOMAD_PATH.match(f"GET /v1/job/{quote('a/b', safe='')}")
