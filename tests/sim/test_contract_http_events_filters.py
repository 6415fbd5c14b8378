"""Contract: which events the simulator's event stream sends, as Nomad v1.9.x's does:
`topic=Topic:Key` filters (a star, several topics, a key given twice) and `namespace`; a
`filter` expression is ignored.
Sources are named in each test's docstring; the overview is in test_contract_http_events.
"""

from __future__ import annotations

import pytest

from nomad_bridge.sim import SimConfig, SimServer
from tests.sim.event_streams import (
    of,
    open_stream,
    running_on,
    started,
)
from tests.sim.harness import NomadHttp, config_with, register
from tests.support import job_spec


@pytest.fixture
def sim_config(sim_config: SimConfig) -> SimConfig:
    """Two namespaces, so namespace filters have something to tell apart."""
    return config_with(sim_config, namespaces=["default", "team"])


# --- filters -------------------------------------------------------------------------------


async def test_topic_with_a_job_id_only_sees_that_job(
    http: NomadHttp, sim_server: SimServer
) -> None:
    """`topic=Job:<id>` delivers only events whose Key (or FilterKeys) is that job.

    Source: api-docs/events.mdx (topic filter `Topic:Key`); command/agent/event_endpoint.go
    parseTopic; nomad/stream/subscription.go filter (eventMatchesKey: Key or FilterKeys).
    """
    async with open_stream(sim_server.url, [("topic", "Job:ev-mine")]) as stream:
        await started(stream)
        await register(http, job_spec("ev-other"))
        await register(http, job_spec("ev-mine"))
        await stream.until(of("Job", "JobRegistered", "ev-mine"))
        await register(http, job_spec("ev-other", {"web": 2}))
        await stream.lines_for()

    assert {(e["Topic"], e["Key"]) for e in stream.events()} == {("Job", "ev-mine")}


@pytest.mark.parametrize("topic", ["Job", "Job:*"])
async def test_a_topic_alone_or_with_star_is_every_event_of_that_topic(
    http: NomadHttp, sim_server: SimServer, topic: str
) -> None:
    """`topic=Job` means `Job:*`: every Job event, none of the evaluations and allocations a
    register also writes.

    Source: command/agent/event_endpoint.go parseTopic ("infer wildcard if only given a
    topic"); nomad/stream/subscription.go filter.
    """
    async with open_stream(sim_server.url, [("topic", topic)]) as stream:
        await started(stream)
        await register(http, job_spec("ev-a"))
        await register(http, job_spec("ev-b"))
        await stream.until(of("Job", "JobRegistered", "ev-b"))
        await stream.lines_for()

    assert {e["Topic"] for e in stream.events()} == {"Job"}
    assert {"ev-a", "ev-b"} <= {e["Key"] for e in stream.events()}


async def test_several_topics_add_up(http: NomadHttp, sim_server: SimServer) -> None:
    """Repeated `topic` parameters add up: `Job:<id>` and `Allocation:<id>` give that job's
    Job and Allocation events, nothing else.

    Source: api-docs/events.mdx ("Multiple topics may be specified by passing multiple topic
    parameters"); command/agent/event_endpoint.go parseEventTopics.
    """
    params = [("topic", "Job:ev-both"), ("topic", "Allocation:ev-both")]
    async with open_stream(sim_server.url, params) as stream:
        await started(stream)
        await register(http, job_spec("ev-noise-2"))
        await register(http, job_spec("ev-both"))
        await stream.until(lambda e: running_on(e, "ev-both"))

    topics = {e["Topic"] for e in stream.events()}
    assert topics == {"Job", "Allocation"}
    assert all("ev-both" in (e["Key"], *(e["FilterKeys"] or ())) for e in stream.events())


async def test_a_key_given_twice_repeats_its_events(http: NomadHttp, sim_server: SimServer) -> None:
    """Nomad appends an event once per matching key, so asking for a key twice repeats it.

    Source: nomad/stream/subscription.go filter (the inner `for _, key := range keys`
    appends on every match; its `continue` only continues that loop).
    """
    params = [("topic", "Job:ev-twice"), ("topic", "Job:ev-twice")]
    async with open_stream(sim_server.url, params) as stream:
        await started(stream)
        await register(http, job_spec("ev-twice"))
        line, _ = await stream.until(of("Job", "JobRegistered", "ev-twice"))

    assert [e["Key"] for e in line["Events"]] == ["ev-twice", "ev-twice"]


async def test_a_star_next_to_a_key_matches_only_that_key(
    http: NomadHttp, sim_server: SimServer
) -> None:
    """`topic=Job` together with `topic=Job:<id>` gives that job's events only: `*` means
    "every key" only when it is the topic's sole key.

    Source: nomad/stream/subscription.go filter (`len(keys) == 1 && keys[0] == "*"`, else
    each key is compared with Key and FilterKeys, where `*` matches nothing).
    """
    params = [("topic", "Job"), ("topic", "Job:ev-only")]
    async with open_stream(sim_server.url, params) as stream:
        await started(stream)
        await register(http, job_spec("ev-hidden"))
        await register(http, job_spec("ev-only"))
        await stream.until(of("Job", "JobRegistered", "ev-only"))
        await stream.lines_for()

    assert {e["Key"] for e in stream.events()} == {"ev-only"}


async def test_namespace_defaults_to_default_and_star_means_all(
    http: NomadHttp, sim_server: SimServer
) -> None:
    """Without `namespace` the stream carries the `default` namespace's events only;
    `namespace=team` that namespace's; `namespace=*` every namespace's.

    Source: command/agent/http.go parseNamespace (default "default");
    nomad/event_endpoint.go validateACL ("*" → every namespace); api-docs/events.mdx.
    """
    async with (
        open_stream(sim_server.url, [("topic", "Job")]) as plain,
        open_stream(sim_server.url, [("topic", "Job"), ("namespace", "team")]) as team,
        open_stream(sim_server.url, [("topic", "Job"), ("namespace", "*")]) as every,
    ):
        for stream in (plain, team, every):
            await started(stream)
        await register(http, job_spec("ev-team"), params={"namespace": "team"})
        await register(http, job_spec("ev-default"))
        await plain.until(of("Job", "JobRegistered", "ev-default"))
        await every.until(of("Job", "JobRegistered", "ev-default"))
        await team.until(of("Job", "JobRegistered", "ev-team"))
        await team.lines_for()

    assert {e["Namespace"] for e in plain.events()} == {"default"}
    assert {e["Namespace"] for e in team.events()} == {"team"}
    assert {e["Key"] for e in every.events()} >= {"ev-team", "ev-default"}


async def test_a_filter_expression_is_ignored(http: NomadHttp, sim_server: SimServer) -> None:
    """The event stream has no `filter`: an expression that matches nothing changes nothing.

    Source: command/agent/event_endpoint.go (parse() reads `filter` into QueryOptions);
    nomad/event_endpoint.go Event.stream (never reads args.Filter).
    """
    params = [("topic", "Job"), ("filter", 'ID == "no-such-job"')]
    async with open_stream(sim_server.url, params) as stream:
        await started(stream)
        await register(http, job_spec("ev-unfiltered"))
        _, event = await stream.until(of("Job", "JobRegistered", "ev-unfiltered"))

    assert event["Key"] == "ev-unfiltered"
