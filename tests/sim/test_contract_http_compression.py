"""Contract: the simulator compresses its answers as Nomad's HTTP server does.

command/agent/http.go serves the API mux through gorilla/handlers' `CompressHandler`; its
rule (gorilla/handlers compress.go, CompressHandlerLevel): the first `Accept-Encoding`
token that is exactly `gzip` or `deflate` is used (q-values are not read, so `gzip;q=1`
is not recognised), `Vary: Accept-Encoding` is added to every answer, `deflate` is Go's raw
`compress/flate`, and `Flush` flushes the compressor first. The event stream writes through
`ioutils.NewWriteFlusher` (command/agent/event_endpoint.go), so each line and heartbeat
reaches a client as soon as it is written, compressed or not.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import zlib

import aiohttp

from nomad_bridge.sim import SimServer, Simulator
from nomad_bridge.sim.testing import service_job
from tests.sim.harness import NomadHttp

LINE_TIMEOUT_S = 10.0


async def _raw_get(url: str, accept_encoding: str | None) -> tuple[aiohttp.ClientResponse, bytes]:
    """A GET whose answer is not decoded by the client, with exactly this Accept-Encoding."""
    headers = {"Accept-Encoding": accept_encoding} if accept_encoding is not None else {}
    async with (
        aiohttp.ClientSession(auto_decompress=False, skip_auto_headers={"Accept-Encoding"}) as s,
        s.get(url, headers=headers) as response,
    ):
        return response, await response.read()


async def test_answers_are_gzip_compressed_for_a_client_that_accepts_gzip(
    sim_server: SimServer, simulator: Simulator
) -> None:
    simulator.register_job_spec(service_job("web"))
    response, body = await _raw_get(f"{sim_server.url}/v1/jobs", "gzip, deflate")
    assert response.status == 200
    assert response.headers["Content-Encoding"] == "gzip"
    assert response.headers["Vary"] == "Accept-Encoding"
    assert [stub["ID"] for stub in json.loads(gzip.decompress(body))] == ["web"]


async def test_errors_are_compressed_too(sim_server: SimServer) -> None:
    response, body = await _raw_get(f"{sim_server.url}/v1/job/missing", "gzip")
    assert response.status == 404
    assert response.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(body) == b"job not found"


async def test_deflate_first_is_raw_deflate(sim_server: SimServer) -> None:
    response, body = await _raw_get(f"{sim_server.url}/v1/jobs", "deflate, gzip")
    assert response.headers["Content-Encoding"] == "deflate"
    assert json.loads(zlib.decompress(body, -15)) == []


async def test_without_accept_encoding_answers_are_plain_and_still_vary(
    sim_server: SimServer,
) -> None:
    response, body = await _raw_get(f"{sim_server.url}/v1/jobs", None)
    assert "Content-Encoding" not in response.headers
    assert response.headers["Vary"] == "Accept-Encoding"
    assert json.loads(body) == []


async def test_q_values_are_not_read_so_gzip_with_a_weight_is_not_recognised(
    sim_server: SimServer,
) -> None:
    response, body = await _raw_get(f"{sim_server.url}/v1/jobs", "gzip;q=1.0, br")
    assert "Content-Encoding" not in response.headers
    assert json.loads(body) == []


async def test_the_event_stream_is_compressed_and_flushed_line_by_line(
    sim_server: SimServer, simulator: Simulator, http: NomadHttp
) -> None:
    """Each line decodes from what has arrived while the stream is still open."""
    url = f"{sim_server.url}/v1/event/stream?topic=Job:*"
    async with (
        aiohttp.ClientSession(auto_decompress=False) as session,
        session.get(url, headers={"Accept-Encoding": "gzip"}) as response,
    ):
        assert response.headers["Content-Encoding"] == "gzip"
        assert response.headers["Vary"] == "Accept-Encoding"
        decoder = zlib.decompressobj(31)
        text = b""

        async def next_line() -> bytes:
            nonlocal text
            while b"\n" not in text:
                chunk = await asyncio.wait_for(response.content.readany(), LINE_TIMEOUT_S)
                assert chunk, "the stream ended"
                text += decoder.decompress(chunk)
            line, _, text = text.partition(b"\n")
            return line

        assert await next_line() == b"{}"
        simulator.register_job_spec(service_job("web"))
        event = json.loads(await next_line())
        assert [e["Key"] for e in event["Events"]] == ["web"]
