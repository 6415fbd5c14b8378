"""SPEC section 5: `/metrics`, `/openapi.json`, and one access line per request."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from openapi_spec_validator import validate
from pydantic import SecretStr

from nomad_bridge.logs import ACCESS_LOGGER, configure_logging
from nomad_bridge.settings import BridgeSettings
from tests.support import BridgeClient, MakeBridge, NomadProbe, in_sync

COUNT = {"jobID": "web", "taskGroup": "frontend", "count": 1}
ACCESS_FIELDS = ["time", "level", "logger", "event", "method", "route", "status"]
ACCESS_FIELDS += ["duration_ms", "request_id"]


@contextmanager
def bridge_log() -> Iterator[list[dict[str, Any]]]:
    """The process logging as `nomad-bridge serve` sets it up (JSON lines, the writer
    thread), into a list of the access lines once the block ends; the root logger's
    handlers (pytest's) are given back afterwards."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    stream = io.StringIO()
    writer = configure_logging("INFO", stream=stream)
    lines: list[dict[str, Any]] = []
    try:
        yield lines
    finally:
        writer.stop()
        root.handlers[:] = handlers
        root.setLevel(level)
    lines += [
        entry
        for entry in map(json.loads, stream.getvalue().splitlines())
        if entry["logger"] == ACCESS_LOGGER
    ]


async def test_openapi_document_is_valid_openapi_3_1(bridge: BridgeClient) -> None:
    response = await bridge.get("/openapi.json")
    assert response.status == 200
    document = await response.json()
    assert document["openapi"].startswith("3.1")
    validate(document)


async def test_openapi_describes_every_route_of_the_app(bridge: BridgeClient) -> None:
    document = await (await bridge.get("/openapi.json")).json()
    described = {
        (path, method.upper()) for path, item in document["paths"].items() for method in item
    }
    routes = {
        (route.resource.canonical, route.method)
        for route in bridge.app.router.routes()
        if route.resource is not None
    }
    assert routes == described


@pytest.mark.parametrize("base_path", ["/api/v2"])
async def test_openapi_follows_the_base_path_and_security(
    make_bridge: MakeBridge, base_path: str
) -> None:
    bridge = await make_bridge(BridgeSettings(base_path=base_path, tokens=[SecretStr("t")]))
    response = await bridge.get("/openapi.json", headers={"Authorization": "Bearer t"})
    document = await response.json()
    validate(document)
    assert "/api/v2/jobs" in document["paths"]
    assert document["security"] == [{"bearer": []}]


async def test_metrics_count_requests_nomad_calls_and_count_changes(
    bridge: BridgeClient, nomad_probe: NomadProbe, example_jobs: list[str]
) -> None:
    await in_sync(bridge, nomad_probe)
    await bridge.get("/jobs")
    await bridge.post("/jobs/updatecounts", json=COUNT)
    response = await bridge.get("/metrics")
    assert response.status == 200
    assert response.content_type == "text/plain"
    text = await response.text()
    assert 'bridge_requests_total{method="GET",route="/jobs",status="200"}' in text
    assert 'bridge_nomad_requests_total{method="GET",outcome="ok",path="/v1/jobs"}' in text
    assert "bridge_count_changes_total" in text
    assert "bridge_long_polls_open 0.0" in text
    assert "bridge_view_index" in text


async def test_every_request_writes_one_json_access_line_reads_included(
    make_bridge: MakeBridge,
) -> None:
    with bridge_log() as lines:
        bridge = await make_bridge(BridgeSettings())
        await bridge.get("/health")
        reading = await bridge.get("/jobs", headers={"X-Request-ID": "read-1"})
        await bridge.get("/job/nope/summary")
        await bridge.post("/jobs/stop/nope")
        await bridge.get("/nowhere")
    assert [list(line) for line in lines] == [ACCESS_FIELDS] * 5
    assert [(line["method"], line["route"], line["status"]) for line in lines] == [
        ("GET", "/health", 200),
        ("GET", "/jobs", reading.status),
        ("GET", "/job/{jobName}/summary", 404),
        ("POST", "/jobs/stop/{jobName}", 404),
        ("GET", "unmatched", 404),
    ]
    assert {(line["level"], line["event"]) for line in lines} == {("info", "request")}
    assert lines[1]["request_id"] == "read-1"
    assert all(line["duration_ms"] >= 0 for line in lines)


async def test_every_request_logs_one_line_with_route_status_duration_and_request_id(
    bridge: BridgeClient, caplog: pytest.LogCaptureFixture
) -> None:
    """With logging set up by someone else (here pytest's), the line is a record."""
    caplog.set_level("INFO", logger="nomad_bridge.access")
    response = await bridge.get("/job/nope/summary", headers={"X-Request-ID": "abc-123"})
    assert response.headers["X-Request-ID"] == "abc-123"
    lines = [r for r in caplog.records if r.name == "nomad_bridge.access"]
    assert len(lines) == 1
    fields = lines[0].__dict__
    assert (fields["method"], fields["route"], fields["status"]) == (
        "GET",
        "/job/{jobName}/summary",
        404,
    )
    assert fields["request_id"] == "abc-123"
    assert fields["duration_ms"] >= 0


async def test_a_request_id_that_is_not_a_sane_token_is_replaced(bridge: BridgeClient) -> None:
    response = await bridge.get("/health", headers={"X-Request-ID": "a b\tc"})
    generated = response.headers["X-Request-ID"]
    assert generated != "a b\tc"
    assert generated != (await bridge.get("/health")).headers["X-Request-ID"]


async def test_successful_reads_can_be_left_out_of_the_log_but_not_writes_or_errors(
    make_bridge: MakeBridge, caplog: pytest.LogCaptureFixture
) -> None:
    bridge = await make_bridge(BridgeSettings(access_log_reads=False))
    caplog.set_level("INFO", logger="nomad_bridge.access")
    await bridge.get("/health")
    await bridge.get("/job/nope/summary")
    await bridge.post("/jobs/stop/nope")
    lines = [
        (vars(r)["method"], vars(r)["status"])
        for r in caplog.records
        if r.name == "nomad_bridge.access"
    ]
    assert lines == [("GET", 404), ("POST", 404)]


async def test_openapi_lists_408_and_413_for_every_route_that_takes_a_body(
    bridge: BridgeClient,
) -> None:
    """A body that stalls is answered 408, one too large 413 (README, Errors): both are in
    the document wherever a body is read, and nowhere else."""
    document = await (await bridge.get("/openapi.json")).json()
    for path, item in document["paths"].items():
        for method, operation in item.items():
            takes_body = "requestBody" in operation
            for status in ("408", "413"):
                assert (status in operation["responses"]) is takes_body, (path, method, status)
