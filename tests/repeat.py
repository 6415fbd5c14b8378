"""`python -m tests.repeat --runs 5 [--order reverse|shuffle] [-- PYTEST ARGS]`: flake hunting.

Runs the whole suite (or what the pytest arguments select) several times in a row, each run
in a fresh process, and reports every failure with its run number as it happens, then a
summary: which tests failed in which runs, and each run's outcome and time. Exits 1 if any run
failed (a failed test, an error, no tests collected), 0 if every run passed. `make
test-repeat N=5` runs it. A machine kept busy by other work is a good place to run it: it
shakes out tests that depend on how fast things happen.

`--order reverse` runs the tests in reverse order and `--order shuffle` in a random order
(the seed is printed per run), to find tests that depend on others having run first; both
work through this module's own pytest hook (`-p tests.repeat`). Each run's log and JUnit XML
are kept in a directory named at the start.
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ElementTree
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ORDER_VARIABLE = "TESTS_REPEAT_ORDER"
"""Read by `pytest_collection_modifyitems` below: `reverse`, or `shuffle:<seed>`."""
REPO = Path(__file__).resolve().parents[1]


@dataclass
class Run:
    """One pytest run: its outcome and the tests that failed in it."""

    number: int
    exit_code: int
    seconds: float
    counts: dict[str, int] = field(default_factory=dict)
    failures: list[tuple[str, str]] = field(default_factory=list)  # (test id, first line)
    log: Path = field(default_factory=Path)

    @property
    def passed(self) -> bool:
        return self.exit_code == 0

    def outcome(self) -> str:
        shown = ", ".join(f"{n} {what}" for what, n in self.counts.items() if n)
        state = "passed" if self.passed else f"FAILED (exit {self.exit_code})"
        return f"run {self.number}: {state}: {shown or 'nothing ran'} in {self.seconds:.1f} s"


def test_id(case: ElementTree.Element) -> str:
    """`tests/x/test_y.py::Class::test` from a JUnit testcase's classname and name."""
    parts = case.get("classname", "").split(".")
    module_end = next((i for i, part in enumerate(parts) if part.startswith("test_")), None)
    if module_end is None:
        return ".".join([*parts, case.get("name", "")])
    path = "/".join(parts[: module_end + 1]) + ".py"
    return "::".join([path, *parts[module_end + 1 :], case.get("name", "")])


def read_junit(path: Path) -> tuple[dict[str, int], list[tuple[str, str]]]:
    """Counts by outcome, and each failed or errored test with its message's first line."""
    counts = {"passed": 0, "failed": 0, "errors": 0, "skipped": 0}
    failures: list[tuple[str, str]] = []
    if not path.exists():
        return counts, failures
    for case in ElementTree.parse(path).getroot().iter("testcase"):
        problem = case.find("failure")
        if problem is None:
            problem = case.find("error")
        if problem is not None:
            counts["failed" if problem.tag == "failure" else "errors"] += 1
            message = (problem.get("message") or problem.text or "").strip()
            failures.append((test_id(case), message.splitlines()[0] if message else ""))
        elif case.find("skipped") is not None:
            counts["skipped"] += 1
        else:
            counts["passed"] += 1
    return counts, failures


def run_once(number: int, order: str, seed: int, logs: Path, pytest_args: list[str]) -> Run:
    junit = logs / f"run-{number}.xml"
    log = logs / f"run-{number}.log"
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
    command += [f"--junitxml={junit}", *pytest_args]
    env = dict(os.environ)
    if order != "default":
        command += ["-p", "tests.repeat"]
        env[ORDER_VARIABLE] = "reverse" if order == "reverse" else f"shuffle:{seed + number}"
    started = time.monotonic()
    with log.open("w") as output:
        exit_code = subprocess.call(command, cwd=REPO, env=env, stdout=output, stderr=output)
    counts, failures = read_junit(junit)
    return Run(number, exit_code, time.monotonic() - started, counts, failures, log)


def summary(runs: list[Run]) -> list[str]:
    failed_in: dict[str, list[int]] = defaultdict(list)
    for run in runs:
        for test, _ in run.failures:
            failed_in[test].append(run.number)
    lines = ["", f"=== {len(runs)} runs, {sum(not r.passed for r in runs)} failed ==="]
    lines += [run.outcome() for run in runs]
    if failed_in:
        lines.append("failed tests (in runs):")
        for test, numbers in sorted(failed_in.items(), key=lambda item: (-len(item[1]), item[0])):
            lines.append(f"  {test}  (runs {', '.join(map(str, numbers))})")
    total = sum(run.seconds for run in runs)
    lines.append(f"total {total:.0f} s, {total / max(len(runs), 1):.1f} s a run")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.repeat", description=__doc__)
    parser.add_argument("--runs", "-n", type=int, default=5, help="how many runs (default 5)")
    parser.add_argument("--order", choices=["default", "reverse", "shuffle"], default="default")
    parser.add_argument("--seed", type=int, default=None, help="shuffle seed of run 1")
    parser.add_argument("--logs", type=Path, default=None, help="where logs go (default: temp)")
    parser.add_argument("pytest_args", nargs="*", help="after --: passed to pytest")
    args = parser.parse_args(argv)
    logs = args.logs or Path(tempfile.mkdtemp(prefix="test-repeat-"))
    logs.mkdir(parents=True, exist_ok=True)
    seed = args.seed if args.seed is not None else random.randrange(1_000_000)
    print(f"{args.runs} runs, order {args.order}; logs in {logs}", flush=True)
    runs: list[Run] = []
    for number in range(1, args.runs + 1):
        run = run_once(number, args.order, seed, logs, args.pytest_args)
        runs.append(run)
        if args.order == "shuffle":
            print(f"run {number}: shuffle seed {seed + number}", flush=True)
        for test, message in run.failures:
            print(f"run {number}: FAILED {test} - {message}", flush=True)
        if not run.passed and not run.failures:
            print(f"run {number}: exit {run.exit_code}, see {run.log}", flush=True)
        print(run.outcome(), flush=True)
    print("\n".join(summary(runs)))
    return 0 if all(run.passed for run in runs) else 1


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """With `-p tests.repeat`: the order `TESTS_REPEAT_ORDER` asks for."""
    order = os.environ.get(ORDER_VARIABLE, "")
    if order == "reverse":
        items.reverse()
    elif order.startswith("shuffle:"):
        random.Random(int(order.split(":", 1)[1])).shuffle(items)


if __name__ == "__main__":
    sys.exit(main())
