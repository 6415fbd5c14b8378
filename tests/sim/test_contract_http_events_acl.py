"""Contract: who may read the event stream, and what happens when that changes (Nomad v1.9.7).

With ACLs on, the stream authenticates the token, then checks every requested topic in the
namespace (every namespace for `*`): read-job for Job, Allocation, Evaluation, Deployment
and Service, a management token for anything else. A refusal is 403 `Permission denied`,
sent after the stream set its JSON content type. An open stream is closed when its token is
deleted or its policies no longer allow it, and ends at the next event once its token has
expired. Sources: nomad/event_endpoint.go (Event.stream: Authenticate → 403, ResolveACL,
validateACL, validateNsOp → 403; the expiry check before sending events); nomad/stream/
event_broker.go (subscriptions closed on ACL token, policy and role changes);
nomad/stream/subscription.go (ErrSubscriptionClosed); nomad/structs/errors.go;
api-docs/events.mdx (ACL table); acl/policy.go (expandNamespacePolicy); hashicorp/nomad
PR #24849 and PR #25089 (backported to 1.9.x: 403 for every refusal, `*` checked per
namespace).
"""

from __future__ import annotations

import pytest

from nomad_bridge.sim import SimConfig, SimServer, Simulator
from nomad_bridge.sim.testing import batch_job
from tests.sim.event_streams import of, open_stream, refused
from tests.sim.harness import config_with, nomad_http
from tests.support import wait_until

MANAGEMENT_TOKEN = "acl-root-token"
DENIED = (403, "application/json", "Permission denied")
CLOSED = b"subscription closed by server, client should resubscribe"
TOKEN_TTL_S = 1.0
JOB = [("topic", "Job")]


@pytest.fixture
def sim_config(sim_config: SimConfig) -> SimConfig:
    return config_with(sim_config, acl_token=MANAGEMENT_TOKEN, namespaces=["default", "team"])


def _token(simulator: Simulator, rules: dict[str, object], **kwargs: object) -> str:
    """A client token whose one policy has these namespace rules."""
    name = f"policy-{len(simulator.acl.policies)}"
    simulator.controls.set_acl_policy(name, rules)  # type: ignore[arg-type]
    return simulator.controls.create_acl_token([name], **kwargs)  # type: ignore[arg-type]


async def test_no_token_is_403_permission_denied(sim_server: SimServer) -> None:
    """Without a token the anonymous policy applies, which grants nothing: 403
    `Permission denied`, with the JSON content type the stream had already set.

    Source: nomad/event_endpoint.go validateACL → handleJsonResultError(ErrPermissionDenied,
    403); command/agent/event_endpoint.go (headers set before the RPC).
    """
    assert await refused(sim_server.url, JOB) == DENIED


async def test_an_unknown_token_is_403(sim_server: SimServer) -> None:
    """A token that does not exist fails authentication: 403 `Permission denied`.

    Source: nomad/event_endpoint.go (Authenticate error → ErrPermissionDenied, 403);
    nomad/auth/auth.go Authenticate (ErrTokenNotFound → ErrPermissionDenied).
    """
    assert await refused(sim_server.url, JOB, token="no-such-token") == DENIED


async def test_read_job_in_the_namespace_allows_the_stream(
    simulator: Simulator, sim_server: SimServer
) -> None:
    """A client token whose policy grants read-job in the namespace (`policy = "read"`
    includes it) may stream that namespace's Job events.

    Source: nomad/event_endpoint.go validateNsOp (TopicJob → NamespaceCapabilityReadJob);
    acl/policy.go expandNamespacePolicy ("read" includes read-job).
    """
    token = _token(simulator, {"default": "read"})

    async with open_stream(sim_server.url, JOB, token=token) as stream:
        assert await stream.line() == {}
        simulator.register_job_spec(batch_job("acl-allowed"))
        _, event = await stream.until(of("Job", "JobRegistered", "acl-allowed"))

    assert event["Namespace"] == "default"


async def test_a_token_lacking_read_job_is_refused_though_it_may_list_jobs(
    simulator: Simulator, sim_server: SimServer
) -> None:
    """read-job is what the stream needs: a token with list-jobs and submit-job but not
    read-job lists jobs (200) and is refused the stream (403 `Permission denied`).

    Source: nomad/event_endpoint.go validateNsOp; api-docs/events.mdx (Job:
    namespace:read-job); nomad/job_endpoint.go Job.List (list-jobs).
    """
    token = _token(simulator, {"default": ["list-jobs", "submit-job"]})
    async with nomad_http(sim_server.url) as http:
        listed = await http.get("/v1/jobs", headers={"X-Nomad-Token": token})

    assert listed.status == 200
    assert await refused(sim_server.url, JOB, token=token) == DENIED


async def test_read_job_in_another_namespace_does_not_count(
    simulator: Simulator, sim_server: SimServer
) -> None:
    """read-job is checked in the namespace asked for: a token allowed in `team` is refused
    `default` (the default namespace) and allowed `namespace=team`.

    Source: nomad/event_endpoint.go validateACL (AllowNsOp(namespace, read-job));
    command/agent/http.go parseNamespace (default "default").
    """
    token = _token(simulator, {"team": "read"})

    assert await refused(sim_server.url, JOB, token=token) == DENIED
    async with open_stream(sim_server.url, [*JOB, ("namespace", "team")], token=token) as stream:
        assert await stream.line() == {}


