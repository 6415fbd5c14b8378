"""Spawning and stopping the benchmark's processes, and reading what they cost.

Every process runs in its own session with its output in a log file, gets SIGTERM when the
harness dies (Linux `PR_SET_PDEATHSIG`), and is stopped by `Supervisor` on every exit path:
SIGTERM, then SIGKILL after a grace period.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import aiohttp

log = logging.getLogger(__name__)

LOOPBACK = "127.0.0.1"
STOP_GRACE_S = 8.0
READY_POLL_S = 0.1
LOG_TAIL_CHARS = 2000
_PR_SET_PDEATHSIG = 1
_CLOCK_TICKS_PER_S = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    """A port the kernel says is free right now (bind to port 0, read it, release it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


def python_module(module: str, *args: str) -> list[str]:
    """The command line running `python -m module args` with this interpreter (the venv's)."""
    return [sys.executable, "-m", module, *args]


def _die_with_parent() -> None:
    """In the child, before exec: get SIGTERM if the harness dies without stopping us."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


@dataclass
class Service:
    """A spawned process; `port` is where it listens, when it is a server."""

    name: str
    process: subprocess.Popen[bytes]
    log_path: Path
    port: int = 0

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    def log_tail(self) -> str:
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")[-LOG_TAIL_CHARS:]
        except OSError:
            return ""

    def check_alive(self) -> None:
        code = self.process.poll()
        if code is not None:
            raise RuntimeError(f"{self.name} exited with {code}; log tail:\n{self.log_tail()}")


class Supervisor:
    """Owns every process of a run; `close()` (or leaving the `with`) stops them all."""

    def __init__(self, log_dir: Path) -> None:
        self._log_dir = log_dir
        self._services: list[Service] = []
        log_dir.mkdir(parents=True, exist_ok=True)

    def spawn(
        self,
        name: str,
        argv: Sequence[str],
        *,
        port: int = 0,
        env: Mapping[str, str] | None = None,
    ) -> Service:
        """Start `argv` with `env` as its whole environment (this one's when None)."""
        log_path = self._log_dir / f"{name}.log"
        with log_path.open("ab") as out:
            process = subprocess.Popen(
                list(argv),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=dict(env) if env is not None else None,
                start_new_session=True,  # Ctrl-C reaches the harness only; it stops us
                preexec_fn=_die_with_parent,
            )
        service = Service(name, process, log_path, port)
        self._services.append(service)
        log.debug("spawned %s pid=%d port=%d", name, process.pid, port)
        return service

    def stop(self, service: Service, grace_s: float = STOP_GRACE_S) -> int | None:
        """SIGTERM, wait up to `grace_s`, then SIGKILL; returns the exit code."""
        process = service.process
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGTERM)
            try:
                process.wait(grace_s)
            except subprocess.TimeoutExpired:
                log.warning("%s ignored SIGTERM for %.0fs: killing it", service.name, grace_s)
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
                process.wait(grace_s)
        if service in self._services:
            self._services.remove(service)
        return process.returncode

    def close(self) -> None:
        for service in reversed(list(self._services)):
            self.stop(service)

    def __enter__(self) -> Supervisor:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


async def wait_http_ok(service: Service, path: str, timeout_s: float) -> None:
    """Poll `GET path` until it answers 2xx; fail early if the process died."""
    deadline = time.monotonic() + timeout_s
    timeout = aiohttp.ClientTimeout(total=2.0)
    async with aiohttp.ClientSession(timeout=timeout) as http:
        while True:
            service.check_alive()
            with contextlib.suppress(aiohttp.ClientError, TimeoutError):
                async with http.get(service.url + path) as answer:
                    if answer.status < 300:
                        return
            if time.monotonic() > deadline:
                raise TimeoutError(f"{service.name} not ready on {path} in {timeout_s:.0f}s")
            await asyncio.sleep(READY_POLL_S)


def rss_bytes(pid: int) -> int:
    """Resident set size of a process (`VmRSS` in /proc/PID/status)."""
    for line in Path(f"/proc/{pid}/status").read_text(encoding="ascii").splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for pid {pid}")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far (/proc/PID/stat)."""
    stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii")
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS_PER_S


def raise_fd_limit() -> int:
    """Raise this process's open-file limit to its hard limit; returns the new limit."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


@contextlib.asynccontextmanager
async def running_tool(
    argv: Sequence[str], *, grace_s: float = STOP_GRACE_S
) -> AsyncIterator[asyncio.subprocess.Process]:
    """A short-lived helper process (load generator, waiter client) with its stdout piped;
    killed on leaving the block if it has not finished by then (errors, Ctrl-C)."""
    process = await asyncio.create_subprocess_exec(
        *argv,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        start_new_session=True,
        preexec_fn=_die_with_parent,
    )
    try:
        yield process
    finally:
        if process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                process.terminate()
            try:
                await asyncio.wait_for(process.wait(), grace_s)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
                await process.wait()


async def tool_output(argv: Sequence[str], timeout_s: float) -> str:
    """Run a helper to completion (bounded by `timeout_s`) and return its stdout."""
    async with running_tool(argv) as process:
        assert process.stdout is not None
        out = await asyncio.wait_for(process.stdout.read(), timeout_s)
        code = await asyncio.wait_for(process.wait(), timeout_s)
    if code != 0:
        raise RuntimeError(f"{argv[0]} exited with {code}: {out[-LOG_TAIL_CHARS:]!r}")
    return out.decode("utf-8", errors="replace")


def _socket_inodes(pid: int) -> set[str]:
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        with contextlib.suppress(OSError):
            target = os.readlink(fd)
            if target.startswith("socket:["):
                inodes.add(target[len("socket:[") : -1])
    return inodes


def tcp_connections_to(pid: int, port: int) -> int:
    """Established TCP connections that process `pid` holds to local port `port`."""
    inodes = _socket_inodes(pid)
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text(encoding="ascii").splitlines()[1:]:
                fields = line.split()
                remote_port = int(fields[2].rsplit(":", 1)[1], 16)
                if remote_port == port and fields[3] == "01" and fields[9] in inodes:
                    count += 1
    return count
