"""Serving a simulator: on the current loop, in its own thread, or as the CLI's process.

`SimServer` owns the listening socket itself (rather than an aiohttp site) so the `refuse`
outage can close it, drop open connections, and later listen again on the same port (or
unix socket path). While it refuses, the port stays bound without listening: connections
are refused as by a stopped agent, and nothing else on the machine (another server, an
outgoing connection's ephemeral port) can take the port before it listens again.

On a unix socket (`unix=PATH`) it serves the same API as on TCP, as a task reaches its
agent's Task API at `$NOMAD_SECRETS_DIR/api.sock`; its URL is then `unix://PATH`, which is
what Nomad's own clients take as NOMAD_ADDR.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import socket
import ssl
import threading
from asyncio import sslproto
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar, overload

from aiohttp import web

from nomad_bridge.sim.config import SimConfig
from nomad_bridge.sim.controls import OutageMode
from nomad_bridge.sim.simulator import Simulator

log = logging.getLogger(__name__)

SHUTDOWN_TIMEOUT_S = 5.0
THREAD_START_TIMEOUT_S = 30.0
T = TypeVar("T")


class SimServer:
    """The simulator's HTTP API on a TCP port (HTTPS with `ssl_context`)."""

    def __init__(self, sim: Simulator) -> None:
        self.sim = sim
        self._runner: web.AppRunner | None = None
        self._server: asyncio.base_events.Server | None = None
        self._ssl: ssl.SSLContext | None = None
        self._host = "127.0.0.1"
        self._port = 0
        self._unix: Path | None = None
        self._reopen: asyncio.Task[None] | None = None
        self._held: socket.socket | None = None  # the port, bound but not listening (refuse)

    @property
    def url(self) -> str:
        if self._unix is not None:
            return f"unix://{self._unix}"
        scheme = "https" if self._ssl is not None else "http"
        host = f"[{self._host}]" if ":" in self._host else self._host
        return f"{scheme}://{host}:{self._port}"

    @property
    def port(self) -> int:
        return self._port

    async def start(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        ssl_context: ssl.SSLContext | None = None,
        *,
        unix: Path | None = None,
    ) -> None:
        """Listen on `host:port`, or on the unix socket `unix` (an absolute path) instead."""
        self._host, self._ssl = host, ssl_context
        if unix is not None and not unix.is_absolute():
            raise ValueError(f"the simulator's unix socket needs an absolute path, not {unix}")
        self._unix = unix
        self._runner = web.AppRunner(
            self.sim.app, shutdown_timeout=SHUTDOWN_TIMEOUT_S, access_log=None
        )
        await self._runner.setup()
        sock = self._bind(port)
        self._port = 0 if self._unix is not None else sock.getsockname()[1]
        await self._listen(sock)
        self.sim.controls.add_outage_listener(self._on_outage)
        log.info("sim_listening", extra={"url": self.url})

    def _bind(self, port: int) -> socket.socket:
        held, self._held = self._held, None
        if held is not None:
            sock = held  # bound all along while refusing
        elif self._unix is not None:
            self._unlink_socket()  # left by an earlier listener (or the `refuse` outage)
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.bind(str(self._unix))
        else:
            family = socket.AF_INET6 if ":" in self._host else socket.AF_INET
            sock = socket.socket(family, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((self._host, port))
        sock.listen(128)
        sock.setblocking(False)
        return sock

    async def _listen(self, sock: socket.socket) -> None:
        assert self._runner is not None
        assert self._runner.server is not None
        loop = asyncio.get_running_loop()
        if self._ssl is None:
            self._server = await loop.create_server(self._runner.server, sock=sock)
            return
        context, http = self._ssl, self._runner.server

        def tls() -> asyncio.BaseProtocol:
            return _AlertingTLS.serving(loop, http(), context)

        self._server = await loop.create_server(tls, sock=sock)

    def _on_outage(self, mode: OutageMode | None) -> None:
        if mode == "refuse" and self._server is not None:
            self._server.close()
            self._server = None
            self._held = self._hold_port()
            self._drop_connections()
        elif mode != "refuse" and self._server is None and self._runner is not None:
            sock = self._bind(self._port)  # listening again before this returns
            self._reopen = asyncio.get_running_loop().create_task(self._listen(sock))

    def _hold_port(self) -> socket.socket | None:
        """The TCP port bound again at once, not listening: refused, and kept for us."""
        if self._unix is not None:
            return None
        family = socket.AF_INET6 if ":" in self._host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((self._host, self._port))
        except OSError:
            sock.close()
            return None  # taken in between: listening again will say so
        return sock

    def _unlink_socket(self) -> None:
        if self._unix is not None and self._unix.is_socket():
            self._unix.unlink()

    def _drop_connections(self) -> None:
        assert self._runner is not None
        assert self._runner.server is not None
        for handler in list(self._runner.server.connections):
            handler.force_close()

    async def stop(self) -> None:
        self.sim.controls.remove_outage_listener(self._on_outage)
        if self._reopen is not None:
            await self._reopen
        if self._server is not None:
            self._server.close()
            self._server = None
        if self._held is not None:
            self._held.close()
            self._held = None
        self.sim.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        self._unlink_socket()


class _AlertingTLS(sslproto.SSLProtocol):
    """asyncio's server-side TLS, but a failed handshake sends its fatal alert first.

    asyncio drops the alert OpenSSL queued (CPython gh-98078, fixed only in newer Pythons),
    so a client refused for its certificate sees a bare disconnect; Nomad's Go server sends
    the alert (`certificate required`, `unknown ca`), and clients report it. This keeps the
    simulator honest for mTLS.
    """

    @classmethod
    def serving(
        cls, loop: asyncio.AbstractEventLoop, app: asyncio.BaseProtocol, context: ssl.SSLContext
    ) -> _AlertingTLS:
        handshake = loop.create_future()  # nobody awaits it: retrieve its outcome, stay quiet
        handshake.add_done_callback(lambda done: done.cancelled() or done.exception())
        return cls(loop, app, context, handshake, server_side=True)

    def _on_handshake_complete(self, handshake_exc: BaseException | None) -> None:
        flush = getattr(self, "_process_outgoing", None)  # private; absent means no fix
        if handshake_exc is not None and flush is not None:
            flush()
        super()._on_handshake_complete(handshake_exc)


@dataclass
class ThreadHandle:
    """A simulator served from its own thread and event loop, for synchronous clients."""

    sim: Simulator
    server: SimServer
    loop: asyncio.AbstractEventLoop

    @property
    def url(self) -> str:
        return self.server.url

    @overload
    def call(self, fn: Callable[[Simulator], Awaitable[T]], timeout: float = 30.0) -> T: ...
    @overload
    def call(self, fn: Callable[[Simulator], T], timeout: float = 30.0) -> T: ...
    def call(self, fn: Callable[[Simulator], Any], timeout: float = 30.0) -> Any:
        """Run `fn(sim)` on the simulator's loop (awaiting it if it returns an awaitable)."""

        async def invoke() -> Any:
            result = fn(self.sim)
            if asyncio.iscoroutine(result) or isinstance(result, asyncio.Future):
                return await result
            return result

        future = asyncio.run_coroutine_threadsafe(invoke(), self.loop)
        return future.result(timeout)


@contextlib.contextmanager
def serve_in_thread(
    sim: Simulator,
    host: str = "127.0.0.1",
    port: int = 0,
    ssl_context: ssl.SSLContext | None = None,
    *,
    unix: Path | None = None,
) -> Iterator[ThreadHandle]:
    """Serve `sim` from a new thread with its own event loop until the block exits."""
    loop = asyncio.new_event_loop()
    server = SimServer(sim)
    ready = threading.Event()
    failure: list[BaseException] = []

    def main() -> None:
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(server.start(host, port, ssl_context, unix=unix))
        except BaseException as err:
            failure.append(err)
            ready.set()
            return
        ready.set()
        loop.run_forever()
        loop.run_until_complete(server.stop())
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()

    thread = threading.Thread(target=main, name="nomad-sim", daemon=True)
    thread.start()
    if not ready.wait(THREAD_START_TIMEOUT_S) or failure:
        raise RuntimeError("simulator thread failed to start") from (
            failure[0] if failure else None
        )
    try:
        yield ThreadHandle(sim, server, loop)
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(SHUTDOWN_TIMEOUT_S * 2)


def run(
    config: SimConfig,
    host: str = "127.0.0.1",
    port: int = 4646,
    seed_dir: Path | None = None,
    *,
    unix: Path | None = None,
) -> None:
    """Serve a simulator until SIGINT or SIGTERM (the `nomad-bridge sim` command); on the
    unix socket `unix` instead of `host:port` if given."""
    asyncio.run(_serve_forever(config, host, port, seed_dir, unix))


async def _serve_forever(
    config: SimConfig, host: str, port: int, seed_dir: Path | None, unix: Path | None
) -> None:
    sim = Simulator(config)
    if seed_dir is not None:
        seeded = sim.seed_from_dir(seed_dir)
        log.info("sim_seeded", extra={"count": len(seeded), "dir": str(seed_dir)})
    server = SimServer(sim)
    await server.start(host, port, unix=unix)
    print(f"Nomad simulator listening on {server.url}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        log.info("sim_stopping")
        await server.stop()
