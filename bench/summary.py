"""One run's outcome as the figures of `bench/results/latest.json`, with the goals."""

from __future__ import annotations

import importlib.metadata
import math
import os
import platform
import re
import shutil
import statistics
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import aiohttp

from bench.load import load_tool
from bench.profile import Profile
from bench.run import Outcome
from bench.stats import percentile, ratio
from nomad_bridge.serve import http_parser_in_c
from nomad_bridge.settings import default_event_loop

NAN = math.nan
READ_RATIO_GOAL = 0.8
WAKE_VS_BARE_GOAL = 1.3
BYTES_PER_WAITER_VS_BARE_GOAL = 1.15
ACCESS_LINE_LOOP_GOAL_US = 5.0


@dataclass(frozen=True)
class Goal:
    key: str
    figure: str
    goal: str
    met: Callable[[float], bool]
    at_goal_scale: bool = False
    """Judged only when the run held the goal's 10,000 waiters (`--full`)."""


WAITERS_GOAL = 10_000
GOALS = (
    Goal(
        "read_ratio_vs_bare",
        "`GET /jobs` throughput, bridge ÷ bare aiohttp",
        f"≥ {READ_RATIO_GOAL}",
        lambda v: v >= READ_RATIO_GOAL,
    ),
    Goal("upstream_per_read", "Nomad requests per `GET /jobs`", "0", lambda v: v == 0),
    Goal(
        "naive_speedup_200",
        "time per read, naive proxy ÷ bridge, 200 jobs",
        "≥ 50x",
        lambda v: v >= 50,
    ),
    Goal("waiters", "long polls held on one bridge", "10,000", lambda v: v >= WAITERS_GOAL, True),
    Goal(
        "upstream_in_flight_for_waiters",
        "Nomad requests the waiters cause",
        "0 (one watch)",
        lambda v: v == 0,
    ),
    Goal(
        "wake_p99_s",
        "wake-up p99, change → every waiter answered",
        "≤ 1 s at 10,000 waiters",
        lambda v: v <= 1.0,
        True,
    ),
    Goal(
        "wake_p99_vs_bare",
        "wake-up p99, bridge ÷ bare aiohttp, as many waiters",
        f"≤ {WAKE_VS_BARE_GOAL}x",
        lambda v: v <= WAKE_VS_BARE_GOAL,
    ),
    Goal(
        "bytes_per_waiter_vs_bare",
        "memory per parked long poll (RSS growth), bridge ÷ bare aiohttp",
        f"≤ {BYTES_PER_WAITER_VS_BARE_GOAL}x",
        lambda v: v <= BYTES_PER_WAITER_VS_BARE_GOAL,
    ),
    Goal(
        "mutation_round_trips",
        "Nomad requests per uncontended `updatecounts`",
        "2",
        lambda v: v == 2,
    ),
    Goal(
        "access_line_loop_us",
        "event-loop CPU per access line (`bench/accessline.py`)",
        f"< {ACCESS_LINE_LOOP_GOAL_US:.0f} µs",
        lambda v: v < ACCESS_LINE_LOOP_GOAL_US,
    ),
    Goal(
        "ui_render_ms_1000",
        "dashboard render per update in ms, 1,000 jobs (median)",
        "< 50 ms",
        lambda v: v < 50,
    ),
    Goal(
        "ui_change_to_screen_p99_ms_1000",
        "dashboard: change on Nomad → row on screen in ms, 1,000 jobs (p99)",
        "< 1,000 ms",
        lambda v: v < 1000,
    ),
)


CHURN_GOALS = (
    Goal(
        "churn_cpu_ms_per_change_5000",
        "bridge CPU per change made on Nomad, 5,000 jobs (events)",
        "< 3 ms",
        lambda v: v < 3.0,
    ),
    Goal(
        "churn_cpu_growth_5000_vs_100",
        "bridge CPU per change, 5,000 jobs ÷ 100 jobs (events)",
        "≤ 1.5 (flat)",
        lambda v: v <= 1.5,
    ),
    Goal(
        "churn_nomad_bytes_per_change_5000",
        "bytes Nomad sends the bridge per change, 5,000 jobs (events)",
        "< 5 kB",
        lambda v: v < 5000,
    ),
    Goal(
        "churn_lag_p99_ms_5000",
        "view lag p99 seen by a long-polling client, 20 changes/s, 5,000 jobs (events)",
        "< 100 ms",
        lambda v: v < 100,
    ),
    Goal(
        "churn_ready_s_5000_cold",
        "cold start in front of 5,000 jobs, no definition saved yet: spawn → `/ready`",
        "≤ 30 s",
        lambda v: v <= 30,
    ),
    Goal(
        "churn_lag_p99_ms_5000_while_saving",
        "view lag p99 at 20 changes/s right after that cold start, while every definition "
        "is compared and written",
        "< 100 ms",
        lambda v: v < 100,
    ),
    Goal(
        "churn_max_rate_5000",
        "highest change rate with lag p99 < 1 s, 5,000 jobs (events)",
        "≥ 50/s",
        lambda v: v >= 50,
    ),
)


