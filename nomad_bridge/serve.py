"""Running the bridge as a process: pick the event loop, bind, serve until SIGTERM/SIGINT,
shut down cleanly."""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import signal
from collections.abc import Callable, Coroutine
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

from aiohttp import http_parser, web, web_protocol

from nomad_bridge.api.malformed import BridgeRunner
from nomad_bridge.app import create_app
from nomad_bridge.nomad import NomadSettings
from nomad_bridge.settings import BridgeSettings, EventLoop

log = logging.getLogger(__name__)

SHUTDOWN_GRACE_S = 5.0


class EventLoopUnavailable(RuntimeError):
    """`BRIDGE_EVENT_LOOP=uvloop` where uvloop is not installed (Windows)."""


def event_loop_factory(choice: EventLoop) -> Callable[[], asyncio.AbstractEventLoop]:
    if choice == "asyncio":
        return asyncio.new_event_loop
    try:
        import uvloop
    except ImportError:
        raise EventLoopUnavailable(
            "BRIDGE_EVENT_LOOP=uvloop but uvloop is not installed; "
            "install it or set BRIDGE_EVENT_LOOP=asyncio"
        ) from None
    return uvloop.new_event_loop


def run_on_event_loop(choice: EventLoop, main: Coroutine[Any, Any, None]) -> None:
    """`asyncio.run`, on the chosen loop (uvloop: its C transports and scheduler cost each
    request less than asyncio's own)."""
    try:
        factory = event_loop_factory(choice)
    except EventLoopUnavailable:
        main.close()
        raise
    with asyncio.Runner(loop_factory=factory) as runner:
        runner.run(main)


def http_parser_in_c() -> bool:
    """Whether aiohttp parses requests with its C parser (off with AIOHTTP_NO_EXTENSIONS,
    or where no compiled wheel exists): the pure-Python one costs every request more."""
    parser: type = getattr(web_protocol, "HttpRequestParser", http_parser.HttpRequestParser)
    return parser is not http_parser.HttpRequestParserPy


def log_runtime() -> None:
    """Say which event loop and which HTTP parser serve; warn when the parser is Python's."""
    loop = type(asyncio.get_running_loop())
    name = "uvloop" if loop.__module__.startswith("uvloop") else "asyncio"
    in_c = http_parser_in_c()
    log.info(
        "runtime",
        extra={"event_loop": name, "http_parser": "c" if in_c else "python"},
    )
    if not in_c:
        log.warning(
            "aiohttp_c_parser_inactive",
            extra={
                "hint": "aiohttp parses requests in pure Python: unset AIOHTTP_NO_EXTENSIONS "
                "or install an aiohttp wheel built for this platform"
            },
        )


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
    log_runtime()
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
