"""Cluster-level endpoints: leader, regions, and forced garbage collection."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from nomad_bridge.sim.query import check_region, parse_query
from nomad_bridge.sim.responses import json_response

if TYPE_CHECKING:
    from nomad_bridge.sim.simulator import Simulator


async def status_leader(request: web.Request, sim: Simulator, _: str) -> web.StreamResponse:
    """The leader's RPC address as a JSON string; needs no token."""
    opts = parse_query(request, sim.config.region)
    check_region(opts.region, sim.config.region)
    return json_response(request, sim.config.leader_address)


async def regions(request: web.Request, sim: Simulator, _: str) -> web.StreamResponse:
    """Known regions, sorted; needs no token."""
    return json_response(request, [sim.config.region])


async def system_gc(request: web.Request, sim: Simulator, _: str) -> web.StreamResponse:
    """System.GarbageCollect: a management token, then a forced GC; the body is empty.

    Nomad only enqueues the core GC job and answers at once; the simulator collects before
    answering, which a client cannot tell apart from a GC that happened to run quickly.
    """
    opts = parse_query(request, sim.config.region)
    check_region(opts.region, sim.config.region)
    sim.acl.authorize(request)
    sim.controls.garbage_collect()
    return web.Response(status=200)
