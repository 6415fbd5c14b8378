"""Writing a run down: bench/results/latest.json, docs/performance.md, docs/performance.png.

The Markdown is generated from the JSON alone (`python -m bench.report` regenerates the
docs from the last results), plus the hand-written profiling notes in bench/findings.md.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

from bench.measures.churn import SETTLE_S
from bench.plot import plot_growth
from bench.profile import Profile
from bench.run import Outcome
from bench.summary import summarize

FINDINGS = Path(__file__).with_name("findings.md")
DASH = "—"

METHOD = """\
`python -m bench` brings everything up itself on 127.0.0.1, each in its own process, on
ports the kernel picks: the Nomad simulator (`nomad-bridge sim --seed DIR`, seeded with
synthetic service jobs of 3 task groups x 1 allocation), the bridge (`nomad-bridge serve`,
default settings, so with its JSON access log, on its default event loop: {event_loop}),
the anchors, and the load generator ({load_generator}). It stops every process itself, on
success, failure, Ctrl-C or SIGTERM. Absolute numbers drift on this shared {cores}-core
machine, so every figure is a ratio against an anchor measured in the same run, seconds
apart, and every anchor runs on the same event loop as the bridge it is compared with:

- **Reads.** `GET /jobs` throughput of the bridge at {read_jobs} jobs against a bare aiohttp
  handler in its own process serving the very same bytes (`bench/bare.py`): same server
  library, same event loop, no bridge. Runs alternate (bare, bridge, bare, bridge…) at
  {connections} connections and the medians are compared. In the same rounds, a bridge with
  `BRIDGE_EVENT_LOOP=asyncio` against bare aiohttp on asyncio's loop, and a bridge with
  `BRIDGE_ACCESS_LOG_READS=false`. The simulator's request counter is reset
  before and read after every bridge run, once the bridge has asked Nomad nothing for a
  second: `upstream_per_read` = Nomad requests ÷ reads (timers aside, see below).
- **Access line.** `bench/accessline.py` writes {access_lines:,} access lines through the
  bridge's logging set-up to /dev/null, in bursts, and divides the CPU time of the
  producing thread (what the event loop pays) and of the whole process (the writer thread
  too) by the lines; its anchor is the `LogRecord`-per-line way (`QueueHandler`,
  `QueueListener`, `JsonFormatter`) in the same process.
- **Naive.** Time per `GET /jobs` (median, one connection, sequential) of the bridge
  against `bench/naive_proxy.py`, what a straightforward port does on every read: list the
  jobs, then read every job and its summary (16 at a time, keep-alive pool).
- **Waiters.** On each event loop, a fresh bridge in front of {waiter_jobs} jobs; client processes
  (`bench/waitclient.py`) open N long polls with the current `waitIndex` until the
  bridge's `bridge_long_polls_open` gauge shows all N parked. Then: the bridge's RSS
  (`VmRSS`) growth ÷ N, the Nomad requests the simulator received while they waited, and
  the bridge's TCP connections to Nomad before and during. One `updatecounts` through the
  bridge is the change; each waiter stamps the arrival of its full answer with the
  machine-wide monotonic clock, and wake-up = stamp - moment the change was sent. The
  anchor: as many long polls on the bare handler (same bytes, same loop), each awaiting
  one `asyncio.Event` that `POST /fire` sets: aiohttp's own floor for memory and fan-out.
- **Mutations.** Rounds alternate a `+1` `updatecounts` through the bridge and a `+1`
  register sent straight to Nomad, each on a quiet cluster. The direct change shows what the
  bridge's watch asks Nomad per change (list, job read, saved definition); the mutation's
  own round trips are, path by path, the bridge round's requests minus the watch's
  (medians over the rounds; never below 0 for a path, as the number of list re-queries
  while allocations start varies with timing). Latency: `updatecounts` (which answers once
  the view shows the change) against the one direct register.
- **startall.** {startall_jobs} stopped autostart jobs started one by one directly
  (`GET` then `PUT` with `Stop=false`, as `nomad job start`; no bridge running meanwhile),
  stopped again, then started by one `POST /jobs/startall` on a fresh bridge. Once on
  loopback like everything else, once with the simulator delaying every Nomad request by
  5 ms (its latency control), as a Nomad across a network would.
