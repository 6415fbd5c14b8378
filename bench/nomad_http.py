"""Talking to the simulated Nomad directly: its test controls and the Nomad API calls a
client without the bridge would make."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import aiohttp

JsonObject = dict[str, Any]


class SimNomad:
    """One simulator: request counters under `/_sim/`, and plain Nomad API calls."""

    def __init__(self, http: aiohttp.ClientSession, url: str) -> None:
        self._http = http
        self.url = url

    async def request_counts(self) -> Counter[str]:
        """Nomad API requests received per "METHOD /path" since the last reset."""
        async with self._http.get(f"{self.url}/_sim/requests") as answer:
            answer.raise_for_status()
            return Counter(await answer.json())

    async def reset_counts(self) -> None:
        async with self._http.delete(f"{self.url}/_sim/requests") as answer:
            answer.raise_for_status()

    async def set_latency(self, seconds: float) -> None:
        """Delay every Nomad API request by `seconds` (the simulator's test control)."""
        async with self._http.post(f"{self.url}/_sim/latency", json={"seconds": seconds}) as r:
            r.raise_for_status()

    async def read_job(self, job_id: str) -> JsonObject:
        async with self._http.get(f"{self.url}/v1/job/{job_id}") as answer:
            answer.raise_for_status()
            job: JsonObject = await answer.json()
            return job

    async def register(self, job: JsonObject, *, enforce_index: int | None = None) -> JsonObject:
        body: JsonObject = {"Job": job}
        if enforce_index is not None:
            body |= {"EnforceIndex": True, "JobModifyIndex": enforce_index}
        async with self._http.put(f"{self.url}/v1/job/{job['ID']}", data=json.dumps(body)) as r:
            r.raise_for_status()
            result: JsonObject = await r.json()
            return result

    async def stop(self, job_id: str) -> None:
        async with self._http.delete(f"{self.url}/v1/job/{job_id}") as answer:
            answer.raise_for_status()


def with_group_count(job: JsonObject, group: str, count: int) -> JsonObject:
    """A copy of a Nomad job with one task group's count changed."""
    groups = [{**g, "Count": count} if g["Name"] == group else g for g in job["TaskGroups"]]
    return {**job, "TaskGroups": groups}
