"""Every route of the service, in one place, so the whole API is visible at once."""

from __future__ import annotations

from aiohttp import web

from nomad_bridge.api import handlers, ui
from nomad_bridge.settings import BridgeSettings


def add_routes(app: web.Application, settings: BridgeSettings) -> None:
    api = settings.route
    app.router.add_routes(
        [
            web.get(api("jobs"), handlers.list_jobs, allow_head=False),
            web.get(api("job/{jobName}/summary"), handlers.job_summary, allow_head=False),
            web.post(api("jobs/start/{jobName}"), handlers.start_job),
            web.post(api("jobs/stop/{jobName}"), handlers.stop_job),
            web.post(api("jobs/startall"), handlers.start_all),
            web.post(api("jobs/stopall"), handlers.stop_all),
            web.post(api("jobs/updatecounts"), handlers.update_counts),
            web.post(api("jobs/settaskgroupcount"), handlers.set_task_group_count),
            web.get("/health", handlers.health, allow_head=False),
            web.get("/ready", handlers.ready, allow_head=False),
            web.get("/metrics", handlers.metrics, allow_head=False),
            web.get("/openapi.json", handlers.openapi, allow_head=False),
            *ui.routes(api),
        ]
    )
