"""Synthetic clusters: a directory of Nomad JSON job files for `nomad-bridge sim --seed`.

Seeding through the simulator's CLI registers the jobs before it listens, which is much
faster than `PUT /v1/jobs` one by one and leaves the same state behind.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

GROUP_COUNT = 1
"""Allocations per task group: enough to give every summary a running counter."""


def job_name(prefix: str, number: int) -> str:
    return f"{prefix}-{number:05d}"


def job_spec(job_id: str, groups: int, *, stopped: bool = False) -> dict[str, Any]:
    """A service job with `groups` task groups of one small task each, flagged autostart."""
    return {
        "ID": job_id,
        "Name": job_id,
        "Type": "service",
        "Datacenters": ["dc1"],
        "Stop": stopped,
        "Meta": {"autostart": "true", "byCluster": "false"},
        "TaskGroups": [
            {
                "Name": f"group-{g}",
                "Count": GROUP_COUNT,
                "Tasks": [
                    {
                        "Name": "server",
                        "Driver": "docker",
                        "Config": {"image": "nginx:1.27-alpine"},
                        "Resources": {"CPU": 100, "MemoryMB": 64},
                    }
                ],
            }
            for g in range(groups)
        ],
    }


def write_seed_dir(
    directory: Path, jobs: int, groups: int, *, prefix: str = "job", stopped: bool = False
) -> list[str]:
    """Write `jobs` job files into `directory` (created); returns the job IDs."""
    directory.mkdir(parents=True, exist_ok=True)
    names = [job_name(prefix, n) for n in range(jobs)]
    for name in names:
        body = json.dumps({"Job": job_spec(name, groups, stopped=stopped)})
        (directory / f"{name}.json").write_text(body, encoding="utf-8")
    return names
