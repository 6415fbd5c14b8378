"""What the real-Nomad tests share besides tests/support.py: the Nomad under test (read from
the standard environment), its API called directly, the jobs one test owns, and waiting on
a real cluster (far slower than the simulator: `CONVERGE_TIMEOUT_S`)."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import aiohttp
from yarl import URL

from nomad_bridge.nomad import NomadSettings
from tests.support import BridgeClient, job_spec, wait_until

SKIP_REASON = "NOMAD_ADDR not set: no real Nomad to test against"
REAL_NOMAD = bool(os.environ.get("NOMAD_ADDR"))
DESTRUCTIVE = os.environ.get("NOMAD_BRIDGE_DESTRUCTIVE") == "1"
DRIVER = os.environ.get("NOMAD_BRIDGE_TEST_DRIVER", "raw_exec")
# How long a real cluster may take to converge (placements, image pulls, blocking queries).
CONVERGE_TIMEOUT_S = float(os.environ.get("NOMAD_BRIDGE_TEST_TIMEOUT_S", "90"))
# A test waits for several such convergences: more than pytest's default per-test timeout.
TEST_TIMEOUT_S = 4 * CONVERGE_TIMEOUT_S
POLL_INTERVAL_S = 0.25  # a real cluster: poll gently
NOMAD_REQUEST_TIMEOUT_S = 30.0
TEST_PREFIX = "nomad-bridge-test"
SUMMARY_KEYS = frozenset({"queued", "complete", "failed", "running", "starting", "lost"})

View = dict[str, Any]


async def converged(condition: Callable[[], Any], what: str | Callable[[], str]) -> None:
    """`support.wait_until` paced for a real cluster: up to `CONVERGE_TIMEOUT_S`, gently."""
    await wait_until(condition, timeout_s=CONVERGE_TIMEOUT_S, what=what, interval_s=POLL_INTERVAL_S)


def job_path(job_id: str) -> str:
    return quote(job_id, safe="")


def sleep_task() -> dict[str, Any]:
    """A task any dev agent can run: /bin/sleep with raw_exec, or busybox with docker."""
    if DRIVER == "docker":
        config: dict[str, Any] = {"image": "busybox:1.36", "command": "sleep", "args": ["3600"]}
    else:
        config = {"command": "/bin/sleep", "args": ["3600"]}
    return {
        "Name": "sleep",
        "Driver": DRIVER,
        "Config": config,
        "Resources": {"CPU": 20, "MemoryMB": 16},
        "KillTimeout": 1_000_000_000,  # 1 s, in nanoseconds as the API wants
    }


def runnable_job(job_id: str, groups: Mapping[str, int], meta: Mapping[str, str]) -> dict[str, Any]:
    """`support.job_spec` made runnable on a real client: the sleep task, a small disk."""
    spec = job_spec(job_id, groups, Datacenters=["*"], Meta=dict(meta))
    for group in spec["TaskGroups"]:
        group["EphemeralDisk"] = {"SizeMB": 10}
        group["Tasks"] = [sleep_task()]
    return spec


class NomadAPI:
    """Nomad's HTTP API called directly: how tests set up and check, independently of the bridge."""

    def __init__(self, session: aiohttp.ClientSession, settings: NomadSettings) -> None:
        self._session = session
        self._settings = settings

    def url(self, path: str) -> URL:
        base = self._settings.base_url
        return base.with_path(base.raw_path.rstrip("/") + path, encoded=True)

    def _params(self, extra: Mapping[str, str]) -> dict[str, str]:
        params = {"namespace": self._settings.namespace, **extra}
        if self._settings.region:
            params["region"] = self._settings.region
        return params

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        json: Any = None,
    ) -> tuple[int, Any]:
        async with self._session.request(
            method,
            self.url(path),
            params=self._params(params or {}),
            json=json,
            server_hostname=self._settings.tls_server_name,
        ) as response:
            text = await response.text()
            if response.content_type == "application/json" and text:
                return response.status, await response.json()
            return response.status, text

    async def register(self, spec: Mapping[str, Any]) -> dict[str, Any]:
        status, body = await self.request("PUT", "/v1/jobs", json={"Job": spec})
        assert status == 200, f"Nomad refused to register {spec['ID']}: {status} {body}"
        return dict(body)

    async def job(self, job_id: str) -> dict[str, Any] | None:
        status, body = await self.request("GET", f"/v1/job/{job_path(job_id)}")
        if status == 404:
            return None
        assert status == 200, f"{status} {body}"
        return dict(body)

    async def existing_job(self, job_id: str) -> dict[str, Any]:
        job = await self.job(job_id)
        assert job is not None, f"Nomad has no job {job_id}"
        return job

    async def group_count(self, job_id: str, group: str) -> int:
        job = await self.existing_job(job_id)
        return int(next(g["Count"] for g in job["TaskGroups"] if g["Name"] == group))

    async def stop(self, job_id: str) -> None:
        status, body = await self.request("DELETE", f"/v1/job/{job_path(job_id)}")
        assert status == 200, f"{status} {body}"

    async def purge(self, job_id: str) -> None:
        status, body = await self.request(
            "DELETE", f"/v1/job/{job_path(job_id)}", params={"purge": "true"}
        )
        assert status == 200, f"{status} {body}"

    async def variable_paths(self, prefix: str) -> list[str]:
        status, body = await self.request("GET", "/v1/vars", params={"prefix": prefix})
        assert status == 200, f"{status} {body}"
        return [str(entry["Path"]) for entry in body]

    async def delete_variable(self, path: str) -> None:
        # Variable paths use only [A-Za-z0-9-_~/]: they go into the URL as they are.
        status, body = await self.request("DELETE", f"/v1/var/{path}")
        assert status in (200, 204), f"{status} {body}"


