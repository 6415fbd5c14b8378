"""Fixtures for end-to-end checks of the Cluster API against a REAL Nomad, never the simulator.

These tests run only when NOMAD_ADDR is set (each module skips itself otherwise). The Nomad
under test is named by the standard environment (NOMAD_ADDR, NOMAD_TOKEN, NOMAD_NAMESPACE,
NOMAD_REGION, NOMAD_CACERT, ...), read exactly as the bridge reads it. It needs:

- a client node able to run the test tasks: `raw_exec` running /bin/sleep (the default;
  `nomad agent -dev` enables raw_exec, other agents need `plugin "raw_exec" { config {
  enabled = true } }`), or `docker` running busybox with NOMAD_BRIDGE_TEST_DRIVER=docker;
- with ACLs on, a token with list-jobs, read-job, submit-job and scale-job in the namespace,
  and read/write/destroy/list on variables under `nomad-bridge-test/*`.

The compose stack (`docker compose up`) publishes such a Nomad on http://127.0.0.1:4646.

Safe on a shared cluster: every test registers its own uniquely named jobs
(`nb-test-<run>-<name>`), gives its bridge a unique autostart Meta key (so `startall` can only
ever match this test's jobs) and a unique definitions prefix, and on teardown purges its jobs
and deletes every variable under that prefix. `stopall`, which stops every job of the
namespace, runs only with NOMAD_BRIDGE_DESTRUCTIVE=1. Note that the in-process bridge, like any
bridge, saves a definition of every job of the namespace (under the test's prefix) while it runs.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable
from contextlib import AsyncExitStack

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer

from nomad_bridge.app import create_app
from nomad_bridge.nomad import NomadSettings
from nomad_bridge.settings import BridgeSettings
from tests.real_nomad.harness import (
    NOMAD_REQUEST_TIMEOUT_S,
    TEST_PREFIX,
    NomadAPI,
    OwnJobs,
    delete_variables_under,
    wait_ready,
)
from tests.support import BridgeClient, MakeBridge


@pytest.fixture
def run_id() -> str:
    return uuid.uuid4().hex[:10]


@pytest.fixture
def nomad_settings() -> NomadSettings:
    return NomadSettings()


@pytest.fixture
def bridge_settings(run_id: str) -> BridgeSettings:
    """This test's bridge: its own flag keys and definitions prefix, whatever BRIDGE_* says."""
    return BridgeSettings(
        base_path="/",
        tokens=[],
        tokens_file=None,
        autostart_key=f"nb-test-autostart-{run_id}",
        bycluster_key=f"nb-test-bycluster-{run_id}",
        definitions_prefix=f"{TEST_PREFIX}/{run_id}/jobs",
    )


@pytest.fixture
async def nomad(nomad_settings: NomadSettings) -> AsyncIterator[NomadAPI]:
    headers = {}
    if nomad_settings.token is not None:
        headers["X-Nomad-Token"] = nomad_settings.token.get_secret_value()
    context = nomad_settings.ssl_context()
    connector = aiohttp.TCPConnector(ssl=context) if context is not None else None
    async with aiohttp.ClientSession(
        headers=headers,
        connector=connector,
        timeout=aiohttp.ClientTimeout(total=NOMAD_REQUEST_TIMEOUT_S),
    ) as session:
        yield NomadAPI(session, nomad_settings)


@pytest.fixture
async def own_jobs(
    nomad: NomadAPI, run_id: str, bridge_settings: BridgeSettings
) -> AsyncIterator[OwnJobs]:
    jobs = OwnJobs(nomad, run_id, bridge_settings.autostart_key, bridge_settings.bycluster_key)
    yield jobs
    # The bridges (which depend on this fixture) are stopped by now: nothing writes any more.
    # Clean up everything, even past a failure, then report the first failure.
    prefix = bridge_settings.definitions_prefix.strip("/") + "/"
    cleanups: list[Awaitable[None]] = [nomad.purge(job_id) for job_id in jobs.specs]
    cleanups.append(delete_variables_under(nomad, prefix))
    failures = [r for r in await asyncio.gather(*cleanups, return_exceptions=True) if r]
    if failures:
        raise failures[0]


@pytest.fixture
async def make_bridge(
    bridge_settings: BridgeSettings, nomad_settings: NomadSettings, own_jobs: OwnJobs
) -> AsyncIterator[MakeBridge]:
    """Start bridge replicas in-process on loopback; they stop before `own_jobs` cleans up."""
    async with AsyncExitStack() as stack:

        async def start() -> BridgeClient:
            app = create_app(bridge_settings, nomad_settings)
            client = await stack.enter_async_context(TestClient(TestServer(app)))
            await wait_ready(client)
            return client

        yield start


@pytest.fixture
async def bridge(make_bridge: MakeBridge) -> BridgeClient:
    return await make_bridge()
