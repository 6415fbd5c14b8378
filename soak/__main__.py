"""`python -m soak [--minutes 10] [--seed N]`: the bridge under load and Nomad faults.

Runs the simulated Nomad (`python -m soak.nomad`) and the bridge (`nomad-bridge serve`) as
subprocesses on 127.0.0.1, both with tokens, and for `--minutes`:

- clients: readers, long pollers and mutators (`soak.load`);
- every `--fault-every` seconds one Nomad fault through the simulator's `/_sim/` controls
  (`soak.faults`), and after it the time until the bridge shows a change made in Nomad
  right after the fault ended, and until `/ready` is 200 again;
- every 5 s the bridge's RSS (`/proc/PID/status`) and open descriptors (`/proc/PID/fd`).

Then SIGTERM, and the figures (`soak.report`): unexplained errors (expected: 0), RSS growth
after warm-up (expected: < 5 %), descriptors (expected: flat), token leaks in the bridge's
log (expected: 0). Written to `<out>/report.json` and `<out>/report.md`; exit 1 if any
expectation failed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import tempfile
from dataclasses import asdict
from pathlib import Path
from typing import Any

import aiohttp

from soak.faults import Fault, Window, schedule, sim_control, sleep_until
from soak.load import Clients, Recorder
from soak.nomad import SOAK_JOB_PREFIX
from soak.processes import Processes, Tokens, open_fds, rss_kib, started, stop
from soak.report import Figures, Sample, figures, markdown

SAMPLE_EVERY_S = 5.0
NOMAD_TIMEOUT_S = 2.0
BULK_DEADLINE_S = 2 * NOMAD_TIMEOUT_S  # under the 6 s hang, so that the deadline is what ends it
BULK_PROBE_EVERY_S = 3.0
RSS_GROWTH_LIMIT_PCT = 5.0
FD_SLACK = 5
RECOVERY_LIMIT_S = 120.0
NOMAD_RETRY_S = 10.0
FAULT_MARGIN_S = 5.0  # no fault starts later than this before the end
MARKER_JOB = "marker"
READERS, LONG_POLLERS, MUTATORS = 8, 50, 3


def marker_job(count: int) -> dict[str, Any]:
    return {
        "Job": {
            "ID": MARKER_JOB,
            "Name": MARKER_JOB,
            "Type": "service",
            "Datacenters": ["dc1"],
            "TaskGroups": [
                {
                    "Name": "marker",
                    "Count": count,
                    "Tasks": [{"Name": "m", "Driver": "docker", "Config": {"image": "busybox"}}],
                }
            ],
        }
    }


class Soak:
    def __init__(self, processes: Processes, tokens: Tokens, args: argparse.Namespace) -> None:
        self.p = processes
        self.tokens = tokens
        self.args = args
        self.rng = random.Random(args.seed)
        self.recorder = Recorder()
        self.samples: list[Sample] = []
        self.windows: list[Window] = []
        self.marker = 1

    async def nomad(self, session: aiohttp.ClientSession, method: str, path: str, body: Any) -> Any:
        """A request straight to Nomad, as another Nomad client would make it; retried while
        Nomad is not listening yet (the `/_sim/outage` answer comes before the port reopens)."""
        headers = {"X-Nomad-Token": self.tokens.nomad}
        deadline = asyncio.get_running_loop().time() + NOMAD_RETRY_S
        while True:
            try:
                async with session.request(
                    method, self.p.nomad_url + path, json=body, headers=headers
                ) as response:
                    text = await response.text()
                    status = response.status
                break
            except aiohttp.ClientConnectionError:
                if asyncio.get_running_loop().time() > deadline:
                    raise
                await asyncio.sleep(0.05)
        if status != 200:
            raise RuntimeError(f"Nomad {method} {path}: {status} {text[:200]}")
        return json.loads(text)

    async def run(self) -> tuple[int, list[str]]:
        loop = asyncio.get_running_loop()
        self.started_s = loop.time()
        end_s = self.started_s + self.args.minutes * 60
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
            await self.nomad(session, "PUT", "/v1/jobs", marker_job(self.marker))
            jobs = [j["ID"] for j in await self.nomad(session, "GET", "/v1/jobs", None)]
            clients = Clients(
                session, self.p.bridge_url, self.tokens.bridge, jobs, self.recorder, self.rng
            )
            tasks = [asyncio.create_task(clients.reader()) for _ in range(READERS)]
            tasks += [asyncio.create_task(clients.long_poller()) for _ in range(LONG_POLLERS)]
            tasks += [asyncio.create_task(clients.mutator()) for _ in range(MUTATORS)]
            tasks.append(asyncio.create_task(clients.ready_sampler(0.5)))
            tasks.append(asyncio.create_task(clients.bulk_prober(BULK_PROBE_EVERY_S)))
            sampler = asyncio.create_task(self.sample_forever())
            await self.inject_faults(session, end_s, jobs)
            await sleep_until(end_s)
            clients.stop()
            await asyncio.wait_for(asyncio.gather(*tasks), 60)
            sampler.cancel()
            counts = await sim_control(session, self.p.control_url)("GET", "requests", None)
        return sum(counts.values()), jobs

    async def sample_forever(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            pid = self.p.bridge_pid
            self.samples.append(Sample(loop.time(), rss_kib(pid), open_fds(pid)))
            await asyncio.sleep(SAMPLE_EVERY_S)

    async def inject_faults(
        self, session: aiohttp.ClientSession, end_s: float, jobs: list[str]
    ) -> None:
        loop = asyncio.get_running_loop()
        control = sim_control(session, self.p.control_url)
        targets = [job for job in jobs if job.startswith(SOAK_JOB_PREFIX)]
        count = int(self.args.minutes * 60 // self.args.fault_every)
        for i, fault in enumerate(schedule(self.rng, count)):
            await sleep_until(self.started_s + (i + 1) * self.args.fault_every - fault.duration_s)
            if loop.time() + fault.duration_s + FAULT_MARGIN_S > end_s:
                return
            if fault.name == "garbage-collect":
                await self.stop_for_collection(session, self.rng.choice(targets))
            window = Window(fault.name, loop.time(), explains=fault.explains)
            self.windows.append(window)
            window.detail |= await fault.begin(control, self.rng, targets)
            await asyncio.sleep(fault.duration_s)
            window.detail |= await fault.end(control)
            window.ended_s = loop.time()
            await self.measure_recovery(session, fault, window)

    async def stop_for_collection(self, session: aiohttp.ClientSession, job: str) -> None:
        """Stop a job in Nomad and let its allocations finish, so GC has something to take."""
        await self.nomad(session, "DELETE", f"/v1/job/{job}", None)
        deadline = asyncio.get_running_loop().time() + 10
        while (await self.nomad(session, "GET", f"/v1/job/{job}", None))["Status"] != "dead":
            if asyncio.get_running_loop().time() > deadline:
                return
            await asyncio.sleep(0.2)

    async def measure_recovery(
        self, session: aiohttp.ClientSession, fault: Fault, window: Window
    ) -> None:
        """Change the marker job in Nomad now; time until the bridge shows it, and until
        `/ready` is 200."""
        assert window.ended_s is not None
        self.marker = self.marker % 3 + 1
        await self.nomad(session, "PUT", "/v1/jobs", marker_job(self.marker))
        headers = {"Authorization": f"Bearer {self.tokens.bridge}"}
        loop = asyncio.get_running_loop()
        while loop.time() - window.ended_s < RECOVERY_LIMIT_S:
            async with session.get(
                f"{self.p.bridge_url}/job/{MARKER_JOB}/summary", headers=headers
            ) as response:
                if response.status == 200:
                    view = await response.json()
                    if view["taskGroups"][0]["count"] == self.marker:
                        window.recovery_s = loop.time() - window.ended_s
                        break
            await asyncio.sleep(0.05)
        while loop.time() - window.ended_s < RECOVERY_LIMIT_S:
            async with session.get(f"{self.p.bridge_url}/ready") as response:
                if response.status == 200:
                    window.ready_recovery_s = loop.time() - window.ended_s
                    break
            await asyncio.sleep(0.05)
        if fault.outage:
            window.detail["ready_503_during"] = any(
                status == 503 and window.started_s <= at <= window.ended_s
                for at, status in self.recorder.ready
            )


def verdicts(f: Figures) -> list[str]:
    failed = []
    if f.unexplained:
        failed.append(f"{len(f.unexplained)} unexplained errors")
    if f.rss_growth_pct >= RSS_GROWTH_LIMIT_PCT:
        failed.append(f"RSS grew {f.rss_growth_pct} % after warm-up")
    # Pooled connections come and go (Nomad's are dropped in outages): the level moves, the
    # ceiling must not.
    if f.fds_second_half_max > f.fds_first_half_max + FD_SLACK:
        failed.append(
            f"open fds' ceiling rose from {f.fds_first_half_max} to {f.fds_second_half_max}"
        )
    if f.token_leaks:
        failed.append(f"{f.token_leaks} log lines hold a token")
    if f.exit_code != 0:
        failed.append(f"exit code {f.exit_code} on SIGTERM")
    for during, bulk in f.bulk_ms.items():
        if bulk["count"] and bulk["p99"] > f.bulk_deadline_s * 1000:
            failed.append(f"bulk p99 {during} {bulk['p99']} ms > BRIDGE_BULK_DEADLINE_S")
    return failed


async def soak(args: argparse.Namespace) -> int:
    out_dir = args.out or Path(tempfile.mkdtemp(prefix="nomad-bridge-soak-"))
    out_dir.mkdir(parents=True, exist_ok=True)
    rng = random.Random(args.seed)
    tokens = Tokens(
        bridge=f"soak-bridge-{rng.getrandbits(64):x}", nomad=f"soak-nomad-{rng.getrandbits(64):x}"
    )
    async with started(
        out_dir,
        tokens,
        jobs=args.jobs,
        nomad_timeout_s=NOMAD_TIMEOUT_S,
        bulk_deadline_s=BULK_DEADLINE_S,
    ) as p:
        run = Soak(p, tokens, args)
        nomad_requests, _ = await run.run()
        exit_code = await stop(p.bridge)
    result = figures(
        minutes=args.minutes,
        seed=args.seed,
        recorder=run.recorder,
        windows=run.windows,
        samples=run.samples,
        warmup_s=args.warmup_minutes * 60,
        started_s=run.started_s,
        nomad_requests=nomad_requests,
        log=p.bridge_log,
        secrets=[tokens.bridge, tokens.nomad],
        exit_code=exit_code,
        bulk_deadline_s=BULK_DEADLINE_S,
    )
    (out_dir / "report.json").write_text(json.dumps(asdict(result), indent=2, default=str))
    (out_dir / "report.md").write_text(markdown(result) + "\n")
    print(markdown(result))
    for outcome in result.unexplained[:20]:
        print(f"UNEXPLAINED {outcome}")
    failed = verdicts(result)
    print(f"\nartifacts: {out_dir}\n" + ("FAILED: " + "; ".join(failed) if failed else "PASSED"))
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m soak", description=__doc__)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--fault-every", type=float, default=30.0, help="seconds between faults")
    parser.add_argument(
        "--warmup-minutes", type=float, default=None, help="default: 1/4 of the run, at most 2"
    )
    parser.add_argument("--jobs", type=int, default=20, help="extra service jobs in Nomad")
    parser.add_argument("--out", type=Path, default=None, help="artifacts directory")
    args = parser.parse_args(argv)
    if args.warmup_minutes is None:
        args.warmup_minutes = min(2.0, args.minutes / 4)
    return asyncio.run(soak(args))


if __name__ == "__main__":
    sys.exit(main())
