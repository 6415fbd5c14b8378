"""With ACLs on, the CLI sends NOMAD_TOKEN, and never prints it, whatever happens."""

from __future__ import annotations

import pytest

from nomad_bridge.sim import SimConfig
from tests.cli.harness import RunCli

TOKEN = "3f0c2a9e-secret-acl-token-never-printed"


@pytest.fixture
def sim_config() -> SimConfig:
    return SimConfig(acl_token=TOKEN, eval_delay_s=0.005, alloc_start_delay_s=0.01)


def test_the_token_from_nomad_token_is_sent(
    run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NOMAD_TOKEN", TOKEN)
    assert run_cli("ls").code == 0


@pytest.mark.parametrize("token", [None, "wrong-" + TOKEN])
def test_a_refused_token_exits_1_without_printing_any_token(
    run_cli: RunCli, monkeypatch: pytest.MonkeyPatch, token: str | None
) -> None:
    if token is not None:
        monkeypatch.setenv("NOMAD_TOKEN", token)

    result = run_cli("forget", "web", "--yes")

    assert (result.code, result.err) == (
        1,
        "nomad-bridge: read job 'web': Nomad answered 403: Permission denied\n",
    )
    assert TOKEN not in result.out + result.err
