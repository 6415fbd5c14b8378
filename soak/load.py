"""The soak's clients: readers, long pollers and mutators, each answer recorded.

Counts only ever go up by one or are set to 0..3, so no request is refused for a count
below zero: every 4xx or 5xx a client sees is either explained by an injected fault or an
unexplained error.
"""

from __future__ import annotations

import asyncio
import json
import random
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from soak.nomad import SOAK_GROUPS, SOAK_JOB_PREFIX

READ_TIMEOUT_S = 10.0
MUTATION_TIMEOUT_S = 60.0
LONG_POLL_WAIT_S = 10.0
LONG_POLL_TIMEOUT_S = LONG_POLL_WAIT_S * 17 / 16 + READ_TIMEOUT_S
COUNT_CAP = 4
BULK_ROUTES = frozenset({"POST /jobs/startall", "POST /jobs/stopall"})


@dataclass(frozen=True, slots=True)
class Outcome:
    """One request that did not get a 200: when, where, and what came back."""

    route: str
    status: int  # 0: no answer at all (connection error or client timeout)
    started_s: float
    ended_s: float
    detail: str


@dataclass
class Recorder:
    statuses: Counter[tuple[str, int]] = field(default_factory=Counter)
    latencies_s: dict[str, list[float]] = field(default_factory=dict)
    errors: list[Outcome] = field(default_factory=list)
    wakeups: int = 0
    ready: list[tuple[float, int]] = field(default_factory=list)
    bulk: list[tuple[float, float, int]] = field(default_factory=list)
    """Every startall/stopall answer, whatever its status: (started, ended, status)."""

    def add(self, route: str, status: int, started_s: float, ended_s: float, detail: str) -> None:
        self.statuses[(route, status)] += 1
        if route in BULK_ROUTES:
            self.bulk.append((started_s, ended_s, status))
        if status == 200:
            self.latencies_s.setdefault(route, []).append(ended_s - started_s)
        else:
            self.errors.append(Outcome(route, status, started_s, ended_s, detail[:300]))


