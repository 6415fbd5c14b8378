"""The soak's figures: errors explained or not, memory and descriptors, recovery times."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from pathlib import Path

from soak.faults import Window
from soak.load import Outcome, Recorder

GRACE_S = 8.0
"""An error up to this long after a fault ended is still that fault's: requests already
waiting on Nomad when it ended (3 attempts x BRIDGE_NOMAD_TIMEOUT_S 2 s, plus backoff)."""
SAMPLES_AVERAGED = 3


@dataclass
class Sample:
    at_s: float
    rss_kib: int
    fds: int


@dataclass
class Figures:
    minutes: float
    seed: int
    requests: int
    errors: int
    explained: int
    unexplained: list[Outcome]
    by_status: dict[str, int]
    latency_ms: dict[str, dict[str, float]]
    wakeups: int
    rss_first_kib: float
    rss_last_kib: float
    rss_growth_pct: float
    rss_peak_kib: int
    fds_min: int
    fds_max: int
    fds_first: int
    fds_last: int
    fds_first_half_max: int
    fds_second_half_max: int
    nomad_requests: int
    faults: list[Window]
    log_lines: int
    log_errors: list[str]
    token_leaks: int
    exit_code: int | None
    bulk_deadline_s: float
    bulk_ms: dict[str, dict[str, float]]
    """startall/stopall answers, any status: count, p50, p99, max; overall, while Nomad hung,
    and during any outage (each from its start to GRACE_S after its end)."""
    samples: list[Sample] = field(default_factory=list)


def explained_by(outcome: Outcome, windows: list[Window]) -> Window | None:
    for window in windows:
        end = (window.ended_s if window.ended_s is not None else outcome.ended_s) + GRACE_S
        overlaps = outcome.started_s <= end and outcome.ended_s >= window.started_s
        if overlaps and outcome.status in window.explains:
            return window
    return None


def bulk_figures(
    bulk: list[tuple[float, float, int]], windows: list[Window]
) -> dict[str, dict[str, float]]:
    def overlapping(kinds: set[str] | None) -> list[float]:
        return [
            ended - started
            for started, ended, _ in bulk
            if kinds is None
            or any(
                w.name in kinds
                and started <= (w.ended_s if w.ended_s is not None else ended) + GRACE_S
                and ended >= w.started_s
                for w in windows
            )
        ]

    outages = {"hang", "latency-above-timeout", "unavailable", "refuse", "restart-with-index-reset"}
    groups = {"overall": None, "while Nomad hung": {"hang"}, "during outages": outages}
    out: dict[str, dict[str, float]] = {}
    for name, kinds in groups.items():
        values = overlapping(kinds)
        out[name] = {"count": len(values)} | (
            {
                "p50": round(1000 * percentile(values, 0.50), 1),
                "p99": round(1000 * percentile(values, 0.99), 1),
                "max": round(1000 * max(values), 1),
            }
            if values
            else {}
        )
    return out


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def figures(
    *,
    minutes: float,
    seed: int,
    recorder: Recorder,
    windows: list[Window],
    samples: list[Sample],
    warmup_s: float,
    started_s: float,
    nomad_requests: int,
    log: Path,
    secrets: list[str],
    exit_code: int | None,
    bulk_deadline_s: float,
) -> Figures:
    unexplained: list[Outcome] = []
    for outcome in recorder.errors:
        window = explained_by(outcome, windows)
        if window is None:
            unexplained.append(outcome)
        else:
            window.detail["explained"] = window.detail.get("explained", 0) + 1
    steady = [s for s in samples if s.at_s - started_s >= warmup_s] or samples
    first = statistics.fmean(s.rss_kib for s in steady[:SAMPLES_AVERAGED])
    last = statistics.fmean(s.rss_kib for s in steady[-SAMPLES_AVERAGED:])
    lines = log.read_text(errors="replace").splitlines()
    return Figures(
        minutes=minutes,
        seed=seed,
        requests=sum(recorder.statuses.values()),
        errors=len(recorder.errors),
        explained=len(recorder.errors) - len(unexplained),
        unexplained=unexplained,
        by_status={f"{r} {s}": n for (r, s), n in sorted(recorder.statuses.items())},
        latency_ms={
            route: {
                "p50": round(1000 * percentile(values, 0.50), 1),
                "p99": round(1000 * percentile(values, 0.99), 1),
            }
            for route, values in sorted(recorder.latencies_s.items())
            if "long poll" not in route
        },
        wakeups=recorder.wakeups,
        rss_first_kib=first,
        rss_last_kib=last,
        rss_growth_pct=round(100 * (last - first) / first, 2),
        rss_peak_kib=max(s.rss_kib for s in steady),
        fds_min=min(s.fds for s in steady),
        fds_max=max(s.fds for s in steady),
        fds_first=steady[0].fds,
        fds_last=steady[-1].fds,
        fds_first_half_max=max(s.fds for s in steady[: max(1, len(steady) // 2)]),
        fds_second_half_max=max(s.fds for s in steady[len(steady) // 2 :]),
        nomad_requests=nomad_requests,
        faults=windows,
        log_lines=len(lines),
        log_errors=[line[:300] for line in lines if '"level": "error"' in line][:20],
        token_leaks=sum(1 for line in lines for secret in secrets if secret in line),
        exit_code=exit_code,
        bulk_deadline_s=bulk_deadline_s,
        bulk_ms=bulk_figures(recorder.bulk, windows),
        samples=samples,
    )


def markdown(f: Figures) -> str:
    """The figures as docs/reliability.md shows them."""
    rows = [
        ("Duration", f"{f.minutes:g} min (seed {f.seed})"),
        ("Client requests answered", f"{f.requests}"),
        ("Errors seen by clients", f"{f.errors}"),
        ("… explained by an injected fault", f"{f.explained}"),
        ("… unexplained", f"{len(f.unexplained)}"),
        ("Long-poll wake-ups", f"{f.wakeups}"),
        (
            "Bridge RSS after warm-up, first → last",
            f"{f.rss_first_kib / 1024:.1f} → {f.rss_last_kib / 1024:.1f} MiB "
            f"({f.rss_growth_pct:+.2f} %), peak {f.rss_peak_kib / 1024:.1f} MiB",
        ),
        (
            "Bridge open fds after warm-up",
            f"{f.fds_min} to {f.fds_max} (first {f.fds_first}, last {f.fds_last}); highest in the "
            f"first half {f.fds_first_half_max}, in the second {f.fds_second_half_max}",
        ),
        ("Nomad requests by the bridge", f"{f.nomad_requests}"),
        (
            "Bridge log lines / error lines / token leaks",
            f"{f.log_lines} / {len(f.log_errors)} / {f.token_leaks}",
        ),
        ("Bridge exit code on SIGTERM", f"{f.exit_code}"),
    ]
    out = ["| Figure | Value |", "|---|---|", *(f"| {k} | {v} |" for k, v in rows)]
    out += [
        "",
        "| Fault | Lasted | Errors it explained | /ready 503 during it "
        "| View caught up after it | /ready 200 after it |",
        "|---|---|---|---|---|---|",
    ]
    for window in f.faults:
        lasted = (window.ended_s or window.started_s) - window.started_s
        ready_503 = window.detail.get("ready_503_during")
        out.append(
            f"| {window.name} | {lasted:.1f} s | {window.detail.get('explained', 0)} | "
            f"{'—' if ready_503 is None else ('yes' if ready_503 else 'no')} | "
            f"{_seconds(window.recovery_s)} | {_seconds(window.ready_recovery_s)} |"
        )
    out += ["", "| Route | p50 ms | p99 ms |", "|---|---|---|"]
    out += [f"| {r} | {v['p50']} | {v['p99']} |" for r, v in f.latency_ms.items()]
    out += [
        "",
        f"| startall/stopall, any status (BRIDGE_BULK_DEADLINE_S {f.bulk_deadline_s:g} s) "
        "| answers | p50 ms | p99 ms | max ms |",
        "|---|---|---|---|---|",
    ]
    out += [
        f"| {during} | {v['count']:g} | {v.get('p50', '—')} | {v.get('p99', '—')} "
        f"| {v.get('max', '—')} |"
        for during, v in f.bulk_ms.items()
    ]
    return "\n".join(out)


def _seconds(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f} s"
