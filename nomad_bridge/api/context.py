"""What handlers need from the application, under one typed application key."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from nomad_bridge.api.metrics import Metrics
from nomad_bridge.jobs.live import LiveView
from nomad_bridge.jobs.operations import JobOperations
from nomad_bridge.nomad import NomadClient
from nomad_bridge.settings import BridgeSettings


@dataclass(frozen=True, slots=True)
class Bridge:
    """The bridge's long-lived services; built on startup, closed on cleanup."""

    settings: BridgeSettings
    client: NomadClient
    live: LiveView
    operations: JobOperations
    metrics: Metrics


BRIDGE = web.AppKey("bridge", Bridge)


def bridge(request: web.Request) -> Bridge:
    return request.app[BRIDGE]
