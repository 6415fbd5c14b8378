"""The measures: each compares the bridge with an anchor measured in the same run."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import aiohttp

from bench.processes import Supervisor
from bench.profile import Profile


@dataclass(frozen=True)
class Bench:
    """What every measure works with: the processes, a scratch directory, an HTTP client."""

    procs: Supervisor
    workdir: Path
    http: aiohttp.ClientSession
    profile: Profile
