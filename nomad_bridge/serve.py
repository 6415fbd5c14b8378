"""Running the bridge as a process: bind, serve until SIGTERM/SIGINT, shut down cleanly."""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import signal
from contextlib import AsyncExitStack
from pathlib import Path

from aiohttp import web

from nomad_bridge.api.malformed import BridgeRunner
from nomad_bridge.app import create_app
from nomad_bridge.nomad import NomadSettings
from nomad_bridge.settings import BridgeSettings

log = logging.getLogger(__name__)

SHUTDOWN_GRACE_S = 5.0


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def warn_if_exposed(settings: BridgeSettings, host: str) -> bool:
    """Warn when anyone who can reach `host` could change jobs; True if it warned."""
    if settings.tokens or is_loopback(host):
        return False
    log.warning(
        "serving %s without BRIDGE_TOKENS: anyone who can reach it can start, stop and "
        "scale jobs; set BRIDGE_TOKENS (or BRIDGE_TOKENS_FILE) to require a bearer token",
        host,
    )
    return True


async def serve(
    settings: BridgeSettings,
    nomad_settings: NomadSettings,
    *,
    host: str,
    port: int,
    sim_seed_dir: Path | None = None,
    embedded_sim: bool = False,
) -> None:
    """Serve until a termination signal; with `embedded_sim`, in front of an in-process sim."""
    warn_if_exposed(settings, host)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    async with AsyncExitStack() as stack:
        if embedded_sim:
            nomad_settings = await _start_embedded_sim(stack, nomad_settings, sim_seed_dir)
        runner = BridgeRunner(
            create_app(settings, nomad_settings),
            shutdown_timeout=SHUTDOWN_GRACE_S,
            access_log=None,  # api/observe.py writes one structured line per request
        )
        await runner.setup()
        stack.push_async_callback(runner.cleanup)
        site = web.TCPSite(runner, host, port)
        await site.start()
        log.info("serving", extra={"host": host, "port": port, "nomad": nomad_settings.addr})
        await stop.wait()
        log.info("shutting_down")


async def _start_embedded_sim(
    stack: AsyncExitStack, nomad_settings: NomadSettings, seed_dir: Path | None
) -> NomadSettings:
    # The simulator is another Nomad: the bridge reaches it over loopback HTTP like any other.
    from nomad_bridge.sim import SimConfig, SimServer, Simulator

    simulator = Simulator(SimConfig())
    if seed_dir is not None:
        simulator.seed_from_dir(seed_dir)
    server = SimServer(simulator)
    await server.start(host="127.0.0.1", port=0)
    stack.push_async_callback(server.stop)
    log.info("embedded_simulator", extra={"url": server.url})
    return nomad_settings.model_copy(update={"addr": server.url, "token": None})
