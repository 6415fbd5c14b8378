"""`python -m tests.fuzz [--cases 10000] [--seed N]`: the long schemathesis run (`make fuzz`).

Starts the simulator and a bridge on 127.0.0.1, sends about `--cases` generated requests
(positive and negative, spread over every operation) plus the hand-picked ones, prints a
status table and every distinct failure with its shortest example as a curl command, and
exits 1 if there was any.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import warnings
from pathlib import Path

from tests.fuzz.harness import FuzzReport, check_explicit, fuzz, running_bridge

DEFAULT_CASES = 10_000


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.fuzz", description=__doc__)
    parser.add_argument("--cases", type=int, default=DEFAULT_CASES, help="about how many cases")
    parser.add_argument("--seed", type=int, default=None, help="seed (default: derandomized)")
    parser.add_argument("--json", type=Path, default=None, help="also write the report here")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)  # the bridge's expected warnings stay quiet
    warnings.simplefilter("ignore")  # Hypothesis' deprecation notes about schemathesis
    report = FuzzReport()
    with running_bridge() as bridge:
        check_explicit(bridge.url, report)
        fuzz(bridge.url, cases=args.cases, seed=args.seed, report=report)
    print(report.summary())
    if report.upstream:
        print(f"upstream statuses (Nomad is healthy here): {dict(report.upstream)}")
    if args.json is not None:
        args.json.write_text(
            json.dumps(
                {
                    "cases": report.cases,
                    "seconds": round(report.seconds, 1),
                    "seed": args.seed,
                    "statuses": {f"{op} {st}": n for (op, st), n in report.statuses.items()},
                    "failures": [vars(record) for record in report.failures.values()],
                },
                indent=2,
            )
        )
    return 1 if report.failures else 0


if __name__ == "__main__":
    sys.exit(main())
