"""`python -m bench [--quick | --full]`: run every measure, write bench/results/latest.json
and regenerate docs/performance.md and docs/performance.png."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
import tempfile
import time
from pathlib import Path
from types import FrameType

import aiohttp

from bench.measures import Bench
from bench.processes import Supervisor, raise_fd_limit
from bench.profile import FULL, QUICK, Profile
from bench.report import write_report
from bench.run import Outcome, run

log = logging.getLogger("bench")

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "bench" / "results"
LOGS = RESULTS / "logs"
HTTP_TIMEOUT_S = 120.0


def _parse(argv: list[str]) -> Profile:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="about 3 minutes (the default)")
    size.add_argument("--full", action="store_true", help="10,000 waiters, 5,000 jobs, longer runs")
    args = parser.parse_args(argv)
    return FULL if args.full else QUICK


def _terminate(signum: int, _frame: FrameType | None) -> None:
    """SIGTERM ends the run as Ctrl-C does: every process started is stopped on the way out."""
    raise KeyboardInterrupt(f"signal {signum}")


async def _measure(procs: Supervisor, workdir: Path, profile: Profile) -> Outcome:
    timeout = aiohttp.ClientTimeout(total=HTTP_TIMEOUT_S)
    async with aiohttp.ClientSession(timeout=timeout) as http:
        return await run(Bench(procs, workdir, http, profile))


def main(argv: list[str] | None = None) -> int:
    profile = _parse(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    signal.signal(signal.SIGTERM, _terminate)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even when started ignoring it
    raise_fd_limit()  # children (the bridge above all) inherit it
    started = time.monotonic()
    for old in LOGS.glob("*.log"):
        old.unlink()
    log.info("bench %s: logs in %s", profile.name, LOGS)
    try:
        with (
            tempfile.TemporaryDirectory(prefix="nomad-bridge-bench-") as scratch,
            Supervisor(LOGS) as procs,
        ):
            outcome = asyncio.run(_measure(procs, Path(scratch), profile))
    except KeyboardInterrupt as stop:
        log.error("interrupted (%s): every process started was stopped, nothing written", stop)
        return 130
    wall_s = time.monotonic() - started
    paths = write_report(outcome, profile, wall_s, results_dir=RESULTS, docs_dir=REPO / "docs")
    for path in paths:
        log.info("wrote %s", path.relative_to(REPO))
    log.info("done in %.0fs", wall_s)
    return 0


if __name__ == "__main__":
    sys.exit(main())