- **Churn.** At {churn_jobs} jobs, {churn_rate:g} changes a second made straight on Nomad
  for {churn_run_s:g} s: a failed allocation (the simulator's control) and a count change
  (`POST /v1/job/:id/scale`), alternately, each on a job of its own. Per change a client
  reads the job's view and `waitIndex` from the bridge and long-polls until the view
  shows it: the lag, from Nomad's answer to the change (it is committed then) to the
  client's answer. The bridge follows Nomad's event stream (`BRIDGE_WATCH=auto`), then,
  in front of the same simulator and alone, the blocking job list (`BRIDGE_WATCH=list`,
  the anchor, `_list` keys); both with `BRIDGE_ACCESS_LOG_READS=false`, so that the
  client's reads are not logged. Bridge CPU (`/proc`), the Nomad requests it made (the
  simulator's counter) and the bytes Nomad sent it (a counting TCP relay in between,
  `bench/relay.py`) are totalled from the first change until {settle_s:g} s after the
  last was seen (replacement allocations included) and divided by the changes; the
  simulator's own CPU likewise (where it is busy, Nomad sets the pace). At the largest
  size the rate climbs {churn_ladder} a second ({churn_ladder_s:g} s or 10 changes
  each) until lag p99 reaches 1 s or a change is not seen within 10 s; then a bridge
  with no definition saved yet (a prefix of its own) is started, timed to `/ready`, and
  the fixed-rate run made at once, while it compares and writes every definition.
- **Growth.** Read throughput (bridge and bare, same bytes, same loop, alternating
  rounds) and the bridge's idle RSS at each cluster size (`read_ratio_vs_bare_N`); wake-up
  time and memory at each number of waiters, on each loop."""

MEANINGS = """\
- `read_ratio_vs_bare`: the share of plain aiohttp's read throughput the bridge keeps; 1.0
  would mean the bridge adds nothing per read beyond sending the bytes.
- `read_cpu_ratio_vs_bare`: the same comparison in reads per CPU-second of the server,
  which does not depend on how much of the machine other work left the server.
- `read_ratio_vs_bare_N`: the same at N jobs (the growth table).
- `read_ratio_vs_bare_asyncio`: the same comparison with both on asyncio's own event loop
  (`BRIDGE_EVENT_LOOP=asyncio`); `uvloop_speedup_bare` / `uvloop_speedup_bridge`: reads
  per second on uvloop ÷ on asyncio, for bare aiohttp and for the bridge.
- `read_ratio_vs_bare_reads_unlogged`: the same comparison for a second bridge, in the same
  rounds, run with `BRIDGE_ACCESS_LOG_READS=false` (successful reads not written to the
  access log; every other setting default): what the access log line costs.
- `access_line_loop_us` / `access_line_total_us`: CPU per access line on the event loop /
  in the whole process; `_record_` the same for a `LogRecord` per line (the anchor).
- `upstream_per_read`: Nomad requests caused by one `GET /jobs`; 0 means reads never reach
  Nomad, however many clients read. Two timers ask Nomad with or without reads and are
  not charged to reads: the watch's index probe (an empty job list every
  `BRIDGE_WATCH_PROBE_S`, 3 s; one per 3 s of reading is allowed for) and the saved
  definitions refresh (`/v1/vars`, every 30 s). The growth table shows every request
  counted during the reads, by path.
- `naive_speedup_N`: how many times longer a read takes when every read asks Nomad
  (1 + 2N requests) than through the bridge's in-memory view, at N jobs.
- `upstream_in_flight_for_waiters`: Nomad requests the waiters caused: per Nomad path, how
  many more the bridge issued in a window with every waiter parked than in as long a window
  before any (the watch's own background, such as its index probe every few seconds, is in
  both), plus any bridge→Nomad connections they added.
- `wake_p50_s` / `wake_p99_s`: from sending a count change to a waiter holding the new
  view, for the largest number of waiters measured.
