"""Every route of the service, in one table, so the whole API is visible at once.

Each entry is the one declaration of its route: aiohttp serves it, the token check reads
`open`, and `/openapi.json` describes it from the same entry and the models it names.
"""

from __future__ import annotations

from nomad_bridge.api import handlers, ui
from nomad_bridge.api.openapi import serve_openapi
from nomad_bridge.api.routing import Reply, Route
from nomad_bridge.api.schemas import (
    BulkResult,
    CountChangeResult,
    CountDelta,
    CountValue,
    DashboardFile,
    Health,
    JobName,
    LongPoll,
    Readiness,
    StateChangeResult,
    ViewHeaders,
)
from nomad_bridge.jobs.view import JobView

UPSTREAM = (502, 503, 504)  # Nomad answered badly, could not be reached, or did not answer
MUTATION_PROBLEMS = (400, 403, 404, 409, *UPSTREAM)

STATE_CHANGE = Reply("Nomad accepted the change.", StateChangeResult)
BULK = Reply("Every job's result.", BulkResult)
COUNT_CHANGE = Reply("Nomad accepted the new count.", CountChangeResult)

ROUTES: tuple[Route, ...] = (
    Route(
        "GET",
        "jobs",
        handlers.list_jobs,
        "List jobs",
        Reply("Every listed job's view.", JobView, many=True, headers=ViewHeaders),
        problems=(400, 403, *UPSTREAM),
        parameters=(LongPoll,),
    ),
    Route(
        "GET",
        "job/{jobName}/summary",
        handlers.job_summary,
        "One job's view",
        Reply("The job's view.", JobView, headers=ViewHeaders),
        problems=(400, 403, 404, *UPSTREAM),
        parameters=(JobName, LongPoll),
    ),
    Route(
        "POST",
        "jobs/start/{jobName}",
        handlers.start_job,
        "Start a job",
        STATE_CHANGE,
        problems=MUTATION_PROBLEMS,
        parameters=(JobName,),
    ),
    Route(
        "POST",
        "jobs/stop/{jobName}",
        handlers.stop_job,
        "Stop a job",
        STATE_CHANGE,
        problems=MUTATION_PROBLEMS,
        parameters=(JobName,),
    ),
    Route(
        "POST",
        "jobs/startall",
        handlers.start_all,
        "Start every autostart job",
        BULK,
        problems=MUTATION_PROBLEMS,
    ),
    Route("POST", "jobs/stopall", handlers.stop_all, "Stop every job", BULK, MUTATION_PROBLEMS),
    Route(
        "POST",
        "jobs/updatecounts",
        handlers.update_counts,
        "Add a delta to a task group's count",
        COUNT_CHANGE,
        problems=MUTATION_PROBLEMS,
        body=CountDelta,
    ),
    Route(
        "POST",
        "jobs/settaskgroupcount",
        handlers.set_task_group_count,
        "Set a task group's count",
        COUNT_CHANGE,
        problems=MUTATION_PROBLEMS,
        body=CountValue,
    ),
    Route(
        "GET",
        "/health",
        handlers.health,
        "Liveness",
        Reply("Alive.", Health),
        under_base_path=False,
        open=True,
    ),
    Route(
        "GET",
        "/ready",
        handlers.ready,
        "Readiness",
        Reply("Synced and Nomad reachable.", Readiness),
        problems=(503,),
        under_base_path=False,
        open=True,
    ),
    Route(
        "GET",
        "/metrics",
        handlers.metrics,
        "Prometheus metrics",
        Reply("Exposition format.", schema={"type": "string"}, media_types=("text/plain",)),
        under_base_path=False,
    ),
    Route(
        "GET",
        "/openapi.json",
        serve_openapi,
        "This document",
        Reply("OpenAPI 3.1.", schema={"type": "object"}),
        under_base_path=False,
    ),
    Route(
        "GET",
        "ui",
        ui.page,
        "The live dashboard (HTML)",
        Reply("The page", schema={"type": "string"}, media_types=(ui.PAGE_CONTENT_TYPE,)),
        open=True,
    ),
    Route(
        "GET",
        "ui/{asset}",
        ui.asset,
        "A file of the dashboard (script, style sheet, icon)",
        Reply("The file", schema={"type": "string"}, media_types=ui.ASSET_CONTENT_TYPES),
        problems=(404,),
        parameters=(DashboardFile,),
        open=True,
    ),
)
