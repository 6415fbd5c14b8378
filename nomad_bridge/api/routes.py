"""Every route of the service, in one place, so the whole API is visible at once."""

from __future__ import annotations

from collections.abc import Callable

from aiohttp import web

from nomad_bridge.api import handlers
from nomad_bridge.api.problems import Handler
from nomad_bridge.settings import BridgeSettings

Observe = Callable[[str, Handler], Handler]
"""Wraps a route's handler (`api/observe.py`): the app has no middleware."""


def route_table(settings: BridgeSettings) -> list[web.RouteDef]:
    api = settings.route
    return [
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
    ]


def add_routes(app: web.Application, settings: BridgeSettings, observe: Observe) -> None:
    """Register every route with its handler observed."""
    observed = []
    for route in route_table(settings):
        assert not isinstance(route.handler, type), "class-based views are not observed"
        handler = observe(route.path, route.handler)
        observed.append(web.RouteDef(route.method, route.path, handler, route.kwargs))
    app.router.add_routes(observed)
