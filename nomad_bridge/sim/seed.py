"""Seeding a simulator from Nomad JSON job files (`{"Job": {...}}`, as `nomad job run -json`)."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from nomad_bridge.sim.simulator import Simulator

log = logging.getLogger(__name__)


def load_job_files(directory: Path) -> list[dict[str, Any]]:
    """The register requests in `directory`, in file-name order."""
    requests = []
    for path in sorted(directory.glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict):
            raise ValueError(f"{path}: expected a JSON object")
        requests.append(data)
    return requests


def seed_from_dir(sim: Simulator, directory: Path) -> list[str]:
    registered = []
    for request in load_job_files(directory):
        sim.register_job_spec(request)
        job = (
            next(v for k, v in request.items() if k.lower() == "job")
            if "ID" not in request
            else request
        )
        registered.append(str(job.get("ID")))
        log.info("sim_seeded", extra={"job": job.get("ID")})
    return registered
