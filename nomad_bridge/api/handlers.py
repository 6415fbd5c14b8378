"""The Cluster API's handlers: parse the request, call the domain, shape the answer.

Handlers never build error bodies: they raise, and `problems.problem_for` answers.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any, TypeVar

from aiohttp import web
from aiohttp.http import HttpProcessingError
from pydantic import BaseModel, ValidationError

from nomad_bridge.api.context import bridge
from nomad_bridge.api.longpoll import LAST_CONTACT_HEADER, WAIT_INDEX_HEADER, parse_long_poll
from nomad_bridge.api.malformed import parse_failure
from nomad_bridge.api.metrics import METRICS_CONTENT_TYPE
from nomad_bridge.api.problems import Problem, status_for
from nomad_bridge.api.schemas import (
    JOB_NAME,
    BulkEntry,
    CountChangeResult,
    CountDelta,
    CountValue,
    StateChangeResult,
)
from nomad_bridge.jobs.errors import JobNotFound
from nomad_bridge.jobs.live import LiveView
from nomad_bridge.jobs.operations import BulkResult, CountChange, StateChange
from nomad_bridge.nomad import errors as nomad

# A body of BRIDGE_BODY_LIMIT_BYTES arrives well within this; a stalled or broken one (a bad
# chunk aiohttp's C parser reports only to the next request) must not hold the handler.
BODY_READ_TIMEOUT_S = 10.0

Body = TypeVar("Body", bound=BaseModel)


async def parse_body(request: web.Request, model: type[Body]) -> Body:
    """A strict body: JSON object, the model's fields with their exact types."""
    try:
        async with asyncio.timeout(BODY_READ_TIMEOUT_S):
            raw = await request.read()  # 413 past the application's client_max_size
    except TimeoutError:
        raise Problem(408, f"the body did not arrive within {BODY_READ_TIMEOUT_S:g} s") from None
    except (web.RequestPayloadError, HttpProcessingError) as error:
        # Broken framing or content coding found while the body is read (a bad chunk, a
        # gzip body that is not gzip): the parser's complaint, without the bytes it quotes.
        detail = parse_failure(error.__cause__ or error, None)
        raise Problem(400, f"the request body could not be read: {detail}") from None
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError) as error:
        # JSONDecodeError and UnicodeDecodeError are ValueErrors, as is a number of more
        # than 4,300 digits; RecursionError is JSON nested too deep to decode.
        detail = str(error)[:200] or type(error).__name__
        raise Problem(400, f"request body is not valid JSON: {detail}") from None
    try:
        return model.model_validate(data)
    except ValidationError as error:
        problems = [
            f"{'.'.join(str(part) for part in issue['loc']) or 'body'}: {issue['msg']}"
            for issue in error.errors(include_url=False, include_input=False)
        ]
        raise Problem(400, "; ".join(problems), extra={"errors": problems}) from None


def json_response(body: Any, *, status: int = 200) -> web.Response:
    return web.json_response(body, status=status)


def _state_change(change: StateChange) -> dict[str, Any]:
    result = StateChangeResult(job=change.job_id, result=change.outcome.value)
    result.eval_id = change.eval_id
    return result.model_dump(by_alias=True)


def _count_change(request: web.Request, change: CountChange) -> dict[str, Any]:
    metrics = bridge(request).metrics
    metrics.count_changes.labels(change.path.value).inc()
    metrics.count_change_retries.inc(change.attempts - 1)
    return CountChangeResult(
        job_id=change.job_id,
        group=change.group,
        previous_count=change.previous_count,
        count=change.count,
        path=change.path.value,
        attempts=change.attempts,
    ).model_dump(by_alias=True)


async def synced_view(request: web.Request) -> LiveView:
    """The live view, once it has synced with Nomad at least once (503 until then)."""
    app = bridge(request)
    if not await app.live.wait_synced(app.settings.nomad_timeout_s):
        if isinstance(app.live.failure, nomad.PermissionDenied):
            raise app.live.failure  # 403: Nomad refuses the bridge's token
        raise Problem(503, f"the bridge has not synced with Nomad yet: {app.live.status}")
    return app.live


def view_response(live: LiveView, body: bytes, index: int) -> web.Response:
    headers = {
        WAIT_INDEX_HEADER: str(index),
        LAST_CONTACT_HEADER: str(round(live.sync_age_s * 1000)),
    }
    return web.Response(body=body, content_type="application/json", headers=headers)


