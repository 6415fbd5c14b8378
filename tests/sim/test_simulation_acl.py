"""ACL policies on the job, variable, parse and GC endpoints (the event stream's are in
test_contract_http_events_acl): client tokens get what their namespace rules grant.

Sources: acl/policy.go (expandNamespacePolicy, expandVariablesCapabilities); acl/acl.go
(NewACL merges rules per namespace pattern, deny wins; matchingCapabilitySet: exact name,
else the closest glob; AllowNamespaceOperation with `*`: any namespace); nomad/job_endpoint.go
(List: list-jobs, filtered per namespace; GetJob and friends: read-job; Register and
Deregister: submit-job; Scale: scale-job or submit-job); command/agent/job_endpoint.go
(jobsParse: parse-job or submit-job); nomad/variables_endpoint.go (read, write, destroy,
list per path); nomad/system_endpoint.go (GC: management).
"""

from __future__ import annotations

from typing import Any

import pytest

from nomad_bridge.sim import SimConfig, Simulator
from nomad_bridge.sim.testing import batch_job
from tests.sim.harness import Answer, NomadHttp, config_with

MANAGEMENT_TOKEN = "acl-root"


@pytest.fixture
def sim_config(sim_config: SimConfig) -> SimConfig:
    return config_with(
        sim_config, acl_token=MANAGEMENT_TOKEN, namespaces=["default", "team"], eval_delay_s=60.0
    )


class As:
    """Requests made with one token."""

    def __init__(self, http: NomadHttp, token: str) -> None:
        self.http = http
        self.headers = {"X-Nomad-Token": token}

    async def call(self, method: str, path: str, **kwargs: Any) -> Answer:
        return await self.http.call(method, path, headers=self.headers, **kwargs)


def _client(simulator: Simulator, http: NomadHttp, rules: dict[str, Any]) -> As:
    name = f"p{len(simulator.acl.policies)}"
    simulator.controls.set_acl_policy(name, rules)
    return As(http, simulator.controls.create_acl_token([name]))


async def test_read_reads_and_write_writes(simulator: Simulator, http: NomadHttp) -> None:
    """`policy = "read"` lists and reads jobs but may not register; `write` may."""
    simulator.register_job_spec(batch_job("existing"))
    reader = _client(simulator, http, {"default": "read"})
    writer = _client(simulator, http, {"default": "write"})
    job = {"Job": batch_job("new")}

    assert (await reader.call("GET", "/v1/jobs")).status == 200
    assert (await reader.call("GET", "/v1/job/existing/summary")).status == 200
    refused = await reader.call("PUT", "/v1/jobs", body=job)
    assert (refused.status, refused.text) == (403, "Permission denied")
    assert (await writer.call("PUT", "/v1/jobs", body=job)).status == 200


async def test_an_exact_namespace_beats_a_glob(simulator: Simulator, http: NomadHttp) -> None:
    """With `*` = write and `team` = read, `team` gets read only: the exact rule wins."""
    token = _client(simulator, http, {"*": "write", "team": "read"})

    in_default = await token.call("PUT", "/v1/jobs", body={"Job": batch_job("a")})
    in_team = await token.call(
        "PUT", "/v1/jobs", body={"Job": batch_job("b")}, params={"namespace": "team"}
    )

    assert (in_default.status, in_team.status) == (200, 403)


async def test_deny_wins_over_other_policies(simulator: Simulator, http: NomadHttp) -> None:
    """A `deny` for a namespace in one policy beats what another policy grants there."""
    simulator.controls.set_acl_policy("grant", {"default": "write"})
    simulator.controls.set_acl_policy("block", {"default": "deny"})
    token = As(http, simulator.controls.create_acl_token(["grant", "block"]))

    assert (await token.call("GET", "/v1/jobs")).status == 403


async def test_listing_every_namespace_shows_only_the_allowed_ones(
    simulator: Simulator, http: NomadHttp
) -> None:
    """`namespace=*` is allowed when any namespace grants list-jobs, and lists those only."""
    simulator.register_job_spec(batch_job("mine"), namespace="team")
    simulator.register_job_spec(batch_job("theirs"))
    token = _client(simulator, http, {"team": ["list-jobs"]})

    listed = await token.call("GET", "/v1/jobs", params={"namespace": "*"})

    assert [job["ID"] for job in listed.json()] == ["mine"]


async def test_scaling_takes_scale_job_or_submit_job(simulator: Simulator, http: NomadHttp) -> None:
    """`policy = "scale"` may scale (scale-job) and read the scale status
    (read-job-scaling) without read-job."""
    simulator.register_job_spec(batch_job("sized"))
    scaler = _client(simulator, http, {"default": "scale"})
    body = {"Count": 2, "Target": {"Group": "main"}}

    assert (await scaler.call("POST", "/v1/job/sized/scale", body=body)).status == 200
    assert (await scaler.call("GET", "/v1/job/sized/scale")).status == 200
    assert (await scaler.call("GET", "/v1/job/sized")).status == 403


async def test_variables_follow_their_path_rules(simulator: Simulator, http: NomadHttp) -> None:
    """Variables need an explicit `variables` path rule (the shorthand grants none): `read`
    implies `list`, and listing shows only the paths the token may list."""
    admin = As(http, MANAGEMENT_TOKEN)
    for path in ("app/config", "secret/key"):
        await admin.call("PUT", f"/v1/var/{path}", body={"Items": {"k": "v"}})
    token = _client(
        simulator, http, {"default": {"policy": "write", "variables": {"app/*": ["read"]}}}
    )

    assert (await token.call("GET", "/v1/var/app/config")).status == 200
    assert (await token.call("GET", "/v1/var/secret/key")).status == 403
    write = await token.call("PUT", "/v1/var/app/config", body={"Items": {"k": "w"}})
    assert write.status == 403
    listed = await token.call("GET", "/v1/vars")
    assert [v["Path"] for v in listed.json()] == ["app/config"]


async def test_parse_and_gc(simulator: Simulator, http: NomadHttp) -> None:
    """Parsing takes parse-job (in `read`) or submit-job; a forced GC takes management."""
    reader = _client(simulator, http, {"default": "read"})
    hcl = {"JobHCL": 'job "p" {\n group "g" {\n task "t" {\n driver = "docker"\n }\n }\n}\n'}

    assert (await reader.call("POST", "/v1/jobs/parse", body=hcl)).status == 200
    assert (await reader.call("PUT", "/v1/system/gc")).status == 403
    assert (await As(http, MANAGEMENT_TOKEN).call("PUT", "/v1/system/gc")).status == 200
