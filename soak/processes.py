"""The two processes under soak, on loopback: the simulated Nomad and the bridge.

Each runs as a real subprocess (`python -m soak.nomad`, `python -m nomad_bridge serve`), so
the bridge's memory and file descriptors can be read from `/proc/PID/...` alone.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import aiohttp

REPO = Path(__file__).resolve().parents[1]
START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 10.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True, slots=True)
class Tokens:
    bridge: str
    nomad: str


@dataclass
class Processes:
    nomad_url: str
    control_url: str  # the simulator's /_sim/ controls, reachable during every outage
    bridge_url: str
    bridge: asyncio.subprocess.Process
    nomad: asyncio.subprocess.Process
    bridge_log: Path

    @property
    def bridge_pid(self) -> int:
        return self.bridge.pid


def clean_env() -> dict[str, str]:
    """The caller's environment without any NOMAD_* or BRIDGE_* setting."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("NOMAD_", "BRIDGE_"))}


async def wait_for(url: str, *, status: int = 200, timeout_s: float = START_TIMEOUT_S) -> None:
    deadline = asyncio.get_running_loop().time() + timeout_s
    async with aiohttp.ClientSession() as session:
        while True:
            try:
                async with session.get(url) as response:
                    if response.status == status:
                        return
            except aiohttp.ClientError:
                pass
            if asyncio.get_running_loop().time() > deadline:
                raise RuntimeError(f"{url} did not answer {status} within {timeout_s} s")
            await asyncio.sleep(0.1)


@asynccontextmanager
async def started(
    out_dir: Path, tokens: Tokens, *, jobs: int, nomad_timeout_s: float, bulk_deadline_s: float
) -> AsyncIterator[Processes]:
    """Start the simulator, then the bridge in front of it; stop both (SIGTERM) after."""
    nomad_port, admin_port, bridge_port = free_port(), free_port(), free_port()
    nomad_log = (out_dir / "nomad.log").open("wb")
    bridge_log_path = out_dir / "bridge.log"
    bridge_log = bridge_log_path.open("wb")
    nomad = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "soak.nomad",
        "--port", str(nomad_port), "--admin-port", str(admin_port),
        "--acl-token", tokens.nomad, "--jobs", str(jobs),
        cwd=REPO, env=clean_env(), stdout=nomad_log, stderr=nomad_log,
    )  # fmt: skip
    bridge: asyncio.subprocess.Process | None = None
    try:
        control_url = f"http://127.0.0.1:{admin_port}"
        await wait_for(f"{control_url}/_sim/state")
        env = clean_env() | {
            "NOMAD_ADDR": f"http://127.0.0.1:{nomad_port}",
            "NOMAD_TOKEN": tokens.nomad,
            "BRIDGE_TOKENS": tokens.bridge,
            "BRIDGE_NOMAD_TIMEOUT_S": str(nomad_timeout_s),
            "BRIDGE_BULK_DEADLINE_S": str(bulk_deadline_s),
            "BRIDGE_LOG_LEVEL": "INFO",
        }
        bridge = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "nomad_bridge", "serve",
            "--host", "127.0.0.1", "--port", str(bridge_port),
            cwd=REPO, env=env, stdout=bridge_log, stderr=bridge_log,
        )  # fmt: skip
        bridge_url = f"http://127.0.0.1:{bridge_port}"
        await wait_for(f"{bridge_url}/ready")
        yield Processes(
            nomad_url=f"http://127.0.0.1:{nomad_port}",
            control_url=control_url,
            bridge_url=bridge_url,
            bridge=bridge,
            nomad=nomad,
            bridge_log=bridge_log_path,
        )
    finally:
        for process in (bridge, nomad):
            if process is not None:
                await stop(process)
        nomad_log.close()
        bridge_log.close()


async def stop(process: asyncio.subprocess.Process) -> int | None:
    """SIGTERM, then SIGKILL past `STOP_TIMEOUT_S`; the exit code (None if it was killed)."""
    if process.returncode is not None:
        return process.returncode
    process.send_signal(signal.SIGTERM)
    try:
        return await asyncio.wait_for(process.wait(), STOP_TIMEOUT_S)
    except TimeoutError:
        process.kill()
        await process.wait()
        return None


def rss_kib(pid: int) -> int:
    """Resident set size from /proc/PID/status (`VmRSS`, in KiB)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for {pid}")


def open_fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))