@dataclass
class OwnJobs:
    """The jobs one test registers in Nomad; each is purged when the test ends."""

    nomad: NomadAPI
    run_id: str
    autostart_key: str
    bycluster_key: str
    specs: dict[str, dict[str, Any]] = field(default_factory=dict)

    def name(self, stem: str) -> str:
        return f"nb-test-{self.run_id}-{stem}"

    async def register(
        self,
        stem: str,
        groups: Mapping[str, int],
        *,
        autostart: str | None = None,
        bycluster: str | None = None,
    ) -> str:
        """Register `nb-test-<run>-<stem>`; flags are Meta values under this run's keys."""
        job_id = self.name(stem)
        meta = {"nb-test-run": self.run_id}
        if autostart is not None:
            meta[self.autostart_key] = autostart
        if bycluster is not None:
            meta[self.bycluster_key] = bycluster
        spec = runnable_job(job_id, groups, meta)
        self.specs[job_id] = spec
        await self.nomad.register(spec)
        return job_id

    async def set_counts(self, job_id: str, groups: Mapping[str, int]) -> None:
        """Re-register the job with other counts, directly in Nomad (not through the bridge)."""
        spec = self.specs[job_id]
        for group in spec["TaskGroups"]:
            group["Count"] = groups.get(group["Name"], group["Count"])
        await self.nomad.register(spec)


async def delete_variables_under(nomad: NomadAPI, prefix: str) -> None:
    for path in await nomad.variable_paths(prefix):
        await nomad.delete_variable(path)


async def wait_ready(bridge: BridgeClient) -> None:
    async def ready() -> bool:
        return (await bridge.get("/ready")).status == 200

    await converged(ready, "the bridge syncing with Nomad")


async def view_of(bridge: BridgeClient, job_id: str) -> View | None:
    """The job's view as the bridge serves it, or None while the bridge does not list it."""
    response = await bridge.get(f"/job/{job_path(job_id)}/summary")
    if response.status == 404:
        return None
    assert response.status == 200, await response.text()
    return dict(await response.json())


async def wait_for_view(
    bridge: BridgeClient,
    job_id: str,
    predicate: Callable[[View], bool] = lambda _view: True,
    what: str = "the job's view",
) -> View:
    """Wait until the bridge lists the job with a view satisfying `predicate`."""
    seen: list[View] = []

    async def holds() -> bool:
        view = await view_of(bridge, job_id)
        if view is None:
            return False
        seen[:] = [view]
        return predicate(view)

    await converged(holds, lambda: f"{what} of {job_id} (last seen: {seen[-1] if seen else None})")
    return seen[-1]


def group_counts(view: View) -> list[tuple[str, int]]:
    return [(group["name"], group["count"]) for group in view["taskGroups"]]


def summary(view: View, group: str) -> dict[str, int]:
    return dict(next(g["summary"] for g in view["taskGroups"] if g["name"] == group))
