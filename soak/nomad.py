"""The soak's Nomad: the simulator as its own process, with its controls on a second port.

    python -m soak.nomad --port 4646 --admin-port 4647 --acl-token T --jobs 20

Serves Nomad's HTTP API (and `/_sim/` controls) on `--port`, seeded with `deploy/jobs` and
`--jobs` extra service jobs, and the same `/_sim/` controls on `--admin-port`: the `refuse`
outage closes the API port, so only the admin port can end it (the simulator's README:
"that outage can only be cleared from Python").
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
from pathlib import Path
from typing import Any

from aiohttp import web

from nomad_bridge.sim import SimConfig, SimServer, Simulator
from nomad_bridge.sim.controls_api import make_control_handler

REPO = Path(__file__).resolve().parents[1]
EXAMPLE_JOBS_DIR = REPO / "deploy" / "jobs"
SOAK_JOB_PREFIX = "soak-"
SOAK_GROUPS = ("web", "worker")


def soak_config(acl_token: str | None) -> SimConfig:
    """Simulated time a little faster than the demo's, still slow enough to see allocations
    move through pending and running."""
    return SimConfig(
        acl_token=acl_token,
        eval_delay_s=0.02,
        alloc_start_delay_s=0.1,
        alloc_stop_delay_s=0.05,
        batch_run_s=1.0,
        deployment_min_healthy_s=0.2,
        reschedule_delay_s=0.5,
    )


def soak_job(index: int) -> dict[str, Any]:
    job_id = f"{SOAK_JOB_PREFIX}{index:02d}"
    return {
        "ID": job_id,
        "Name": job_id,
        "Type": "service",
        "Datacenters": ["dc1"],
        "Meta": {"autostart": "true" if index % 3 else "false", "byCluster": "false"},
        "TaskGroups": [
            {
                "Name": name,
                "Count": 1,
                "Tasks": [{"Name": "main", "Driver": "docker", "Config": {"image": "busybox"}}],
            }
            for name in SOAK_GROUPS
        ],
    }


async def serve(port: int, admin_port: int, acl_token: str | None, jobs: int) -> None:
    simulator = Simulator(soak_config(acl_token))
    simulator.seed_from_dir(EXAMPLE_JOBS_DIR)
    for index in range(jobs):
        simulator.register_job_spec(soak_job(index))
    server = SimServer(simulator)
    await server.start("127.0.0.1", port)
    admin = web.Application()
    admin.router.add_route("*", "/_sim/{name}", make_control_handler(simulator))
    admin_runner = web.AppRunner(admin, access_log=None)
    await admin_runner.setup()
    await web.TCPSite(admin_runner, "127.0.0.1", admin_port).start()
    print(f"soak nomad on {server.url}, controls on :{admin_port}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(signum, stop.set)
    try:
        await stop.wait()
    finally:
        await admin_runner.cleanup()
        await server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m soak.nomad", description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--admin-port", type=int, required=True)
    parser.add_argument("--acl-token", default=None)
    parser.add_argument("--jobs", type=int, default=20)
    args = parser.parse_args()
    asyncio.run(serve(args.port, args.admin_port, args.acl_token, args.jobs))


if __name__ == "__main__":
    main()