def churn_figures(outcome: Outcome) -> dict[str, Any]:
    """The churn keys: events mode plain, the list-mode anchor with `_list` appended."""
    churn = outcome.churn
    if churn is None:
        return {}
    figures: dict[str, Any] = {}
    biggest = max((run.jobs for run in churn.runs), default=0)
    for run in churn.runs:
        suffix = "" if run.mode == "events" else f"_{run.mode}"
        data = run.to_json()
        figures[f"churn_cpu_ms_per_change_{run.jobs}{suffix}"] = data["cpu_ms_per_change"]
        figures[f"churn_nomad_bytes_per_change_{run.jobs}{suffix}"] = data["nomad_bytes_per_change"]
        figures[f"churn_nomad_requests_per_change_{run.jobs}{suffix}"] = data[
            "nomad_requests_per_change"
        ]
        figures[f"churn_lag_p50_ms_{run.jobs}{suffix}"] = data["lag_p50_s"] * 1000
        figures[f"churn_lag_p99_ms_{run.jobs}{suffix}"] = data["lag_p99_s"] * 1000
    for mode, rate in churn.max_rate.items():
        suffix = "" if mode == "events" else f"_{mode}"
        figures[f"churn_max_rate_{biggest}{suffix}"] = rate
    if churn.cold is not None:
        figures[f"churn_ready_s_{biggest}_cold"] = churn.cold_ready_s
        figures[f"churn_lag_p99_ms_{biggest}_while_saving"] = churn.cold.lag_s(0.99) * 1000
    small, large = (
        figures.get("churn_cpu_ms_per_change_100"),
        figures.get("churn_cpu_ms_per_change_5000"),
    )
    if small and large:
        figures["churn_cpu_growth_5000_vs_100"] = large / small
    return figures


def _read_ratio_goal(key: str) -> Goal:
    jobs = int(key.rsplit("_", 1)[1])
    return Goal(
        key,
        f"`GET /jobs` throughput, bridge ÷ bare aiohttp, {jobs:,} jobs",
        f"≥ {READ_RATIO_GOAL}",
        lambda v: v >= READ_RATIO_GOAL,
    )


def _all_goals(figures: dict[str, Any]) -> list[Goal]:
    """The fixed goals, then one read ratio goal per cluster size of the growth table."""
    sizes = sorted(
        (key for key in figures if re.fullmatch(r"read_ratio_vs_bare_\d+", key)),
        key=lambda key: int(key.rsplit("_", 1)[1]),
    )
    return [*GOALS, *(_read_ratio_goal(key) for key in sizes), *CHURN_GOALS]


def _wrk_version() -> str | None:
    if not shutil.which("wrk"):
        return None
    done = subprocess.run(
        ["wrk", "--version"], capture_output=True, text=True, timeout=10, check=False
    )
    words = (done.stdout or done.stderr).split()
    return " ".join(words[:2]) if words else "wrk"


def machine() -> dict[str, Any]:
    return {
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "aiohttp": aiohttp.__version__,
        "platform": platform.platform(),
        "load_generator": load_tool(),
        "wrk": _wrk_version(),
        "event_loop": default_event_loop(),
        "uvloop": _version_of("uvloop"),
        "http_parser": "c" if http_parser_in_c() else "python",
    }


def _version_of(distribution: str) -> str | None:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None


def _clean(value: Any) -> Any:
    """NaN and infinities as null, floats rounded: JSON any reader takes."""
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else round(value, 6)
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


def _read_figures(outcome: Outcome) -> dict[str, Any]:
    figures: dict[str, Any] = {}
    reads = outcome.reads
    if reads is not None:
        figures["read_ratio_vs_bare"] = reads.ratio
        figures["read_cpu_ratio_vs_bare"] = reads.cpu_ratio
        for name in reads.variant_settings:
            figures[f"read_ratio_vs_bare_{name}"] = reads.variant_ratio(name)
        asyncio_variant = reads.variant_settings.get("asyncio")
        if asyncio_variant is not None and reads.loop == "uvloop":
            figures["uvloop_speedup_bare"] = ratio(
                reads.bare_rps, statistics.median(r.rps for r in reads.bare_on("asyncio"))
            )
            figures["uvloop_speedup_bridge"] = ratio(
                reads.bridge_rps, statistics.median(r.rps for r in reads.variants["asyncio"])
            )
        figures["upstream_per_read"] = reads.upstream_per_read
    for growth in outcome.growth:
        figures[f"read_ratio_vs_bare_{growth.jobs}"] = growth.ratio
    return figures