async def test_every_namespace_needs_read_job_in_each_of_them(
    simulator: Simulator, sim_server: SimServer
) -> None:
    """`namespace=*` is checked against every namespace there is: read-job in `default`
    alone is refused, a `*` rule granting it is allowed.

    Source: nomad/event_endpoint.go validateACL (AllNamespacesSentinel → NamespaceNames(),
    each validated); hashicorp/nomad PR #25089 "event stream: fix wildcard namespace bypass".
    """
    partial = _token(simulator, {"default": "read"})
    full = _token(simulator, {"*": "read"})
    every = [*JOB, ("namespace", "*")]

    assert await refused(sim_server.url, every, token=partial) == DENIED
    async with open_stream(sim_server.url, every, token=full) as stream:
        assert await stream.line() == {}


@pytest.mark.parametrize("topics", [[], [("topic", "*")], [("topic", "Node")]])
async def test_other_topics_need_a_management_token(
    simulator: Simulator, sim_server: SimServer, topics: list[tuple[str, str]]
) -> None:
    """No topic (all of them), `*` and any topic without a namespace capability need a
    management token (Node needs node:read): a read-job token is refused, management is not.

    Source: api-docs/events.mdx ("if you do not include a topic parameter all topics will be
    included by default, requiring a management token"); nomad/event_endpoint.go
    validateNsOp (default → IsManagement).
    """
    reader = _token(simulator, {"*": "write"})

    assert await refused(sim_server.url, topics, token=reader) == DENIED
    async with open_stream(sim_server.url, topics, token=MANAGEMENT_TOKEN) as stream:
        assert await stream.line() == {}


async def test_the_anonymous_policy_applies_without_a_token(
    simulator: Simulator, sim_server: SimServer
) -> None:
    """A request without a token is judged by the policy named `anonymous`.

    Source: nomad/structs/structs.go AnonymousACLToken (Policies: ["anonymous"]);
    nomad/auth/auth.go resolveTokenFromSnapshotCache (secretID "" → AnonymousACLToken).
    """
    simulator.controls.set_acl_policy("anonymous", {"default": "read"})

    async with open_stream(sim_server.url, JOB) as stream:
        assert await stream.line() == {}


async def test_deleting_a_token_closes_its_streams(
    simulator: Simulator, sim_server: SimServer
) -> None:
    """When a token is deleted, the streams it opened end: after the lines already sent
    comes `subscription closed by server, client should resubscribe` (no newline) and the
    response completes. Other tokens' streams go on.

    Source: nomad/stream/event_broker.go (ACL token events re-authenticate subscriptions
    and force-close the ones that fail); nomad/stream/subscription.go
    (ErrSubscriptionClosed); nomad/event_endpoint.go (handleJsonResultError);
    command/agent/http.go wrap (the error text is written after the streamed body).
    """
    doomed = _token(simulator, {"default": "read"})
    kept = _token(simulator, {"default": "read"})
    async with (
        open_stream(sim_server.url, JOB, token=doomed) as closing,
        open_stream(sim_server.url, JOB, token=kept) as staying,
    ):
        assert await closing.line() == await staying.line() == {}
        simulator.controls.delete_acl_token(doomed)
        ending = await closing.ending()
        simulator.register_job_spec(batch_job("acl-after"))
        await staying.until(of("Job", "JobRegistered", "acl-after"))

    assert ending == CLOSED
    assert await refused(sim_server.url, JOB, token=doomed) == DENIED


async def test_a_policy_change_that_removes_read_job_closes_the_stream(
    simulator: Simulator, sim_server: SimServer
) -> None:
    """Re-writing a policy so that it no longer grants read-job closes the streams of the
    tokens that use it.

    Source: nomad/stream/event_broker.go (ACL policy events re-check every subscription).
    """
    simulator.controls.set_acl_policy("readers", {"default": "read"})
    token = simulator.controls.create_acl_token(["readers"])
    async with open_stream(sim_server.url, JOB, token=token) as stream:
        assert await stream.line() == {}
        simulator.controls.set_acl_policy("readers", {"default": ["list-jobs"]})
        ending = await stream.ending()

    assert ending == CLOSED


async def test_an_expired_token_ends_the_stream_at_the_next_event(
    simulator: Simulator, sim_server: SimServer
) -> None:
    """A token's expiry does not close its stream by itself: the next event due ends it
    with `ACL token expired` instead of the event. New requests with it are refused.

    Source: nomad/event_endpoint.go Event.stream (expiry taken at subscribe time; "Ensure
    the token being used is not expired before we send any events" → ErrTokenExpired);
    nomad/structs/errors.go (errTokenExpired = "ACL token expired").
    """
    token = _token(simulator, {"default": "read"}, ttl_s=TOKEN_TTL_S)
    async with open_stream(sim_server.url, JOB, token=token) as stream:
        assert await stream.line() == {}

        async with nomad_http(sim_server.url) as http:

            async def expired() -> bool:
                listed = await http.get("/v1/jobs", headers={"X-Nomad-Token": token})
                return listed.status == 403

            await wait_until(expired, what="the token to expire")
        simulator.register_job_spec(batch_job("acl-late"))
        ending = await stream.ending()

    assert ending == b"ACL token expired"
    assert stream.events() == []
    assert await refused(sim_server.url, JOB, token=token) == DENIED
