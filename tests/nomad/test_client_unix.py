"""`NOMAD_ADDR=unix:///path/api.sock`: the Nomad client over a unix socket, as a task reaches
its agent's Task API, read the way Nomad's own CLI reads it."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr, ValidationError

from nomad_bridge.nomad import NomadClient, NomadSettings, errors
from nomad_bridge.sim import SimServer, Simulator
from nomad_bridge.sim.acl import Acl
from tests.nomad.harness import ClientFactory
from tests.support import job_spec

TOKEN = "unix-socket-token-7d2e"


@pytest.fixture
def nomad_settings(unix_sim_server: SimServer) -> NomadSettings:
    return NomadSettings(addr=unix_sim_server.url)


def test_a_unix_address_names_the_socket_and_needs_no_tls(unix_socket_path: Path) -> None:
    settings = NomadSettings(addr=f"unix://{unix_socket_path}", cacert=Path("/etc/ca.pem"))

    assert settings.addr == f"unix://{unix_socket_path}"
    assert settings.unix_socket == str(unix_socket_path)
    assert settings.uses_tls is False
    assert settings.ssl_context() is None


@pytest.mark.parametrize(
    "addr", ["unix://secrets/api.sock", "unix:secrets/api.sock", "unix://", "ftp://x"]
)
def test_a_unix_address_without_an_absolute_path_is_refused(addr: str) -> None:
    with pytest.raises(ValidationError, match="NOMAD_ADDR"):
        NomadSettings(addr=addr)


def test_an_http_address_is_not_a_socket() -> None:
    assert NomadSettings(addr="http://10.0.0.7:4646").unix_socket is None


async def test_the_client_reads_and_writes_nomad_over_the_socket(client: NomadClient) -> None:
    registered = await client.register_job(job_spec("web", {"frontend": 2}))

    read = await client.read_job("web")
    listed = await client.list_jobs()

    assert [(g.name, g.count) for g in read.value.groups] == [("frontend", 2)]
    assert read.value.job_modify_index == registered.job_modify_index
    assert [stub.id for stub in listed.value] == ["web"]


async def test_the_token_goes_over_the_socket(
    make_client: ClientFactory, simulator: Simulator, nomad_settings: NomadSettings
) -> None:
    simulator.register_job_spec(job_spec("web"))
    simulator.acl = Acl(TOKEN)
    anonymous = await make_client()
    with_token = await make_client(nomad_settings.model_copy(update={"token": SecretStr(TOKEN)}))

    with pytest.raises(errors.PermissionDenied):
        await anonymous.list_jobs()
    assert [stub.id for stub in (await with_token.list_jobs()).value] == ["web"]


async def test_a_socket_nobody_listens_on_is_nomad_unavailable(
    make_client: ClientFactory, unix_socket_path: Path
) -> None:
    gone = await make_client(NomadSettings(addr=f"unix://{unix_socket_path.parent}/gone.sock"))

    with pytest.raises(errors.Unavailable) as raised:
        await gone.list_jobs()
    assert raised.value.request_sent is False


async def test_a_refusing_nomad_on_a_socket_is_unavailable_until_it_listens_again(
    client: NomadClient, simulator: Simulator
) -> None:
    simulator.controls.set_outage("refuse")
    with pytest.raises(errors.Unavailable):
        await client.list_jobs()

    simulator.controls.set_outage(None)

    assert (await client.list_jobs()).value == []