def _waiter_figures(outcome: Outcome) -> dict[str, Any]:
    figures: dict[str, Any] = {}
    if not outcome.waiters:
        return figures
    default_loop = outcome.waiters[0].loop
    on_default = [w for w in outcome.waiters if w.loop == default_loop]
    biggest = max(on_default, key=lambda w: w.waiters)
    figures |= {
        "waiters": biggest.waiters,
        "upstream_in_flight_for_waiters": biggest.upstream_caused,
        "wake_p50_s": percentile(biggest.bridge.latencies_s, 0.50),
        "wake_p99_s": percentile(biggest.bridge.latencies_s, 0.99),
        "bytes_per_waiter": biggest.bridge.bytes_per_waiter,
        "wake_p99_bare_s": percentile(biggest.bare.latencies_s, 0.99),
        "bytes_per_waiter_bare": biggest.bare.bytes_per_waiter,
    }
    for result in outcome.waiters:
        row = result.to_json()
        suffix = f"_{result.waiters}" + ("" if result.loop == default_loop else f"_{result.loop}")
        figures[f"wake_p99_vs_bare{suffix}"] = row["wake_p99_vs_bare"]
        figures[f"bytes_per_waiter_vs_bare{suffix}"] = row["bytes_per_waiter_vs_bare"]
        if result.waiters == biggest.waiters:
            loop_suffix = "" if result.loop == default_loop else f"_{result.loop}"
            figures[f"wake_p99_vs_bare{loop_suffix}"] = row["wake_p99_vs_bare"]
            figures[f"fanout_p99_vs_bare{loop_suffix}"] = row["fanout_p99_vs_bare"]
            figures[f"bytes_per_waiter_vs_bare{loop_suffix}"] = row["bytes_per_waiter_vs_bare"]
    return figures


def headline(outcome: Outcome) -> dict[str, Any]:
    figures = _read_figures(outcome)
    for naive in outcome.naive:
        figures[f"naive_speedup_{naive.jobs}"] = naive.speedup
    figures |= _waiter_figures(outcome)
    if outcome.count_changes is not None:
        changes = outcome.count_changes.to_json()
        figures |= {
            "mutation_round_trips": changes["mutation_round_trips"],
            "watch_requests_per_change": changes["watch_requests_per_change"],
            "updatecounts_latency_s": changes["updatecounts_latency_s"],
            "direct_register_latency_s": changes["direct_register_latency_s"],
        }
    for startall in outcome.startall:
        delay = f"_{startall.nomad_latency_s * 1e3:.0f}ms" if startall.nomad_latency_s else ""
        figures[f"startall_{startall.jobs}_speedup{delay}"] = startall.speedup
    if outcome.access_line is not None:
        line = outcome.access_line
        figures |= {
            "access_line_loop_us": line.loop_us,
            "access_line_total_us": line.total_us,
            "access_line_record_loop_us": line.record_loop_us,
            "access_line_record_total_us": line.record_total_us,
        }
    if outcome.ui is not None:
        figures |= outcome.ui.figures()
    return figures | churn_figures(outcome)


def goals(figures: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for goal in _all_goals(figures):
        value = figures.get(goal.key)
        unmeasured = value is None or (isinstance(value, float) and math.isnan(value))
        small = goal.at_goal_scale and figures.get("waiters", 0) < WAITERS_GOAL
        met = None if value is None or unmeasured or small else goal.met(value)
        rows.append(
            {
                "key": goal.key,
                "figure": goal.figure,
                "goal": goal.goal,
                "measured": value,
                "met": met,
            }
        )
    return rows


def summarize(outcome: Outcome, profile: Profile, wall_s: float) -> dict[str, Any]:
    figures = headline(outcome)
    summary: dict[str, Any] = _clean(
        {
            "date": datetime.now(UTC).isoformat(timespec="seconds"),
            "profile": profile.name,
            "wall_s": wall_s,
            "machine": machine(),
            **figures,
            "goals": goals(figures),
            "growth": {
                "jobs": [
                    {
                        "jobs": r.jobs,
                        "body_bytes": r.body_bytes,
                        "loop": r.loop,
                        "bridge_rps": r.bridge_rps,
                        "bare_rps": r.bare_rps,
                        "ratio": r.ratio,
                        "cpu_ratio": r.cpu_ratio,
                        "bridge_rss_bytes": r.bridge_rss_bytes,
                        "reads": r.reads,
                        "upstream_paths": r.upstream_paths,
                    }
                    for r in outcome.growth
                ],
                "waiters": [w.to_json() for w in outcome.waiters],
                "naive": [n.to_json() for n in outcome.naive],
                "churn": [r.to_json() for r in outcome.churn.runs] if outcome.churn else [],
                "churn_ladder": [r.to_json() for r in outcome.churn.ladder]
                if outcome.churn
                else [],
                "churn_cold": outcome.churn.cold.to_json()
                if outcome.churn and outcome.churn.cold
                else None,
            },
            "details": {
                "reads": outcome.reads.to_json() if outcome.reads else None,
                "growth_reads": [r.to_json() for r in outcome.growth],
                "count_changes": outcome.count_changes.to_json() if outcome.count_changes else None,
                "startall": [s.to_json() for s in outcome.startall],
                "access_line": outcome.access_line.to_json() if outcome.access_line else None,
                "ui": outcome.ui.to_json() if outcome.ui else None,
                "profile": vars(profile),
            },
        }
    )
    return summary
