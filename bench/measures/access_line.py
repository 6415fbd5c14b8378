"""CPU per access line, on the event loop and in all: `bench/accessline.py` in a process of
its own (it sets up logging for the whole process)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

from bench.processes import python_module, tool_output

ACCESS_LINE_TIMEOUT_S = 300.0


@dataclass(frozen=True)
class AccessLineCost:
    lines: int
    loop_us: float
    total_us: float
    record_loop_us: float
    record_total_us: float

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


async def measure_access_line(lines: int) -> AccessLineCost:
    argv = python_module("bench.accessline", "--lines", str(lines))
    figures = json.loads(await tool_output(argv, ACCESS_LINE_TIMEOUT_S))
    return AccessLineCost(**figures)
