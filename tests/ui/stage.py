"""What the browser tests run against: a simulated Nomad with a bridge in front of it, on an
event loop in a thread of its own (Playwright's sync API drives the browser from the test's
thread; the bridge is aiohttp). Each test gets a fresh stage; the loop thread is shared.

What Nomad ends up holding is read over its HTTP API, as any Nomad client would.
"""

from __future__ import annotations

import asyncio
import re
import threading
from collections.abc import Callable, Coroutine, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import quote

import aiohttp
import requests
from aiohttp import web
from yarl import URL

from nomad_bridge.api.malformed import BridgeRunner
from nomad_bridge.app import create_app
from nomad_bridge.nomad import NomadSettings
from nomad_bridge.settings import BridgeSettings
from nomad_bridge.sim import SimServer, Simulator
from nomad_bridge.sim.controls import OutageMode
from nomad_bridge.sim.testing import fast_config, service_job
from tests.support import simulator_idle, wait_until_sync

T = TypeVar("T")
START_TIMEOUT_S = 30.0
HTTP_TIMEOUT_S = 10.0


def job(
    job_id: str,
    groups: dict[str, int] | None = None,
    *,
    autostart: bool = False,
    by_cluster: bool = False,
    stop: bool = False,
) -> dict[str, Any]:
    """A Nomad service job with the bridge's flags in its Meta."""
    spec = service_job(job_id, **(groups or {"main": 1}))
    spec["Meta"] = {"autostart": str(autostart).lower(), "byCluster": str(by_cluster).lower()}
    spec["Stop"] = stop
    return spec


class LoopThread:
    """An event loop running in a daemon thread; coroutines are handed to it."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="ui-stage", daemon=True)
        self._thread.start()

    def run(self, coroutine: Coroutine[Any, Any, T], timeout_s: float = START_TIMEOUT_S) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout_s)

    def call(self, fn: Callable[[], T]) -> T:
        """Run `fn` on the loop (the simulator's state and controls live there)."""

        async def invoke() -> T:
            return fn()

        return self.run(invoke())

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(START_TIMEOUT_S)
        self.loop.close()


HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "transfer-encoding", "content-length", "host", "upgrade"}
)
SCALE_PATH = re.compile(r"/v1/job/([^/?]+)/scale")


class RacingWriter:
    """A proxy between the bridge and Nomad where another Nomad client changes a job just
    before each of the bridge's scale requests for it arrives, so that the bridge's
    check-and-set always loses: the concurrent writer, made deterministic."""

    def __init__(self, nomad_url: str) -> None:
        self._nomad = nomad_url
        self._session: aiohttp.ClientSession | None = None
        self._runner: web.AppRunner | None = None
        self._answers: set[aiohttp.ClientResponse] = set()  # being relayed right now
        self.writes = 0

    async def start(self) -> str:
        self._session = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=None), auto_decompress=False
        )
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._forward)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        return f"http://127.0.0.1:{self._runner.addresses[0][1]}"

    async def stop(self) -> None:
        # The answers being relayed first (the bridge's event stream may wait 30 s for its
        # next heartbeat), then the session: cleanup awaits every request in flight.
        for answer in list(self._answers):
            answer.close()
        if self._session is not None:
            await self._session.close()
        if self._runner is not None:
            await self._runner.cleanup()

    async def _write_first(self, encoded_id: str) -> None:
        assert self._session is not None
        url = URL(f"{self._nomad}/v1/job/{encoded_id}", encoded=True)
        # This session relays bodies as they are (no decompression): its own reads ask Nomad
        # for plain JSON.
        async with self._session.get(url, headers={"Accept-Encoding": "identity"}) as answer:
            spec = await answer.json()
        self.writes += 1
        spec["Meta"] = {**(spec.get("Meta") or {}), "racing-writer": str(self.writes)}
        async with self._session.post(url, json={"Job": spec}) as answer:
            answer.raise_for_status()

    async def _forward(self, request: web.Request) -> web.StreamResponse:
        assert self._session is not None
        scale = SCALE_PATH.fullmatch(request.raw_path.split("?", 1)[0])
        if request.method == "POST" and scale is not None:
            await self._write_first(scale.group(1))
        headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP}
        url = URL(self._nomad + request.raw_path, encoded=True)
        body = await request.read()
        async with self._session.request(
            request.method, url, headers=headers, data=body or None, allow_redirects=False
        ) as upstream:
            self._answers.add(upstream)
            response = web.StreamResponse(
                status=upstream.status,
                headers={k: v for k, v in upstream.headers.items() if k.lower() not in HOP_BY_HOP},
            )
            await response.prepare(request)
            try:
                async for chunk in upstream.content.iter_any():
                    await response.write(chunk)
            finally:
                self._answers.discard(upstream)
            await response.write_eof()
            return response


