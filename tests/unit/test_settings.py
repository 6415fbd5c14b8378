"""SPEC section 5: bridge settings from `BRIDGE_*`, and the warning for exposed binds."""

from __future__ import annotations

from pathlib import Path

import pytest

from nomad_bridge.serve import warn_if_exposed
from nomad_bridge.settings import BridgeSettings


def test_tokens_are_comma_separated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BRIDGE_TOKENS", "one, two,,three ")
    tokens = [t.get_secret_value() for t in BridgeSettings().tokens]
    assert tokens == ["one", "two", "three"]


def test_tokens_file_adds_one_token_per_line(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    path = tmp_path / "tokens"
    path.write_text("alpha\n\n beta \n")
    monkeypatch.setenv("BRIDGE_TOKENS", "one")
    monkeypatch.setenv("BRIDGE_TOKENS_FILE", str(path))
    assert [t.get_secret_value() for t in BridgeSettings().tokens] == ["one", "alpha", "beta"]


def test_tokens_never_show_in_the_settings_repr(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BRIDGE_TOKENS", "sekret")
    assert "sekret" not in repr(BridgeSettings())


@pytest.mark.parametrize(
    ("raw", "normalised"), [("/", "/"), ("", "/"), ("api", "/api/"), ("/api/v1/", "/api/v1/")]
)
def test_base_path_is_normalised(raw: str, normalised: str) -> None:
    assert BridgeSettings(base_path=raw).base_path == normalised
    assert BridgeSettings(base_path=raw).route("jobs") == normalised + "jobs"


@pytest.mark.parametrize("host", ["0.0.0.0", "192.0.2.10", "::", "bridge.example"])
def test_binding_a_non_loopback_address_without_tokens_warns(
    host: str, caplog: pytest.LogCaptureFixture
) -> None:
    assert warn_if_exposed(BridgeSettings(), host) is True
    assert "BRIDGE_TOKENS" in caplog.text


@pytest.mark.parametrize("host", ["127.0.0.1", "::1", "localhost", "127.0.0.2"])
def test_binding_loopback_does_not_warn(host: str) -> None:
    assert warn_if_exposed(BridgeSettings(), host) is False


def test_binding_anywhere_with_tokens_does_not_warn(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BRIDGE_TOKENS", "t")
    assert warn_if_exposed(BridgeSettings(), "0.0.0.0") is False