- `wake_p99_vs_bare`: the bridge's wake-up p99 ÷ the anchor's, as many waiters, same loop
  (for the largest number of waiters; `_N` at N waiters, `_asyncio` on asyncio's loop).
  The bridge's figure includes the change's own path (the count change, Nomad, the watch
  reading the job) before any waiter can be answered, the anchor's one `POST /fire`;
  `fanout_p99_vs_bare` compares the fan-out alone: p99 minus the first answer.
- `bytes_per_waiter`: what one parked long poll costs the bridge in resident memory
  (socket, request, handler task), measured as RSS growth; `_bare` for the anchor,
  `_vs_bare` the ratio.
- `mutation_round_trips`: Nomad requests one uncontended count change makes itself;
  `watch_requests_per_change`: what the watch then asks to keep the view current
  (the same for a change made by anyone, bridge or not).
- `churn_cpu_ms_per_change_N`: bridge CPU per change made on Nomad at N jobs, everything
  the change causes included (events, reads, saved definition, the client's long polls);
  `churn_cpu_growth_5000_vs_100` the ratio between sizes: 1.0 is a cost that does not grow
  with the cluster. `churn_nomad_bytes_per_change_N` / `churn_nomad_requests_per_change_N`:
  what Nomad sent the bridge per change (event stream lines, reads, listings).
  `churn_lag_p50_ms_N` / `churn_lag_p99_ms_N`: change made → long-polling client holding
  the view that shows it. `churn_max_rate_N`: the highest rate tried with lag p99 under
  1 s and every change seen (0: not even the lowest). `_list`: the same, job-list watch.
  `churn_ready_s_N_cold`: a bridge with no definition saved yet, spawn to `/ready`;
  `churn_lag_p99_ms_N_while_saving`: the lag right after, while it saves them all.
- `startall_N_speedup`: sequential direct starts ÷ one `startall` (which works on the
  jobs concurrently, bounded); `_5ms` with 5 ms added to every Nomad request. On loopback
  the single-process simulator's CPU bounds both sides, and the watch's own reads add to
  its load; latency is where working concurrently pays."""

REPRODUCE = """\
```sh
make bench        # python -m bench --quick: about 3 minutes
make bench-full   # python -m bench --full: 10,000 waiters, 5,000 jobs, longer runs
```

Both need the `bench` extra (`pip install -e '.[bench]'`: matplotlib for the plot).
`wrk` is used for throughput when it is on the PATH (`apt-get install wrk`); otherwise
`bench/loadgen.py`, a bare asyncio HTTP/1.1 client in its own process. Every throughput
run records the CPU share of the server and of the load generator
(`bench/results/latest.json`, `details`), so a run where the generator and not the server
set the pace shows. Processes' logs are in `bench/results/logs/`."""


def _fmt(value: Any, key: str = "") -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return DASH
    if (key.endswith("_s") or "_ready_s_" in key) and isinstance(value, int | float):
        return f"{value * 1000:.1f} ms" if value < 1 else f"{value:.2f} s"
    if key.endswith("_us"):
        return f"{value:.2f} µs"
    if key.startswith(
        ("wake_p99_vs_bare", "fanout_p99_vs_bare", "bytes_per_waiter_vs_bare", "uvloop_speedup")
    ):
        return f"{value:.2f}x"
    if key.startswith(("naive_speedup", "startall")) or key.endswith("speedup"):
        return f"{value:,.0f}x" if value >= 10 else f"{value:.1f}x"
    if key.startswith("bytes_per_waiter") or "_bytes_per_change" in key:
        return f"{value:,.0f} B"
    if "_ms_" in key or key.endswith("_ms"):
        return f"{value:,.1f} ms" if value < 100 else f"{value:,.0f} ms"
    if isinstance(value, int) or (
        isinstance(value, float) and (abs(value) >= 100 or value.is_integer())
    ):
        return f"{value:,.0f}"
    if isinstance(value, float):
        return f"{value:.2f}" if value >= 1 else f"{value:.3g}"
    return str(value)


def _met(met: bool | None) -> str:
    return {True: "yes", False: "**no**", None: "not judged: `--full` holds 10,000"}[met]


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


OTHER_FIGURES = {
    "read_cpu_ratio_vs_bare": "`GET /jobs` per server CPU-second, bridge ÷ bare",
    "read_ratio_vs_bare_asyncio": "`GET /jobs` throughput ÷ bare, same rounds, both on "
    "asyncio's loop (`BRIDGE_EVENT_LOOP=asyncio`)",
    "uvloop_speedup_bare": "bare aiohttp reads per second, uvloop ÷ asyncio",
    "uvloop_speedup_bridge": "bridge reads per second, uvloop ÷ asyncio",
    "read_ratio_vs_bare_reads_unlogged": "`GET /jobs` throughput ÷ bare, same rounds, bridge "
    "with `BRIDGE_ACCESS_LOG_READS=false`",
    "access_line_total_us": "CPU per access line, whole process (writer thread included)",
    "access_line_record_loop_us": "anchor: event-loop CPU per line, a `LogRecord` each",
    "access_line_record_total_us": "anchor: CPU per line in all, a `LogRecord` each",
    "wake_p99_vs_bare_asyncio": "wake-up p99 ÷ bare, both on asyncio's loop",
    "fanout_p99_vs_bare": "fan-out alone (p99 - first answer), bridge ÷ bare, as many waiters",
    "fanout_p99_vs_bare_asyncio": "fan-out alone ÷ bare, both on asyncio's loop",
    "bytes_per_waiter_vs_bare_asyncio": "memory per waiter ÷ bare, both on asyncio's loop",
    "bytes_per_waiter": "bridge memory per waiter (RSS growth)",
    "wake_p50_s": "wake-up p50",
    "wake_p99_bare_s": "anchor: wake-up p99 of bare aiohttp, as many waiters",
    "bytes_per_waiter_bare": "anchor: memory per waiter of bare aiohttp",
    "watch_requests_per_change": "Nomad requests of the watch per change (anyone's)",
    "updatecounts_latency_s": "`updatecounts` latency (answers once the view shows it)",
    "direct_register_latency_s": "anchor: one register sent straight to Nomad",
}


CHURN_FIGURES = {
    "cpu_ms_per_change": "bridge CPU per change",
    "nomad_bytes_per_change": "bytes from Nomad per change",
    "nomad_requests_per_change": "Nomad requests per change",
    "lag_p50_ms": "view lag p50",
    "lag_p99_ms": "view lag p99",
    "max_rate": "highest rate with lag p99 < 1 s",
    "ready_s": "cold start, spawn → `/ready`",
}


def _churn_figure(key: str) -> str | None:
    found = re.fullmatch(r"churn_(\w+?)_(\d+)(_list|_cold|_while_saving)?", key)
    if found is None or found.group(1) not in CHURN_FIGURES:
        return None
    what, jobs, variant = found.groups()
    mode = {
        "_list": "anchor: job-list watch",
        "_cold": "event stream, no definition saved yet",
        "_while_saving": "event stream, right after a cold start",
    }.get(variant or "", "event stream")
    return f"churn, {int(jobs):,} jobs, {mode}: {CHURN_FIGURES[what]}"


def _other_figure(key: str) -> str | None:
    if key.startswith("churn_"):
        return _churn_figure(key)
    per_count = re.fullmatch(r"(wake_p99|bytes_per_waiter)_vs_bare_(\d+)(_asyncio)?", key)
    if per_count is not None:
        what, count, on_asyncio = per_count.groups()
        figure = "wake-up p99" if what == "wake_p99" else "memory per waiter"
        where = ", asyncio's loop" if on_asyncio else ""
        return f"{figure} ÷ bare, {int(count):,} waiters{where}"
    if key.startswith("naive_speedup_"):
        return f"time per read, naive proxy ÷ bridge, {key.rsplit('_', 1)[1]} jobs"
    startall = re.fullmatch(r"startall_(\d+)_speedup(?:_(\d+)ms)?", key)
    if startall is not None:
        jobs, delay = startall.groups()
        where = f", {delay} ms added to each Nomad request" if delay else ""
        return f"{jobs} sequential direct starts ÷ one `startall`{where}"
    return OTHER_FIGURES.get(key)


def _figures_table(summary: dict[str, Any]) -> str:
    rows = [
        [g["figure"], f"`{g['key']}`", _fmt(g["measured"], g["key"]), g["goal"], _met(g["met"])]
        for g in summary["goals"]
    ]
    goal_keys = {g["key"] for g in summary["goals"]}
    for key, value in summary.items():
        figure = _other_figure(key)
        if figure is not None and key not in goal_keys:
            rows.append([figure, f"`{key}`", _fmt(value, key), DASH, DASH])
    return _table(["Figure", "Key", "Measured", "Goal", "Met"], rows)


def _upstream_cell(reads: int | None, paths: dict[str, int] | None) -> str:
    if reads is None or paths is None:
        return DASH
    grouped: dict[str, int] = {}
    for path, n in paths.items():
        generic = re.sub(r"^(\S+ /v1/(?:var|job))/[^/]+", r"\1/:id", path)
        grouped[generic] = grouped.get(generic, 0) + n
    named = ", ".join(f"{n} `{path}`" for path, n in sorted(grouped.items())) or "0"
    return f"{named} in {reads:,} reads"


def _growth_tables(summary: dict[str, Any]) -> str:
    growth = summary["growth"]
    jobs = _table(
        [
            "Jobs",
            "Body",
            "Bridge reads/s",
            "Bare reads/s",
            "Ratio",
            "CPU ratio",
            "Bridge RSS",
            "Nomad requests during the reads",
        ],
        [
            [
                f"{r['jobs']:,}",
                f"{r['body_bytes'] / 1000:,.0f} kB",
                _fmt(r["bridge_rps"]),
                _fmt(r["bare_rps"]),
                _fmt(r["ratio"]),
                _fmt(r.get("cpu_ratio")),
                f"{r['bridge_rss_bytes'] / 1e6:.0f} MB",
                _upstream_cell(r.get("reads"), r.get("upstream_paths")),
            ]
            for r in growth["jobs"]
        ],
    )
    naive = _table(
        [
            "Jobs",
            "Bridge, per read",
            "Naive, per read",
            "Speedup",
            "Naive: Nomad requests per read",
        ],
        [
            [
                f"{r['jobs']:,}",
                _fmt(r["bridge_latency_p50_s"], "_s"),
                _fmt(r["naive_latency_p50_s"], "_s"),
                _fmt(r["speedup"], "naive_speedup"),
                _fmt(r["naive_upstream_per_read"]),
            ]
            for r in growth["naive"]
        ],
    )
    waiters = _table(
        [
            "Waiters",
            "Loop",
            "Answered",
            "Wake p50",
            "Wake p99 (bare)",
            "Bytes per waiter (bare)",
            "Nomad requests per window: idle / waiting",
            "Bridge→Nomad connections before / during",
        ],
        [
            [
                f"{r['waiters']:,}",
                r.get("loop", DASH),
                f"{r['answered']:,}",
                _fmt(r["wake_p50_s"], "_s"),
                f"{_fmt(r['wake_p99_s'], '_s')} ({_fmt(r['bare']['wake_p99_s'], '_s')})",
                f"{_fmt(r['bytes_per_waiter'], 'bytes_per_waiter')} "
                f"({_fmt(r['bare']['bytes_per_waiter'], 'bytes_per_waiter')})",
                f"{r.get('upstream_issued_idle', DASH)} / {r['upstream_issued_while_waiting']}",
                f"{r['upstream_connections_before']} / {r['upstream_connections_while_waiting']}",
            ]
            for r in growth["waiters"]
        ],
    )
    churn = _table(
        [
            "Jobs",
            "Watch",
            "Rate",
            "Changes (lost)",
            "Bridge CPU per change",
            "Nomad requests per change",
            "Nomad bytes per change",
            "Lag p50 / p99",
            "Simulator CPU per change",
        ],
        [
            [
                f"{r['jobs']:,}",
                r["mode"],
                f"{r['rate_per_s']:g}/s",
                f"{r['changes']} ({r['lost']})",
                _fmt(r["cpu_ms_per_change"], "_ms"),
                _fmt(r["nomad_requests_per_change"]),
                _fmt(r["nomad_bytes_per_change"], "_bytes_per_change"),
                f"{_fmt(r['lag_p50_s'], '_s')} / {_fmt(r['lag_p99_s'], '_s')}",
                _fmt(r.get("sim_cpu_ms_per_change"), "_ms"),
            ]
            for r in [*growth.get("churn", []), *growth.get("churn_ladder", [])]
        ],
    )
    loop = growth["jobs"][0].get("loop", DASH) if growth["jobs"] else DASH
    return "\n\n".join(
        [
            f"By cluster size (bridge and bare aiohttp both on {loop}):",
            jobs,
            "Against the naive proxy:",
            naive,
            "By number of waiters:",
            waiters,
            "Churn, changes made straight on Nomad (the last rows: the rate ladder at the "
            "largest size):",
            churn,
        ]
    )


def markdown(summary: dict[str, Any]) -> str:
    machine = summary["machine"]
    profile = summary["details"]["profile"]
    tool = machine["wrk"] or "bench/loadgen.py (wrk not installed)"
    method = METHOD.format(
        load_generator=tool,
        cores=machine["cores"],
        event_loop=machine.get("event_loop", "asyncio"),
        access_lines=profile.get("access_lines", 0),
        connections=profile["read_connections"],
        read_jobs=profile["read_jobs"],
        waiter_jobs=profile["waiter_jobs"],
        startall_jobs=profile["startall_jobs"],
        churn_jobs=", ".join(f"{n:,}" for n in profile.get("churn_jobs", ())),
        churn_rate=profile.get("churn_rate", 0),
        churn_run_s=profile.get("churn_run_s", 0),
        churn_ladder=", ".join(f"{r:g}" for r in profile.get("churn_ladder", ())),
        churn_ladder_s=profile.get("churn_ladder_s", 0),
        settle_s=SETTLE_S,
    )
    findings = FINDINGS.read_text(encoding="utf-8").strip() if FINDINGS.exists() else ""
    parts = [
        "# Performance",
        f"<!-- Generated by `python -m bench` ({summary['profile']}); edit bench/report.py "
        "or bench/findings.md, not this file. -->",
        f"Run `{summary['profile']}` of {summary['date']}, {summary['wall_s']:.0f} s wall time, on "
        f"{machine['cores']} cores, Python {machine['python']}, aiohttp {machine['aiohttp']} "
        f"(HTTP parser: {machine.get('http_parser', DASH)}), event loop "
        f"{machine.get('event_loop', DASH)} (uvloop {machine.get('uvloop') or DASH}), "
        f"load from {tool}.",
        "## Figures and goals",
        _figures_table(summary),
        "## Method",
        method,
        "## What each figure means",
        MEANINGS,
        "## Growth",
        "![Growth curves](performance.png)",
        _growth_tables(summary),
        findings,
        "## Reproduce",
        REPRODUCE,
    ]
    return "\n\n".join(part for part in parts if part) + "\n"


def _write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    scratch = path.with_name(path.name + ".tmp")
    scratch.write_text(text, encoding="utf-8")
    scratch.replace(path)


def render_docs(summary: dict[str, Any], docs_dir: Path) -> list[Path]:
    page = docs_dir / "performance.md"
    _write_atomically(page, markdown(summary))
    return [page, plot_growth(summary, docs_dir / "performance.png")]


def write_report(
    outcome: Outcome, profile: Profile, wall_s: float, *, results_dir: Path, docs_dir: Path
) -> list[Path]:
    summary = summarize(outcome, profile, wall_s)
    latest = results_dir / "latest.json"
    _write_atomically(latest, json.dumps(summary, indent=2, ensure_ascii=False) + "\n")
    return [latest, *render_docs(summary, docs_dir)]


def main() -> None:
    """Regenerate the docs from bench/results/latest.json."""
    repo = Path(__file__).resolve().parent.parent
    summary = json.loads((repo / "bench" / "results" / "latest.json").read_text(encoding="utf-8"))
    for path in render_docs(summary, repo / "docs"):
        print(path)


if __name__ == "__main__":
    main()