@dataclass
class Stage:
    """One simulated Nomad and one bridge in front of it (optionally through a RacingWriter)."""

    thread: LoopThread
    simulator: Simulator
    nomad_url: str
    origin: str
    """The bridge's scheme, host and port."""
    base_path: str
    _stop: list[Callable[[], Coroutine[Any, Any, None]]] = field(default_factory=list)

    @property
    def api_url(self) -> str:
        """The bridge's base URL, base path included, ending in `/`."""
        return self.origin + self.base_path

    @property
    def page_url(self) -> str:
        return self.api_url + "ui"

    def on_sim(self, fn: Callable[[Simulator], T]) -> T:
        return self.thread.call(lambda: fn(self.simulator))

    # --- Nomad, as any Nomad client sees it ------------------------------------------------

    def nomad_job(self, job_id: str) -> dict[str, Any]:
        answer = requests.get(
            f"{self.nomad_url}/v1/job/{quote(job_id, safe='')}", timeout=HTTP_TIMEOUT_S
        )
        answer.raise_for_status()
        body: dict[str, Any] = answer.json()
        return body

    def group_count(self, job_id: str, group: str) -> int:
        groups = self.nomad_job(job_id)["TaskGroups"]
        return int(next(g["Count"] for g in groups if g["Name"] == group))

    def stopped(self, job_id: str) -> bool:
        return bool(self.nomad_job(job_id)["Stop"])

    def register(self, spec: dict[str, Any]) -> None:
        answer = requests.post(
            f"{self.nomad_url}/v1/jobs", json={"Job": spec}, timeout=HTTP_TIMEOUT_S
        )
        answer.raise_for_status()

    def outage(self, mode: OutageMode | None) -> None:
        """The simulator's outage control (`refuse`, `unavailable`, `hang`; None ends it)."""
        self.on_sim(lambda sim: sim.controls.set_outage(mode))

    # --- the bridge --------------------------------------------------------------------------

    def jobs(self, token: str | None = None) -> list[dict[str, Any]]:
        """`GET /jobs` as the bridge answers it."""
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        answer = requests.get(f"{self.api_url}jobs", headers=headers, timeout=HTTP_TIMEOUT_S)
        answer.raise_for_status()
        views: list[dict[str, Any]] = answer.json()
        return views

    def settled_jobs(self) -> list[dict[str, Any]]:
        """`GET /jobs` of a cluster at rest: the simulator has nothing left to do (no
        allocation on its way, no batch run ending) and the bridge's view shows it."""
        wait_until_sync(
            lambda: simulator_idle(self.simulator),
            timeout_s=HTTP_TIMEOUT_S,
            what="the simulator at rest",
        )
        self.in_sync()
        return self.jobs()

    def in_sync(self) -> None:
        """Until the bridge's view reflects everything Nomad holds now."""
        target = int(
            requests.get(f"{self.nomad_url}/v1/jobs", timeout=HTTP_TIMEOUT_S).headers[
                "X-Nomad-Index"
            ]
        )

        def caught_up() -> bool:
            ready = requests.get(f"{self.origin}/ready", timeout=HTTP_TIMEOUT_S)
            return ready.status_code == 200 and ready.json()["nomadIndex"] >= target

        wait_until_sync(
            caught_up, timeout_s=HTTP_TIMEOUT_S, what=f"the bridge's view at Nomad's {target}"
        )

    def close(self) -> None:
        for stop in reversed(self._stop):
            self.thread.run(stop())


def start_stage(
    thread: LoopThread,
    jobs: Iterable[dict[str, Any]],
    settings: BridgeSettings | None = None,
    *,
    racing_writer: bool = False,
) -> Stage:
    """A simulator holding `jobs`, and a bridge in front of it, once the bridge is ready."""
    settings = settings or BridgeSettings()
    simulator = Simulator(fast_config())
    stops: list[Callable[[], Coroutine[Any, Any, None]]] = []

    async def start() -> tuple[str, str]:
        for spec in jobs:
            simulator.register_job_spec(spec)
        server = SimServer(simulator)
        await server.start("127.0.0.1", 0)
        stops.append(server.stop)
        nomad_url = server.url
        if racing_writer:
            proxy = RacingWriter(server.url)
            nomad_url = await proxy.start()
            stops.append(proxy.stop)
        nomad = NomadSettings(addr=nomad_url, token=None, region=None, namespace="default")
        runner = BridgeRunner(create_app(settings, nomad), access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        stops.append(runner.cleanup)
        return server.url, f"http://127.0.0.1:{runner.addresses[0][1]}"

    try:
        nomad_url, origin = thread.run(start())
    except BaseException:
        for stop in reversed(stops):
            thread.run(stop())
        raise
    stage = Stage(thread, simulator, nomad_url, origin, settings.base_path, stops)
    try:
        stage.in_sync()
    except BaseException:
        stage.close()
        raise
    return stage


MakeStage = Callable[..., Stage]
"""The `make_stage` fixture: `make_stage(jobs, settings=None, racing_writer=False)`."""
