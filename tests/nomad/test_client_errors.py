"""Each error mapping, from a real simulator answer; tokens never leak."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from nomad_bridge.nomad import NomadClient, NomadSettings, errors
from nomad_bridge.sim import SimConfig, SimServer, Simulator
from tests.nomad.harness import ClientFactory, RequestLog
from tests.support import job_spec

ACL_TOKEN = "2d7f0c4e-acl-management-secret"
WRONG_TOKEN = "9b1e6a3f-wrong-token-secret"


@pytest.fixture
async def acl_sim_server() -> AsyncIterator[SimServer]:
    server = SimServer(Simulator(SimConfig(acl_token=ACL_TOKEN)))
    await server.start(host="127.0.0.1", port=0)
    yield server
    await server.stop()


async def test_a_missing_job_is_not_found(client: NomadClient) -> None:
    with pytest.raises(errors.NotFound) as missing:
        await client.read_job("no-such-job")
    assert missing.value.status == 404
    assert missing.value.path == "/v1/job/no-such-job"
    assert "not found" in missing.value.message


async def test_a_stale_enforce_index_is_a_cas_conflict_sent_once(
    client: NomadClient, request_log: RequestLog
) -> None:
    first = await client.register_job(job_spec("web"))
    await client.register_job(job_spec("web", {"main": 2}))

    with pytest.raises(errors.CasConflict) as conflict:
        await client.register_job(
            job_spec("web", {"main": 3}), enforce_index=first.job_modify_index
        )

    assert conflict.value.status == 500
    assert conflict.value.message.startswith("Enforcing job modify index")
    assert conflict.value.current_index is not None
    assert conflict.value.current_index > first.job_modify_index
    assert request_log.outcomes("POST", "/v1/jobs")[-1:] == ["cas_conflict"]
    assert len(request_log.outcomes("POST", "/v1/jobs")) == 3


async def test_enforce_index_zero_on_an_existing_job_is_a_cas_conflict(
    client: NomadClient,
) -> None:
    await client.register_job(job_spec("web"))
    with pytest.raises(errors.CasConflict):
        await client.register_job(job_spec("web", {"main": 2}), enforce_index=0)


async def test_a_variable_cas_conflict_carries_the_variable(client: NomadClient) -> None:
    written = await client.put_variable("bridge/web", {"spec": "v1"})
    await client.put_variable("bridge/web", {"spec": "v2"}, cas=written.modify_index)

    with pytest.raises(errors.CasConflict) as conflict:
        await client.put_variable("bridge/web", {"spec": "v3"}, cas=written.modify_index)

    assert conflict.value.status == 409
    held = conflict.value.variable
    assert held is not None
    assert (held.path, held.items) == ("bridge/web", {"spec": "v2"})
    assert held.modify_index > written.modify_index


async def test_a_wrong_token_is_permission_denied_and_never_shown(
    make_client: ClientFactory, acl_sim_server: SimServer
) -> None:
    settings = NomadSettings(addr=acl_sim_server.url, token=WRONG_TOKEN)
    client = await make_client(settings)

    with pytest.raises(errors.PermissionDenied) as denied:
        await client.list_jobs()

    assert denied.value.status == 403
    for text in (str(denied.value), repr(denied.value), denied.value.message, repr(client)):
        assert WRONG_TOKEN not in text
    assert WRONG_TOKEN not in repr(settings)
    assert WRONG_TOKEN not in str(settings)


async def test_the_right_token_is_sent_as_x_nomad_token(
    make_client: ClientFactory, acl_sim_server: SimServer
) -> None:
    client = await make_client(NomadSettings(addr=acl_sim_server.url, token=ACL_TOKEN))
    assert (await client.list_jobs()).value == []


async def test_a_refused_connection_is_unavailable(
    client: NomadClient, simulator: Simulator
) -> None:
    simulator.controls.set_outage("refuse")
    with pytest.raises(errors.Unavailable) as outage:
        await client.list_jobs()
    assert outage.value.request_sent is False
    assert outage.value.status is None


async def test_a_503_is_unavailable(client: NomadClient, simulator: Simulator) -> None:
    simulator.controls.set_outage("unavailable")
    with pytest.raises(errors.Unavailable) as outage:
        await client.read_job("web")
    assert outage.value.status == 503


async def test_an_invalid_job_is_an_unexpected_answer_not_an_outage(client: NomadClient) -> None:
    with pytest.raises(errors.UnexpectedAnswer) as invalid:
        await client.register_job({"ID": "empty", "Name": "empty", "TaskGroups": []})
    assert invalid.value.status == 500
