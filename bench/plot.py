"""The growth curves of a run, as docs/performance.png (matplotlib, Agg backend)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

MB = 1e6


def _none_to_nan(values: list[Any]) -> list[float]:
    return [float("nan") if v is None else float(v) for v in values]


def _plot_churn(rows: list[dict[str, Any]], cpu: Any, sent: Any) -> None:
    """Cost per change made on Nomad against cluster size, event stream vs job list."""
    if not rows:
        return
    labels = {"events": ("o-", "event stream"), "list": ("s--", "job list (anchor)")}
    for mode, (style, label) in labels.items():
        mine = sorted((r for r in rows if r["mode"] == mode), key=lambda r: r["jobs"])
        jobs = [r["jobs"] for r in mine]
        cpu.plot(jobs, _none_to_nan([r["cpu_ms_per_change"] for r in mine]), style, label=label)
        sent.plot(
            jobs,
            _none_to_nan([(r["nomad_bytes_per_change"] or 0) / 1000 for r in mine]),
            style,
            label=label,
        )
    _churn_axes(cpu, 3.0, "goal: < 3 ms", "bridge CPU ms per change", "CPU per change made")
    _churn_axes(sent, 5.0, "goal: < 5 kB", "kB Nomad sends per change", "bytes from Nomad")


def _churn_axes(axes: Any, goal: float, goal_label: str, ylabel: str, title: str) -> None:
    axes.axhline(goal, color="grey", linestyle=":", label=goal_label)
    axes.set(
        xscale="log",
        yscale="log",
        xlabel="jobs (3 groups each)",
        ylabel=ylabel,
        title=f"Churn on Nomad: {title}",
    )
    axes.legend()


def plot_growth(summary: dict[str, Any], path: Path) -> Path:
    growth = summary["growth"]
    jobs_rows, naive_rows, waiter_rows = growth["jobs"], growth["naive"], growth["waiters"]
    if waiter_rows:  # the default event loop's (the first measured); the table has both
        waiter_rows = [r for r in waiter_rows if r.get("loop") == waiter_rows[0].get("loop")]
    fig, axes = plt.subplots(3, 2, figsize=(11, 12), constrained_layout=True)
    (rps, rss), (per_read, wake), (churn_cpu, churn_bytes) = axes
    _plot_churn(growth.get("churn", []), churn_cpu, churn_bytes)

    jobs = [r["jobs"] for r in jobs_rows]
    rps.plot(jobs, _none_to_nan([r["bridge_rps"] for r in jobs_rows]), "o-", label="bridge")
    rps.plot(
        jobs,
        _none_to_nan([r["bare_rps"] for r in jobs_rows]),
        "s--",
        label="bare aiohttp, same bytes",
    )
    rps.set(
        xscale="log",
        yscale="log",
        xlabel="jobs (3 groups each)",
        ylabel="GET /jobs per second",
        title="Read throughput",
    )
    rps.legend()

    rss.plot(jobs, [r["bridge_rss_bytes"] / MB for r in jobs_rows], "o-", color="tab:purple")
    rss.set(
        xscale="log",
        xlabel="jobs (3 groups each)",
        ylabel="bridge RSS (MB)",
        title="Bridge memory, idle, after sync",
    )

    sizes = [r["jobs"] for r in naive_rows]
    per_read.plot(
        sizes, _none_to_nan([r["bridge_latency_p50_s"] for r in naive_rows]), "o-", label="bridge"
    )
    per_read.plot(
        sizes,
        _none_to_nan([r["naive_latency_p50_s"] for r in naive_rows]),
        "s--",
        label="naive proxy",
    )
    per_read.set(
        xscale="log",
        yscale="log",
        xlabel="jobs (3 groups each)",
        ylabel="seconds per GET /jobs (median)",
        title="Time per read vs asking Nomad each time",
    )
    per_read.legend()

    counts = [r["waiters"] for r in waiter_rows]
    wake.plot(
        counts, _none_to_nan([r["wake_p50_s"] for r in waiter_rows]), "o-", label="bridge p50"
    )
    wake.plot(
        counts, _none_to_nan([r["wake_p99_s"] for r in waiter_rows]), "s-", label="bridge p99"
    )
    bare_p99 = _none_to_nan([r["bare"]["wake_p99_s"] for r in waiter_rows])
    wake.plot(counts, bare_p99, "^--", label="p99, bare aiohttp + one Event")
    wake.axhline(1.0, color="grey", linestyle=":", label="goal: p99 ≤ 1 s")
    wake.set(
        xscale="log",
        xlabel="concurrent waitIndex long polls",
        ylabel="seconds from change to answer",
        title="Wake-up time",
    )
    wake.legend()

    fig.suptitle(f"nomad-bridge, {summary['profile']} run of {summary['date']}")
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
