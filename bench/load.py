"""Driving load at a server from another process: `wrk` when installed, else bench.loadgen.

Every run also samples the CPU time of the server and of the load generator, so the
results say which of the two set the pace (`server_cpu`, `client_cpu`: share of one core).
"""

from __future__ import annotations

import asyncio
import json
import math
import re
import shutil
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from bench.processes import cpu_seconds, python_module, running_tool

WRK = "wrk"
LOADGEN = "bench.loadgen"
RUN_SLACK_S = 30.0
CPU_SETTLE_S = 0.3
"""CPU sampling starts this long into a run (process start-up) and ends this long before."""


@dataclass(frozen=True)
class LoadResult:
    tool: str
    connections: int
    requests: int
    errors: int
    elapsed_s: float
    rps: float
    latency_p50_s: float
    latency_p99_s: float
    latency_mean_s: float
    server_cpu: float
    client_cpu: float

    def to_json(self) -> dict[str, Any]:
        return {
            k: (None if isinstance(v, float) and math.isnan(v) else v)
            for k, v in asdict(self).items()
        }


def load_tool() -> str:
    return WRK if shutil.which(WRK) else LOADGEN


_WRK_UNITS_S = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}


def _wrk_seconds(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()  # type: ignore[union-attr]
    return float(number) * _WRK_UNITS_S[unit]


def parse_wrk(out: str) -> dict[str, float]:
    """The figures of `wrk --latency` output."""

    def grab(pattern: str) -> str | None:
        found = re.search(pattern, out, re.MULTILINE)
        return found.group(1) if found else None

    requests = int(grab(r"^\s*(\d+) requests in") or 0)
    elapsed = _wrk_seconds(grab(r"requests in ([\d.]+\w+),") or "0s")
    non_2xx = int(grab(r"Non-2xx or 3xx responses: (\d+)") or 0)
    socket_errors = sum(
        int(n)
        for n in re.findall(
            r"(?:connect|read|write|timeout) (\d+)", grab(r"(Socket errors:.*)$") or ""
        )
    )
    return {
        "requests": requests - non_2xx,
        "errors": non_2xx + socket_errors,
        "elapsed_s": elapsed,
        "rps": (requests - non_2xx) / elapsed if elapsed else 0.0,
        "latency_p50_s": _wrk_seconds(grab(r"^\s+50%\s+(\S+)") or "nans"),
        "latency_p99_s": _wrk_seconds(grab(r"^\s+99%\s+(\S+)") or "nans"),
        "latency_mean_s": _wrk_seconds(grab(r"^\s+Latency\s+(\S+)") or "nans"),
    }


def _argv(
    tool: str, url: str, connections: int, duration_s: float, budget: int | None
) -> list[str]:
    if tool == WRK:
        seconds = max(1, math.ceil(duration_s))
        return [WRK, "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", url]
    argv = python_module(
        LOADGEN, url, "--connections", str(connections), "--duration-s", str(duration_s)
    )
    return argv + (["--max-requests", str(budget)] if budget is not None else [])


async def _cpu_share(pids: Sequence[int], duration_s: float) -> list[float]:
    """Each process's CPU use, as a share of one core, over the middle of the run (NaN for
    a process that ended meanwhile)."""
    await asyncio.sleep(min(CPU_SETTLE_S, duration_s / 4))
    started = time.monotonic()
    before = [_cpu_or_nan(pid) for pid in pids]
    await asyncio.sleep(max(0.1, duration_s - 2 * CPU_SETTLE_S))
    elapsed = time.monotonic() - started
    return [(_cpu_or_nan(pid) - b) / elapsed for pid, b in zip(pids, before, strict=True)]


def _cpu_or_nan(pid: int) -> float:
    try:
        return cpu_seconds(pid)
    except (FileNotFoundError, ProcessLookupError):
        return math.nan


async def drive(
    url: str,
    *,
    server_pid: int,
    connections: int,
    duration_s: float,
    budget: int | None = None,
    tool: str | None = None,
) -> LoadResult:
    """Load `url` from another process for `duration_s` (or `budget` requests, loadgen only)."""
    tool = tool or (LOADGEN if budget is not None else load_tool())
    argv = _argv(tool, url, connections, duration_s, budget)
    async with running_tool(argv) as process:
        assert process.stdout is not None
        output = asyncio.ensure_future(process.stdout.read())
        shares = [math.nan, math.nan]
        if budget is None:  # a budgeted run may end at any time: no CPU shares for it
            shares = await _cpu_share([server_pid, process.pid], duration_s)
        out = (await asyncio.wait_for(output, duration_s + RUN_SLACK_S)).decode()
        await asyncio.wait_for(process.wait(), RUN_SLACK_S)
    figures = parse_wrk(out) if tool == WRK else json.loads(out)
    return LoadResult(
        tool=tool,
        connections=connections,
        requests=int(figures["requests"]),
        errors=int(figures["errors"]),
        elapsed_s=float(figures["elapsed_s"]),
        rps=float(figures["rps"]),
        latency_p50_s=float(figures["latency_p50_s"]),
        latency_p99_s=float(figures["latency_p99_s"]),
        latency_mean_s=float(figures["latency_mean_s"]),
        server_cpu=shares[0],
        client_cpu=shares[1],
    )
