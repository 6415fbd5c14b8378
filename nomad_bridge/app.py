"""The application factory: wiring and resource lifetimes, nothing else.

Tests build the app exactly as `nomad-bridge serve` does.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

from aiohttp import web

from nomad_bridge.api.auth import token_check
from nomad_bridge.api.context import BRIDGE, Bridge
from nomad_bridge.api.metrics import Metrics
from nomad_bridge.api.observe import Observer
from nomad_bridge.api.routes import ROUTES
from nomad_bridge.api.routing import OBSERVE, add_routes
from nomad_bridge.jobs.catalog import JobCatalog
from nomad_bridge.jobs.definitions import DefinitionStore
from nomad_bridge.jobs.live import LiveView
from nomad_bridge.jobs.operations import JobOperations
from nomad_bridge.jobs.watch import Watch
from nomad_bridge.nomad import NomadClient, NomadSettings
from nomad_bridge.nomad.retry import RetryPolicy
from nomad_bridge.settings import BridgeSettings

log = logging.getLogger(__name__)


# Outcomes that are part of normal work (a collected job, a lost check-and-set race).
ROUTINE_OUTCOMES = frozenset({"ok", "cancelled", "not_found", "cas_conflict"})


class NomadRequestObserver:
    """The Nomad client's per-attempt hook: metrics for every attempt, a log line per failure."""

    def __init__(self, metrics: Metrics) -> None:
        self._metrics = metrics

    def __call__(self, method: str, path: str, outcome: str, duration_s: float) -> None:
        self._metrics.observe_nomad(method, path, outcome, duration_s)
        if outcome not in ROUTINE_OUTCOMES:
            log.warning(
                "nomad_request_failed",
                extra={
                    "method": method,
                    "nomad_path": path,
                    "outcome": outcome,
                    "duration_ms": round(duration_s * 1000, 2),
                },
            )


def create_app(settings: BridgeSettings, nomad_settings: NomadSettings) -> web.Application:
    metrics = Metrics()
    observe = Observer(
        metrics, log_reads=settings.access_log_reads, authorize=token_check(settings.tokens)
    )
    # No middleware: every route's handler is observed instead (api/observe.py says why).
    app = web.Application(client_max_size=settings.body_limit_bytes)
    app[OBSERVE] = observe
    add_routes(app, settings, ROUTES)
    app.router.register_resource(observe.unmatched())

    async def services(app: web.Application) -> AsyncIterator[None]:
        client = NomadClient(
            nomad_settings,
            timeout_s=settings.nomad_timeout_s,
            # A timed-out read is not tried again: each try would add a whole timeout to
            # the client's wait (connection failures are still retried).
            retry=RetryPolicy(retry_timeouts=False),
            on_request=NomadRequestObserver(metrics),
        )
        await client.open()
        definitions = DefinitionStore(client, settings.definitions_prefix)
        live = LiveView(settings.flag_keys)
        watch = Watch(
            client,
            live,
            definitions,
            mode=settings.watch,
            read_concurrency=settings.read_concurrency,
            list_wait_s=settings.watch_wait_s,
            probe_s=settings.watch_probe_s,
            heartbeat_s=settings.watch_heartbeat_s,
            events_retry_s=settings.watch_events_retry_s,
            greeting_timeout_s=settings.nomad_timeout_s,
        )
        operations = JobOperations(
            client,
            JobCatalog(client, definitions),
            definitions,
            live,
            count_change_attempts=settings.count_change_attempts,
            bulk_concurrency=settings.bulk_concurrency,
            bulk_deadline_s=settings.bulk_deadline_s,
            max_count=settings.max_count,
            lock_wait_s=settings.nomad_timeout_s,
        )
        app[BRIDGE] = Bridge(settings, client, live, operations, metrics)
        watching = asyncio.create_task(watch.run(), name="nomad-watch")
        try:
            yield
        finally:
            live.release_waiters()
            watching.cancel()
            await asyncio.gather(watching, return_exceptions=True)
            await client.close()

    async def release_waiters(app: web.Application) -> None:
        # on_shutdown runs before connections are closed: long polls answer with the view.
        app[BRIDGE].live.release_waiters()

    app.on_shutdown.append(release_waiters)

    app.cleanup_ctx.append(services)
    return app
