"""Malformed HTTP gets a problem+json answer, as every other error does.

The bridge is served here as `nomad-bridge serve` serves it (`BridgeRunner`), since what
aiohttp's parser refuses never reaches the application; requests go over raw sockets, as no
HTTP client would send them. Every answer, its status and its detail, is one
docs/reliability.md lists; the connection is closed after it and the next one is served.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from pydantic import SecretStr

from nomad_bridge.api import handlers
from nomad_bridge.api.malformed import BridgeRunner
from nomad_bridge.app import create_app
from nomad_bridge.logs import JsonFormatter
from nomad_bridge.nomad import NomadSettings
from nomad_bridge.settings import BridgeSettings
from tests.support import wait_until

RELIABILITY_DOC = Path(__file__).resolve().parents[2] / "docs" / "reliability.md"
BOUND_S = 5.0
TOKEN = "malformed-bridge-token-31c4"
NOT_HTTP = "the request is not valid HTTP/1.1: "
HOST = b"Host: 127.0.0.1"
AUTH = f"Authorization: Bearer {TOKEN}".encode()


@dataclass(frozen=True)
class Answer:
    version: str
    status: int
    headers: dict[str, str]
    body: bytes

    def problem(self) -> dict[str, Any]:
        assert self.headers["content-type"].startswith("application/problem+json"), self
        body = json.loads(self.body)
        assert isinstance(body, dict)
        return body


@pytest.fixture
async def runner(nomad_settings: NomadSettings) -> AsyncIterator[BridgeRunner]:
    """The bridge, as `nomad-bridge serve` runs it."""
    app = create_app(BridgeSettings(tokens=[SecretStr(TOKEN)]), nomad_settings)
    bridge = BridgeRunner(app, access_log=None)
    await bridge.setup()
    yield bridge
    await bridge.cleanup()


@pytest.fixture
async def port(runner: BridgeRunner) -> AsyncIterator[int]:
    """Where it listens: an ephemeral loopback port."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        site = web.SockSite(runner, sock)
        await site.start()
        yield sock.getsockname()[1]
        await site.stop()


