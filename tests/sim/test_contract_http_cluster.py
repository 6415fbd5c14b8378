"""Contract: namespaces, regions, ACL tokens and status endpoints behave like Nomad v1.9.x.

The simulator here has two namespaces, `default` and `other`; the ACL tests run a simulator
with a management token configured. Sources: api-docs/index.mdx ("Namespaces", "ACLs",
"Authentication", "Cross-Region Requests"); api-docs/status.mdx; api-docs/regions.mdx;
command/agent/http.go (wrap, parseToken, parseNamespace); command/agent/job_endpoint.go
(namespaceForJob); nomad/rpc.go (forward, ErrNoRegionPath); nomad/job_endpoint.go.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp
import pytest

from tests.sim.harness import NomadHttp, config_with, read_job, register
from tests.support import job_spec

OTHER = "other"
LINE_TIMEOUT_S = 10.0  # an event is a line at once; the bound only ends a broken test
ACL_TOKEN = "s3cret"


@pytest.fixture
def sim_config(sim_config: Any) -> Any:
    return config_with(sim_config, namespaces=["default", OTHER])


# --- namespaces ------------------------------------------------------------------------------


async def test_list_in_another_namespace_sees_none_of_defaults_jobs(http: NomadHttp) -> None:
    """`GET /v1/jobs?namespace=other` lists only that namespace's jobs; default's are absent.

    Source: api-docs/jobs.mdx "List Jobs" (`namespace`); nomad/job_endpoint.go Job.List
    (JobsByNamespace).
    """
    await register(http, job_spec("ns-default-job"))

    answer = await http.get("/v1/jobs", params={"namespace": OTHER})

    assert answer.status == 200
    assert answer.json() == []


async def test_register_with_namespace_query_puts_the_job_there(http: NomadHttp) -> None:
    """A register with `?namespace=other` stores the job in `other`: readable there with
    Namespace "other", and 404 in default.

    Source: command/agent/job_endpoint.go namespaceForJob (query parameter first);
    api-docs/index.mdx "Namespaces".
    """
    await register(http, job_spec("ns-job"), params={"namespace": OTHER})

    there = await http.get("/v1/job/ns-job", params={"namespace": OTHER})
    here = await http.get("/v1/job/ns-job")

    assert there.status == 200
    assert there.json()["Namespace"] == OTHER
    assert here.status == 404
    assert here.text == "job not found"


async def test_register_uses_the_jobs_own_namespace_without_a_query(http: NomadHttp) -> None:
    """Without `?namespace=`, a register uses Job.Namespace from the body.

    Source: command/agent/job_endpoint.go namespaceForJob (query, then request body
    Namespace, then Job.Namespace, then "default").
    """
    job = {**job_spec("ns-body"), "Namespace": OTHER}

    await register(http, job)

    listed = (await http.get("/v1/jobs", params={"namespace": OTHER})).json()
    assert [(s["ID"], s["Namespace"]) for s in listed] == [("ns-body", OTHER)]


async def test_same_id_in_two_namespaces_is_two_jobs(http: NomadHttp) -> None:
    """Jobs are keyed by (namespace, ID): the same ID in two namespaces are independent jobs.

    Source: api-docs/index.mdx "Namespaces"; nomad/state/schema.go (jobs id index is
    Namespace + ID).
    """
    await register(http, job_spec("ns-twin", {"web": 1}))
    await register(http, job_spec("ns-twin", {"web": 1}), params={"namespace": OTHER})
    await register(http, job_spec("ns-twin", {"web": 3}), params={"namespace": OTHER})

    mine = await read_job(http, "ns-twin")
    theirs = (await http.get("/v1/job/ns-twin", params={"namespace": OTHER})).json()

    assert (mine["Version"], mine["TaskGroups"][0]["Count"]) == (0, 1)
    assert (theirs["Version"], theirs["TaskGroups"][0]["Count"]) == (1, 3)


async def test_wildcard_namespace_lists_every_namespace(http: NomadHttp) -> None:
    """`namespace=*` lists the jobs of every namespace, ordered by (Namespace, ID).

    Source: api-docs/jobs.mdx "List Jobs" (`*`); nomad/job_endpoint.go Job.List
    (state.Jobs over the (Namespace, ID) index).
    """
    await register(http, job_spec("ns-b"))
    await register(http, job_spec("ns-a"), params={"namespace": OTHER})

    listed = (await http.get("/v1/jobs", params={"namespace": "*"})).json()

    assert [(s["Namespace"], s["ID"]) for s in listed] == [("default", "ns-b"), (OTHER, "ns-a")]


async def test_register_into_a_missing_namespace_is_500(http: NomadHttp) -> None:
    """Registering into a namespace that does not exist is 500
    `job "<id>" is in nonexistent namespace "<ns>"`.

    Source: nomad/job_endpoint_hooks.go jobNamespaceConstraintCheckHook.Validate (and
    nomad/state/state_store.go upsertJobImpl); command/agent/http.go wrap (uncoded → 500).
    """
    answer = await http.put(
        "/v1/jobs", body={"Job": job_spec("ns-lost")}, params={"namespace": "nope"}
    )

    assert answer.status == 500
    assert answer.text == 'job "ns-lost" is in nonexistent namespace "nope"'


async def test_variables_are_per_namespace(http: NomadHttp) -> None:
    """A variable written in `other` is not visible in default.

    Source: api-docs/variables/variables.mdx (`namespace`); nomad/state/
    state_store_variables.go (keyed by Namespace + Path).
    """
    written = await http.put(
        "/v1/var/ns/secret", body={"Items": {"k": "v"}}, params={"namespace": OTHER}
    )

    assert written.status == 200, written.text
    assert written.json()["Namespace"] == OTHER
    assert (await http.get("/v1/var/ns/secret")).status == 404
    there = await http.get("/v1/var/ns/secret", params={"namespace": OTHER})
    assert there.json()["Items"] == {"k": "v"}


# --- regions and status ----------------------------------------------------------------------


async def test_unknown_region_is_500_no_path_to_region(http: NomadHttp) -> None:
    """A request for a region the cluster does not know is 500 `No path to region`.

    Source: nomad/rpc.go forward/forwardRegion (structs.ErrNoRegionPath = "No path to
    region"); command/agent/http.go wrap (uncoded → 500).
    """
    answer = await http.get("/v1/jobs", params={"region": "mars"})

    assert answer.status == 500
    assert answer.text == "No path to region"


async def test_own_region_by_name_is_served(http: NomadHttp) -> None:
    """Naming the agent's own region explicitly is served normally.

    Source: command/agent/http.go parseRegion; nomad/rpc.go forward (local region).
    """
    answer = await http.get("/v1/jobs", params={"region": "global"})

    assert answer.status == 200
    assert answer.json() == []


async def test_status_leader_is_a_json_address_string(http: NomadHttp) -> None:
    """GET /v1/status/leader answers the leader's RPC address as a JSON string "ip:port".

    Source: api-docs/status.mdx "Read Leader"; command/agent/status_endpoint.go
    StatusLeaderRequest.
    """
    answer = await http.get("/v1/status/leader")

    assert answer.status == 200
    leader = answer.json()
    assert isinstance(leader, str)
    host, _, port = leader.rpartition(":")
    assert host
    assert port.isdigit()


async def test_regions_lists_the_known_regions(http: NomadHttp) -> None:
    """GET /v1/regions answers a JSON array of region names.

    Source: api-docs/regions.mdx "List Regions"; command/agent/region_endpoint.go.
    """
    answer = await http.get("/v1/regions")

    assert answer.status == 200
    assert answer.json() == ["global"]


# --- ACL -------------------------------------------------------------------------------------


class TestAcl:
    """A simulator with ACLs on and one management token; anonymous has no policy."""

    @pytest.fixture
    def sim_config(self, sim_config: Any) -> Any:
        return config_with(sim_config, acl_token=ACL_TOKEN)

    async def test_missing_token_is_403_permission_denied(self, http: NomadHttp) -> None:
        """Without a token (anonymous, no policy) reads and writes are 403
        `Permission denied`.

        Source: api-docs/index.mdx "ACLs"; nomad/job_endpoint.go (ErrPermissionDenied);
        command/agent/http.go wrap (suffix "Permission denied" → 403).
        """
        for method, path, body in (
            ("GET", "/v1/jobs", None),
            ("GET", "/v1/job/x", None),
            ("PUT", "/v1/jobs", {"Job": job_spec("acl-anon")}),
            ("GET", "/v1/var/x", None),
        ):
            answer = await http.call(method, path, body=body)

            assert answer.status == 403, (method, path)
            assert answer.text == "Permission denied", (method, path)

    async def test_wrong_token_is_403_permission_denied(self, http: NomadHttp) -> None:
        """An unknown token gets the same 403 `Permission denied`.

        Source: nomad/job_endpoint.go (authErr → ErrPermissionDenied); command/agent/http.go
        wrap.
        """
        answer = await http.get("/v1/jobs", headers={"X-Nomad-Token": "wrong"})

        assert answer.status == 403
        assert answer.text == "Permission denied"

    async def test_denied_register_writes_nothing(self, http: NomadHttp) -> None:
        """A register refused for its token leaves no job behind.

        Source: nomad/job_endpoint.go Job.Register (ACL check before the Raft apply).
        """
        await http.put(
            "/v1/jobs", body={"Job": job_spec("acl-none")}, headers={"X-Nomad-Token": "wrong"}
        )

        listed = await http.get("/v1/jobs", headers={"X-Nomad-Token": ACL_TOKEN})
        assert listed.json() == []

    async def test_token_in_x_nomad_token_header_is_accepted(self, http: NomadHttp) -> None:
        """The token may be sent as `X-Nomad-Token`.

        Source: api-docs/index.mdx "Authentication"; command/agent/http.go parseToken.
        """
        headers = {"X-Nomad-Token": ACL_TOKEN}

        written = await http.put("/v1/jobs", body={"Job": job_spec("acl-x")}, headers=headers)
        listed = await http.get("/v1/jobs", headers=headers)

        assert written.status == 200, written.text
        assert [s["ID"] for s in listed.json()] == ["acl-x"]

    async def test_token_as_bearer_authorization_is_accepted(self, http: NomadHttp) -> None:
        """The token may be sent as `Authorization: Bearer <token>`.

        Source: api-docs/index.mdx "Authentication"; command/agent/http.go parseToken
        (scheme "bearer", case-insensitive).
        """
        headers = {"Authorization": f"Bearer {ACL_TOKEN}"}

        answer = await http.get("/v1/jobs", headers=headers)

        assert answer.status == 200, answer.text

    async def test_x_nomad_token_wins_over_authorization(self, http: NomadHttp) -> None:
        """With both headers, X-Nomad-Token is the one used.

        Source: command/agent/http.go parseToken (X-Nomad-Token checked first).
        """
        answer = await http.get(
            "/v1/jobs",
            headers={"X-Nomad-Token": "wrong", "Authorization": f"Bearer {ACL_TOKEN}"},
        )

        assert answer.status == 403

    async def test_event_stream_without_token_is_403_before_streaming(
        self, http: NomadHttp
    ) -> None:
        """The event stream refuses a missing token with a plain 403 body before any line.

        Source: nomad/event_endpoint.go (ACL check before subscribing);
        command/agent/event_endpoint.go EventStream (coded error → status).
        """
        answer = await http.get("/v1/event/stream", params={"topic": "Job"})

        assert answer.status == 403
        assert answer.text == "Permission denied"


async def test_event_stream_is_scoped_to_the_requested_namespace(http: NomadHttp) -> None:
    """The event stream delivers only the requested namespace's events (default `default`).

    Source: api-docs/events.mdx (`namespace`, default "default"); nomad/stream/
    subscription.go (filter on Namespace unless "*").
    """
    async with http.session.get(
        http.url("/v1/event/stream", {"topic": "Job"}),
        timeout=aiohttp.ClientTimeout(total=None),
    ) as resp:
        assert resp.status == 200
        await register(http, job_spec("ev-elsewhere"), params={"namespace": OTHER})
        await register(http, job_spec("ev-here"))
        keys: list[str] = []
        while "ev-here" not in keys:
            raw = await asyncio.wait_for(resp.content.readline(), LINE_TIMEOUT_S)
            line = json.loads(raw)
            keys += [e["Key"] for e in line.get("Events", [])]

    assert "ev-elsewhere" not in keys


async def test_list_in_an_unknown_namespace_is_empty(http: NomadHttp) -> None:
    """Listing jobs of a namespace that does not exist is 200 `[]` (the list does not check
    namespace existence).

    Source: nomad/job_endpoint.go Job.List (JobsByNamespace; no namespace lookup).
    """
    await register(http, job_spec("ns-visible"))

    answer = await http.get("/v1/jobs", params={"namespace": "nope"})

    assert answer.status == 200
    assert answer.json() == []
