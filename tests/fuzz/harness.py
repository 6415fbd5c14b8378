"""Schemathesis against a real bridge: generated requests from `/openapi.json`, every answer
checked against the same document.

The bridge (and the simulator it fronts) runs for real on 127.0.0.1, on an event loop in a
thread of its own (`running_bridge`), since schemathesis' Python API is synchronous and the
bridge is aiohttp, not ASGI. `fuzz` draws cases per operation with Hypothesis — positive
(valid by the schema) and negative (violating it) — sends them with `requests`, and records
every failure instead of stopping at the first, so one run reports all of them:

- a 5xx other than the documented upstream 502/503/504 (Nomad here is healthy, so those
  are counted too, separately);
- a status, content type, header or body the document does not describe for that answer;
- negative data accepted with a 2xx.

Half the positive cases name a real job and group, half of those with a plausible count (the
fuzzer would otherwise only ever meet 404s), and every group has a scaling policy (max
`COUNT_MAX`), so a generated count of 2**40 is refused by Nomad instead of making the
simulator place that many allocations.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

import requests
import schemathesis
from aiohttp import web
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode, checks
from schemathesis.core.failures import Failure, FailureGroup

from nomad_bridge.api.longpoll import parse_duration_s
from nomad_bridge.api.malformed import BridgeRunner
from nomad_bridge.app import create_app
from nomad_bridge.nomad import NomadSettings
from nomad_bridge.settings import BridgeSettings
from nomad_bridge.sim import SimConfig, SimServer, Simulator

T = TypeVar("T")
Operation = schemathesis.APIOperation[Any, Any, Any, Any]
GeneratedCase = schemathesis.Case[Any]

UPSTREAM_STATUSES = frozenset({502, 503, 504})
REQUEST_TIMEOUT_S = 15.0
LONG_POLL_WAIT = "0.2s"
COUNT_MAX = 20
START_TIMEOUT_S = 30.0
MAX_ROUNDS = 8

FUZZ_JOBS: dict[str, dict[str, int]] = {
    "web": {"frontend": 2, "api": 1},
    "cache": {"redis": 1},
    "game.v2": {"lobby": 1, "match": 2},
    "café": {"kitchen": 1},
    "stopped": {"g": 1},
}
CHECKS = [
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_headers_conformance,
    checks.response_schema_conformance,
    checks.negative_data_rejection,
]


def fuzz_job(job_id: str, groups: dict[str, int]) -> dict[str, Any]:
    return {
        "ID": job_id,
        "Name": job_id,
        "Type": "service",
        "Datacenters": ["dc1"],
        "Meta": {"autostart": "true" if job_id != "cache" else "false"},
        "Stop": job_id == "stopped",
        "TaskGroups": [
            {
                "Name": name,
                "Count": count,
                "Scaling": {"Min": 0, "Max": COUNT_MAX, "Enabled": True},
                "Tasks": [{"Name": "main", "Driver": "docker", "Config": {"image": "busybox"}}],
            }
            for name, count in groups.items()
        ],
    }


# --- the bridge under test -------------------------------------------------------------


@dataclass
class RunningBridge:
    url: str
    simulator: Simulator
    loop: asyncio.AbstractEventLoop

    def on_loop(self, fn: Callable[[], T]) -> T:
        """Run `fn` on the bridge's loop (the simulator's controls live there)."""

        async def call() -> T:
            return fn()

        return asyncio.run_coroutine_threadsafe(call(), self.loop).result(START_TIMEOUT_S)


@contextmanager
def running_bridge(bridge_settings: BridgeSettings | None = None) -> Iterator[RunningBridge]:
    """The simulator (seeded with `FUZZ_JOBS`) and a bridge in front of it, on loopback."""
    loop = asyncio.new_event_loop()
    simulator = Simulator(
        SimConfig(eval_delay_s=0.005, alloc_start_delay_s=0.01, alloc_stop_delay_s=0.01)
    )
    for job_id, groups in FUZZ_JOBS.items():
        simulator.register_job_spec(fuzz_job(job_id, groups))
    sim_server = SimServer(simulator)
    runner: list[web.AppRunner] = []

    async def start() -> str:
        await sim_server.start("127.0.0.1", 0)
        nomad = NomadSettings(addr=sim_server.url, token=None, region=None, namespace="default")
        app_runner = BridgeRunner(  # as `nomad-bridge serve` runs it
            create_app(bridge_settings or BridgeSettings(), nomad), access_log=None
        )
        await app_runner.setup()
        runner.append(app_runner)
        site = web.TCPSite(app_runner, "127.0.0.1", 0)
        await site.start()
        port = app_runner.addresses[0][1]
        return f"http://127.0.0.1:{port}"

    async def stop() -> None:
        for app_runner in runner:
            await app_runner.cleanup()
        await sim_server.stop()

    thread = threading.Thread(target=loop.run_forever, name="fuzzed-bridge", daemon=True)
    thread.start()
    try:
        url = asyncio.run_coroutine_threadsafe(start(), loop).result(START_TIMEOUT_S)
        wait_ready(url)
        yield RunningBridge(url, simulator, loop)
    finally:
        asyncio.run_coroutine_threadsafe(stop(), loop).result(START_TIMEOUT_S)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(START_TIMEOUT_S)
        loop.close()


def wait_ready(url: str) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while requests.get(f"{url}/ready", timeout=5).status_code != 200:
        if time.monotonic() > deadline:
            raise RuntimeError(f"the bridge at {url} never became ready")
        time.sleep(0.05)


# --- the run ---------------------------------------------------------------------------


@dataclass
class FailureRecord:
    operation: str
    mode: str
    title: str
    status: int
    example: str


@dataclass
class FuzzReport:
    cases: int = 0
    statuses: Counter[tuple[str, int]] = field(default_factory=Counter)
    upstream: Counter[tuple[str, int]] = field(default_factory=Counter)
    failures: dict[tuple[str, str, int], FailureRecord] = field(default_factory=dict)
    not_applicable: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def record(self, record: FailureRecord) -> None:
        key = (record.operation, record.title, record.status)
        known = self.failures.get(key)
        if known is None or len(record.example) < len(known.example):
            self.failures[key] = record  # keep the shortest example of each failure

    def summary(self) -> str:
        lines = [f"{self.cases} cases in {self.seconds:.1f} s; {len(self.failures)} failures"]
        for (operation, status), n in sorted(self.statuses.items()):
            lines.append(f"  {operation:<40} {status}: {n}")
        for record in self.failures.values():
            lines.append(
                f"FAILURE {record.operation} [{record.mode}] {record.status}: {record.title}\n"
                f"    {record.example}"
            )
        return "\n".join(lines)


def load_operations(url: str) -> list[Operation]:
    schema = schemathesis.openapi.from_url(f"{url}/openapi.json")
    return [result.ok() for result in schema.get_all_operations()]  # type: ignore[union-attr]


def fuzz(
    url: str,
    *,
    cases: int,
    seed: int | None = None,
    operations: list[str] | None = None,
    report: FuzzReport | None = None,
) -> FuzzReport:
    """Send about `cases` generated requests, spread over the operations and over positive
    and negative data; derandomized when `seed` is None, else seeded.

    Hypothesis stops early where an operation has few distinct inputs (`GET /health` has
    one), so further rounds, each with the next seed, make up the difference.
    """
    report = report if report is not None else FuzzReport()
    chosen = [op for op in load_operations(url) if operations is None or op.label in operations]
    pairs = [(op, mode) for op in chosen for mode in GenerationMode]
    target = report.cases + cases
    started = time.monotonic()
    with requests.Session() as session:
        for round_ in range(MAX_ROUNDS):
            remaining = target - report.cases
            if remaining <= 0 or not pairs:
                break
            per_run = max(1, -(-remaining // len(pairs)))
            round_seed = None if seed is None and round_ == 0 else (seed or 0) + round_
            for operation, mode in list(pairs):
                if not run_one(session, url, operation, mode, per_run, round_seed, report):
                    pairs.remove((operation, mode))
    report.seconds += time.monotonic() - started
    return report


def run_one(
    session: requests.Session,
    url: str,
    operation: Operation,
    mode: GenerationMode,
    examples: int,
    seed: int | None,
    report: FuzzReport,
) -> bool:
    """Run up to `examples` cases; False when the operation has no such cases at all."""
    real_target = st.sampled_from(sorted((j, g) for j, gs in FUZZ_JOBS.items() for g in gs))
    targets = st.one_of(st.none(), real_target) if mode.is_positive else st.none()  # half
    counts = st.one_of(st.none(), st.integers(-3, COUNT_MAX + 1))  # half: a plausible count

    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=seed is None,
        phases=[Phase.explicit, Phase.generate],  # nothing raises: there is nothing to shrink
        suppress_health_check=list(HealthCheck),
        print_blob=False,
    )
    @given(case=operation.as_strategy(generation_mode=mode), target=targets, count=counts)
    def one_case(case: GeneratedCase, target: tuple[str, str] | None, count: int | None) -> None:
        if target is not None:
            aim_at(case, *target, count)
        bound_long_poll(case)
        check_one(session, url, case, mode.value, report)

    if seed is not None:
        one_case = hypothesis_seed(seed)(one_case)
    try:
        one_case()
    except Unsatisfiable:  # nothing to negate (no parameters, no body): no negative case
        report.not_applicable.append(f"{operation.label} [{mode.value}]")
        return False
    return True


# Requests the generator is unlikely to hit but the API must describe: job names Nomad would
# route elsewhere, refused before they reach Nomad (given percent-encoded: schemathesis
# sends path parameters as they are), huge indexes, integral floats, int64 overflow.
JSON = "application/json"
EXPLICIT_CASES: list[tuple[str, dict[str, Any]]] = [
    ("POST /jobs/start/{jobName}", {"path_parameters": {"jobName": "web%2Fsummary"}}),
    ("POST /jobs/stop/{jobName}", {"path_parameters": {"jobName": "%2E%2E"}}),
    ("POST /jobs/stop/{jobName}", {"path_parameters": {"jobName": "a%2F"}}),
    ("GET /job/{jobName}/summary", {"path_parameters": {"jobName": "web%2Fscale"}}),
    ("GET /jobs", {"headers": {"waitIndex": str(2**70)}, "query": {"wait": "0.1s"}}),
    (
        "POST /jobs/updatecounts",
        {"body": {"jobID": "web", "taskGroup": "api", "count": 1.0}, "media_type": JSON},
    ),
    (
        "POST /jobs/settaskgroupcount",
        {"body": {"jobID": "web", "taskGroup": "api", "count": 2**63}, "media_type": JSON},
    ),
    (
        "POST /jobs/settaskgroupcount",
        {"body": {"jobID": "web/summary", "taskGroup": "api", "count": 1}, "media_type": JSON},
    ),
]


def check_explicit(url: str, report: FuzzReport) -> FuzzReport:
    """Send `EXPLICIT_CASES` and check their answers as `fuzz` checks generated ones."""
    operations = {operation.label: operation for operation in load_operations(url)}
    with requests.Session() as session:
        for label, parts in EXPLICIT_CASES:
            case = operations[label].Case(**parts)
            check_one(session, url, case, "explicit", report)
    return report


def check_one(
    session: requests.Session, url: str, case: GeneratedCase, mode: str, report: FuzzReport
) -> None:
    """Send one case and record its status and every way its answer breaks the document."""
    label = case.operation.label
    report.cases += 1
    try:
        response = case.call(base_url=url, session=session, timeout=REQUEST_TIMEOUT_S)
    except requests.RequestException as error:
        report.record(FailureRecord(label, mode, f"no answer: {error}", 0, case_repr(case)))
        return
    status = response.status_code
    report.statuses[(f"{label} [{mode}]", status)] += 1
    if status in UPSTREAM_STATUSES:
        report.upstream[(label, status)] += 1
    elif status >= 500:
        report.record(FailureRecord(label, mode, "server error", status, case_repr(case)))
    try:
        case.validate_response(response, checks=CHECKS)
    except FailureGroup as group:
        for failure in group.exceptions:
            report.record(FailureRecord(label, mode, title_of(failure), status, case_repr(case)))


def title_of(failure: Failure) -> str:
    return failure.title.splitlines()[0][:200]


def case_repr(case: GeneratedCase) -> str:
    return case.as_curl_command()[:600]


def aim_at(case: GeneratedCase, job: str, group: str, count: int | None) -> None:
    """Point a generated case at a real job (and group, and maybe a plausible count)
    instead of a random name."""
    if case.path_parameters and "jobName" in case.path_parameters:
        case.path_parameters = {**case.path_parameters, "jobName": job}
    if isinstance(case.body, dict) and {"jobID", "taskGroup"} <= set(case.body):
        case.body = {**case.body, "jobID": job, "taskGroup": group}
        if count is not None and "count" in case.body:
            case.body["count"] = count


def bound_long_poll(case: GeneratedCase) -> None:
    """A generated `waitIndex` may be far ahead: keep any valid wait short (the default is
    5 minutes), so that the run is bounded; invalid `wait` values are sent as generated."""
    if not case.headers or "waitIndex" not in case.headers:
        return
    query = dict(case.query or {})
    raw = query.get("wait")
    try:
        too_long = raw is None or parse_duration_s(str(raw).strip()) > 0.2
    except ValueError:
        too_long = False
    if too_long:
        query["wait"] = LONG_POLL_WAIT
        case.query = query
