"""The simulated Nomad: its state, scheduler, event broker, HTTP app and controls, wired."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from aiohttp import web

from nomad_bridge.sim import events_api, seed
from nomad_bridge.sim.acl import Acl
from nomad_bridge.sim.compress import compressed
from nomad_bridge.sim.config import SimConfig
from nomad_bridge.sim.controls import Controls
from nomad_bridge.sim.controls_api import make_control_handler
from nomad_bridge.sim.errors import NomadError
from nomad_bridge.sim.events import EventBroker
from nomad_bridge.sim.gojson import GoJSONError, decode_body
from nomad_bridge.sim.job_endpoint import JobEndpoint
from nomad_bridge.sim.jobschema import JOB_REGISTER_REQUEST
from nomad_bridge.sim.routing import make_dispatch, make_gate
from nomad_bridge.sim.scheduler import Scheduler
from nomad_bridge.sim.state import Store

log = logging.getLogger(__name__)

BODY_LIMIT_BYTES = 64 * 1024 * 1024
"""Nomad reads request bodies whole; aiohttp's 1 MiB default would refuse big jobs."""


class Simulator:
    """One simulated single-region Nomad cluster; `app` serves its HTTP API."""

    def __init__(self, config: SimConfig | None = None) -> None:
        self.config = config or SimConfig()
        self.store = Store()
        self.events = EventBroker(self.config.event_buffer_size)
        self.store.add_commit_listener(self.events.publish)
        self.scheduler = Scheduler(self.store, self.config)
        self.jobs = JobEndpoint(self.store, self.config, self.scheduler)
        self._acl = Acl(self.config.acl_token)
        self.controls = Controls(self)
        self.closing = False
        self.app = self._build_app()

    def _build_app(self) -> web.Application:
        app = web.Application(middlewares=[make_gate(self)], client_max_size=BODY_LIMIT_BYTES)
        app[SIM_KEY] = self
        app.router.add_route("*", "/_sim/{name}", make_control_handler(self))
        app.router.add_route("*", "/{tail:.*}", compressed(make_dispatch(self)))
        app.cleanup_ctx.append(self._lifecycle)
        app.on_shutdown.append(self._on_shutdown)
        return app

    async def _lifecycle(self, _app: web.Application) -> AsyncIterator[None]:
        self.scheduler.start()
        yield
        self.close()
        await self.scheduler.stop()

    async def _on_shutdown(self, _app: web.Application) -> None:
        self.close()

    @property
    def acl(self) -> Acl:
        return self._acl

    @acl.setter
    def acl(self, acl: Acl) -> None:
        """Replacing the tokens and policies closes the event streams they no longer allow."""
        self._acl = acl
        self.recheck_event_streams()

    def recheck_event_streams(self) -> int:
        """The broker's response to an ACL token, policy or role change; returns how many
        streams were closed."""
        return self.events.close_where(lambda sub: not events_api.still_allowed(self, sub))

    def close(self) -> None:
        """Answer every blocked query and end every event stream, ahead of shutdown."""
        if self.closing:
            return
        self.closing = True
        self.controls.release_hung()
        self.store.close()
        self.events.close()

    def register_job_spec(
        self, job: dict[str, Any], namespace: str | None = None
    ) -> dict[str, Any]:
        """Register a job as `PUT /v1/jobs` with `{"Job": job}` would; returns the response body.

        `job` may also be a whole register request (`{"Job": {...}}`). `namespace` plays the
        part of `?namespace=`; without it the job's own Namespace (or `default`) is used.
        Raises NomadError with Nomad's status and text when Nomad would refuse the job.
        """
        request = job if "ID" not in job and any(k.lower() == "job" for k in job) else {"Job": job}
        try:
            decoded = decode_body(json.dumps(request).encode(), JOB_REGISTER_REQUEST)
        except GoJSONError as err:
            raise NomadError(400, str(err)) from None
        spec = decoded.get("Job")
        if spec is None or spec.get("ID") is None:
            raise NomadError(400, "Job ID hasn't been provided")
        chosen = namespace or decoded.get("Namespace") or spec.get("Namespace") or "default"
        return self.jobs.register(spec, namespace=chosen)

    def seed_from_dir(self, directory: Path) -> list[str]:
        """Register every `{"Job": ...}` JSON file in `directory`; returns the job IDs."""
        return seed.seed_from_dir(self, directory)


SIM_KEY = web.AppKey("nomad_bridge.sim.simulator", Simulator)