async def list_jobs(request: web.Request) -> web.Response:
    """Every listed job; with `waitIndex: N`, once the view's index passes N (SPEC 3)."""
    long_poll = parse_long_poll(request)
    live = bridge(request).live
    if not live.synced:  # a read pays for no coroutine once synced: the common case
        live = await synced_view(request)
    if long_poll is not None and live.index <= long_poll[0]:
        metrics = bridge(request).metrics
        metrics.long_polls_open += 1
        try:
            await live.wait_past(*long_poll)
        finally:
            metrics.long_polls_open -= 1
    return view_response(live, live.body, live.index)


async def job_summary(request: web.Request) -> web.Response:
    """One job's view; its long poll wakes only when this job's view changes."""
    long_poll = parse_long_poll(request)
    live = bridge(request).live
    if not live.synced:
        live = await synced_view(request)
    job_id = request.match_info[JOB_NAME]
    entry = live.entry(job_id)
    if entry is not None and long_poll is not None and entry.index <= long_poll[0]:
        metrics = bridge(request).metrics
        metrics.long_polls_open += 1
        try:
            await live.wait_job_past(job_id, *long_poll)
        finally:
            metrics.long_polls_open -= 1
        entry = live.entry(job_id)
    if entry is None:
        raise JobNotFound(job_id)
    return view_response(live, entry.body, max(entry.index, 1))


async def start_job(request: web.Request) -> web.Response:
    change = await bridge(request).operations.start(request.match_info[JOB_NAME])
    return json_response(_state_change(change))


async def stop_job(request: web.Request) -> web.Response:
    change = await bridge(request).operations.stop(request.match_info[JOB_NAME])
    return json_response(_state_change(change))


def _bulk_response(results: list[BulkResult]) -> web.Response:
    entries: list[BulkEntry] = []
    for result in results:
        if result.change is not None:
            entries.append(BulkEntry(job=result.job_id, status=200, result=result.change.outcome))
        else:
            assert result.error is not None
            entries.append(
                BulkEntry(
                    job=result.job_id, status=status_for(result.error), detail=str(result.error)
                )
            )
    failed = [entry for entry in entries if entry.status >= 300]
    body = {"results": [entry.model_dump(exclude_none=True) for entry in entries]}
    if not failed:
        return json_response(body)
    # The most telling failure decides the status; every job's own result is in the body.
    status = max(failed, key=lambda entry: (entry.status in (503, 504), entry.status)).status
    raise Problem(
        status,
        f"{len(failed)} of {len(entries)} jobs failed: "
        + ", ".join(f"{entry.job} ({entry.status})" for entry in failed[:10]),
        extra=body,
    )


async def start_all(request: web.Request) -> web.Response:
    app = bridge(request)
    return _bulk_response(await app.operations.start_all(app.settings.autostart_key))


async def stop_all(request: web.Request) -> web.Response:
    return _bulk_response(await bridge(request).operations.stop_all())


async def update_counts(request: web.Request) -> web.Response:
    body = await parse_body(request, CountDelta)
    change = await bridge(request).operations.add_to_count(body.job_id, body.group, body.delta)
    return json_response(_count_change(request, change))


async def set_task_group_count(request: web.Request) -> web.Response:
    body = await parse_body(request, CountValue)
    change = await bridge(request).operations.set_count(body.job_id, body.group, body.count)
    return json_response(_count_change(request, change))


async def metrics(request: web.Request) -> web.Response:
    """Prometheus exposition; the live view's gauges are sampled now."""
    app = bridge(request)
    app.metrics.view_index.set(app.live.index)
    app.metrics.view_sync_age.set(app.live.sync_age_s)
    app.metrics.set_watch_mode(app.live.mode)
    return web.Response(body=app.metrics.render(), headers={"Content-Type": METRICS_CONTENT_TYPE})


async def health(request: web.Request) -> web.Response:
    """Liveness: the process answers; no Nomad call."""
    return web.json_response({"status": "ok"})


async def ready(request: web.Request) -> web.Response:
    """Readiness: the view is synced and Nomad answers right now."""
    app = bridge(request)
    if not app.live.ready:
        raise Problem(503, f"not ready: {app.live.status}")
    try:
        # An ACL-checked read that matches nothing: Nomad answers, and still accepts the
        # bridge's token (`/v1/status/leader` would answer without ACLs).
        await app.client.jobs_index()
    except nomad.NomadError as error:
        raise Problem(503, f"Nomad is not usable: {error}") from None
    return web.json_response(
        {
            "status": "ready",
            "index": app.live.index,
            "nomadIndex": app.live.nomad_index,
            "watch": app.live.mode,
        }
    )