async def exchange(port: int, request: bytes) -> Answer:
    """Send bytes as they are; the answer, read up to the connection's close."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(request)
        await writer.drain()
        async with asyncio.timeout(BOUND_S):
            raw = await reader.read()  # the connection is closed after an error: EOF
    finally:
        writer.close()
    head, _, body = raw.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    match = re.fullmatch(r"HTTP/(1\.[01]) (\d{3}) .*", status_line)
    assert match, raw[:300]
    headers = dict(line.split(": ", 1) for line in header_lines)
    return Answer(match[1], int(match[2]), {k.lower(): v for k, v in headers.items()}, body)


def request(head: bytes, *headers: bytes, body: bytes = b"") -> bytes:
    return b"\r\n".join([head, *headers]) + b"\r\n\r\n" + body


async def still_serves(port: int) -> None:
    answer = await exchange(port, request(b"GET /health HTTP/1.1", HOST, b"Connection: close"))
    assert answer.status == 200, answer


MALFORMED = [
    pytest.param(request(b"GARBAGE"), "Invalid method encountered", id="bad-request-line"),
    pytest.param(
        request(b"GET /jobs HTTP/9.9", HOST),
        "Bad status line: Invalid HTTP version",
        id="bad-http-version",
    ),
    pytest.param(
        request(b"GET /" + b"a" * 9000 + b" HTTP/1.1", HOST),
        "Got more than 8190 bytes when reading",
        id="request-line-over-8190-bytes",
    ),
    pytest.param(
        request(b"GET /jobs HTTP/1.1", HOST, AUTH, b"X-Big: " + b"a" * 100_000),
        "Got more than 8190 bytes when reading",
        id="100kb-header",
    ),
    pytest.param(
        request(b"GET /jobs HTTP/1.1", HOST, *(b"X-%d: a" % i for i in range(200))),
        "Too many headers received",
        id="200-headers",
    ),
    pytest.param(
        request(b"GET /jobs HTTP/1.1", HOST, b"X-Request-ID: a\rb"),
        "Missing expected LF after header value",
        id="cr-in-header-value",
    ),
    pytest.param(
        request(b"GET /jobs HTTP/1.1", HOST, b"Authorization: Bearer " + TOKEN.encode() + b"\x01"),
        "Invalid header value char",
        id="control-byte-after-a-token",
    ),
    pytest.param(request(b"GET /jobs HTTP/1.1"), "Missing 'Host' header in request", id="no-host"),
    pytest.param(
        request(
            b"POST /jobs/updatecounts HTTP/1.1",
            HOST,
            AUTH,
            b"Transfer-Encoding: chunked",
            body=b"zz\r\n{}\r\n0\r\n\r\n",
        ),
        "Invalid character in chunk size",
        id="bad-chunk-size",
    ),
    pytest.param(
        request(
            b"POST /jobs/updatecounts HTTP/1.1",
            HOST,
            AUTH,
            b"Content-Length: 2",
            b"Transfer-Encoding: chunked",
            body=b"2\r\n{}\r\n0\r\n\r\n",
        ),
        "Transfer-Encoding can't be present with Content-Length",
        id="content-length-and-chunked",
    ),
]


@pytest.mark.parametrize(("raw", "reason"), MALFORMED)
async def test_what_the_http_parser_refuses_is_a_400_problem_and_harms_nothing(
    port: int, raw: bytes, reason: str
) -> None:
    answer = await exchange(port, raw)

    assert answer.status == 400, answer
    assert answer.problem() == {
        "type": "about:blank",
        "title": "Bad Request",
        "status": 400,
        "detail": NOT_HTTP + reason,
    }
    assert answer.version == "1.0", "aiohttp answers an unparsed request as HTTP/1.0"
    await still_serves(port)


async def test_a_body_that_cannot_be_decoded_is_a_400_problem(port: int) -> None:
    raw = request(
        b"POST /jobs/updatecounts HTTP/1.1",
        HOST,
        AUTH,
        b"Content-Encoding: gzip",
        b"Content-Length: 11",
        b"Connection: close",
        body=b"not gzipped",
    )

    answer = await exchange(port, raw)

    assert answer.status == 400, answer
    assert answer.problem()["detail"] == (
        "the request body could not be read: Can not decode content-encoding: gzip"
    )
    await still_serves(port)


async def test_a_body_that_breaks_after_it_began_is_a_408_problem(
    runner: BridgeRunner, port: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """aiohttp's C parser reports a chunk broken after the request was dispatched to the
    next request only: the read's own bound answers (shortened here from 10 s)."""
    monkeypatch.setattr(handlers, "BODY_READ_TIMEOUT_S", 0.5)
    assert runner.server is not None
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        head = request(
            b"POST /jobs/updatecounts HTTP/1.1", HOST, AUTH, b"Transfer-Encoding: chunked"
        )
        writer.write(head + b'3\r\n{"j\r\n')
        await writer.drain()
        await wait_until(lambda: runner.server is not None and runner.server.requests_count > 0)
        writer.write(b"zz\r\n")
        await writer.drain()
        async with asyncio.timeout(BOUND_S):
            status_line = await reader.readline()
            raw = await reader.readuntil(b"}")
    finally:
        writer.close()

    assert status_line.startswith(b"HTTP/1.1 408 "), status_line
    body = json.loads(raw.partition(b"\r\n\r\n")[2])
    assert body["detail"] == "the body did not arrive within 0.5 s"


async def test_a_malformed_request_echoes_and_logs_no_token(
    port: int, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    bad = request(b"GET /jobs HTTP/1.1", HOST, b"Authorization: Bearer " + TOKEN.encode() + b"\x01")

    answer = await exchange(port, bad)

    assert answer.status == 400
    assert TOKEN.encode() not in answer.body
    formatter = JsonFormatter()
    assert [r for r in caplog.records if TOKEN in formatter.format(r)] == []


def test_docs_list_every_malformed_answer() -> None:
    documented = RELIABILITY_DOC.read_text(encoding="utf-8")
    for case in MALFORMED:
        _, reason = case.values
        assert f"{NOT_HTTP}{reason}" in documented, reason
    assert "the request body could not be read: Can not decode content-encoding: gzip" in (
        documented
    )