class Clients:
    """Every client of the soak, sharing one session to the bridge."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        url: str,
        token: str,
        jobs: list[str],
        recorder: Recorder,
        rng: random.Random,
    ) -> None:
        self._session = session
        self._url = url
        self._headers = {"Authorization": f"Bearer {token}"}
        self._jobs = jobs
        self._soak_jobs = [job for job in jobs if job.startswith(SOAK_JOB_PREFIX)]
        self._recorder = recorder
        self._rng = rng
        self._stopping = asyncio.Event()

    def stop(self) -> None:
        self._stopping.set()

    async def request(
        self,
        method: str,
        route: str,
        path: str,
        *,
        timeout_s: float,
        body: Any = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, Any, dict[str, str]]:
        loop = asyncio.get_running_loop()
        started = loop.time()
        try:
            async with self._session.request(
                method,
                self._url + path,
                json=body,
                headers=self._headers | (headers or {}),
                timeout=aiohttp.ClientTimeout(total=timeout_s),
            ) as response:
                text = await response.text()
                status, answer_headers = response.status, dict(response.headers)
        except (aiohttp.ClientError, TimeoutError) as error:
            self._recorder.add(route, 0, started, loop.time(), f"{type(error).__name__}: {error}")
            return 0, None, {}
        self._recorder.add(route, status, started, loop.time(), text)
        return status, (text if status != 200 else _json(text)), answer_headers

    async def _pause(self, low_s: float, high_s: float) -> bool:
        """Sleep a random while; False once the soak is ending."""
        try:
            await asyncio.wait_for(self._stopping.wait(), self._rng.uniform(low_s, high_s))
        except TimeoutError:
            return True
        return False

    async def reader(self) -> None:
        while await self._pause(0.05, 0.15):
            if self._rng.random() < 0.7:
                await self.request("GET", "GET /jobs", "/jobs", timeout_s=READ_TIMEOUT_S)
            else:
                job = self._rng.choice(self._jobs)
                await self.request(
                    "GET", "GET /job/{jobName}/summary", f"/job/{job}/summary",
                    timeout_s=READ_TIMEOUT_S,
                )  # fmt: skip

    async def long_poller(self) -> None:
        job = self._rng.choice([None, *self._jobs])
        path, route = ("/jobs", "GET /jobs") if job is None else (
            f"/job/{job}/summary", "GET /job/{jobName}/summary"
        )  # fmt: skip
        index = 0
        while not self._stopping.is_set():
            status, _, headers = await self.request(
                "GET", f"{route} (long poll)", f"{path}?wait={LONG_POLL_WAIT_S:g}s",
                timeout_s=LONG_POLL_TIMEOUT_S, headers={"waitIndex": str(index)},
            )  # fmt: skip
            if status != 200:
                await self._pause(0.5, 1.0)
                continue
            new = int(headers["waitIndex"])
            if new != index:
                self._recorder.wakeups += 1
            index = 0 if new < index else new  # Nomad's index went back: start again

    async def mutator(self) -> None:
        counts: dict[tuple[str, str], int] = {}
        while await self._pause(0.2, 0.6):
            job = self._rng.choice(self._soak_jobs)
            group = self._rng.choice(SOAK_GROUPS)
            roll = self._rng.random()
            if roll < 0.30 and counts.get((job, group), 1) < COUNT_CAP:
                body = {"jobID": job, "taskGroup": group, "count": 1}
                route = "POST /jobs/updatecounts"
            elif roll < 0.35:
                body = {"jobID": job, "taskGroup": group, "count": 0}  # 0 sets 0
                route = "POST /jobs/updatecounts"
            elif roll < 0.65:
                body = {"jobID": job, "taskGroup": group, "count": self._rng.randint(0, 3)}
                route = "POST /jobs/settaskgroupcount"
            else:
                await self._state_change(roll, job)
                continue
            path = route.split(" ", 1)[1]
            status, answer, _ = await self.request(
                "POST", route, path, timeout_s=MUTATION_TIMEOUT_S, body=body
            )
            if status == 200:
                counts[(job, group)] = int(answer["count"])

    async def _state_change(self, roll: float, job: str) -> None:
        if roll < 0.81:
            await self.request(
                "POST", "POST /jobs/start/{jobName}", f"/jobs/start/{job}",
                timeout_s=MUTATION_TIMEOUT_S,
            )  # fmt: skip
        elif roll < 0.97:
            await self.request(
                "POST", "POST /jobs/stop/{jobName}", f"/jobs/stop/{job}",
                timeout_s=MUTATION_TIMEOUT_S,
            )  # fmt: skip
        elif roll < 0.99:
            await self.request(
                "POST", "POST /jobs/startall", "/jobs/startall", timeout_s=MUTATION_TIMEOUT_S
            )
        else:
            await self.request(
                "POST", "POST /jobs/stopall", "/jobs/stopall", timeout_s=MUTATION_TIMEOUT_S
            )

    async def bulk_prober(self, every_s: float) -> None:
        """A startall every `every_s`, whatever Nomad is doing: how long bulk calls take in
        every fault (the mutators' own are too rare to tell)."""
        while await self._pause(every_s, every_s):
            await self.request(
                "POST", "POST /jobs/startall", "/jobs/startall", timeout_s=MUTATION_TIMEOUT_S
            )

    async def ready_sampler(self, every_s: float) -> None:
        loop = asyncio.get_running_loop()
        while await self._pause(every_s, every_s):
            asked_at = loop.time()
            try:
                async with self._session.get(
                    self._url + "/ready", timeout=aiohttp.ClientTimeout(total=READ_TIMEOUT_S)
                ) as response:
                    await response.read()
                    status = response.status
            except (aiohttp.ClientError, TimeoutError):
                status = 0
            self._recorder.ready.append((asked_at, status))


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text
