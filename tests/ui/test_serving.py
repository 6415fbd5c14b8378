"""SPEC section 5, `GET /ui`: the page and its files as the bridge serves them."""

from __future__ import annotations

import re
import tomllib
from fnmatch import fnmatch
from pathlib import Path

import pytest
import requests
from pydantic import SecretStr

from nomad_bridge.api.ui import ASSETS, STATIC_DIR
from nomad_bridge.settings import BridgeSettings
from tests.ui.stage import HTTP_TIMEOUT_S, MakeStage, Stage, job

TOKEN = "t0ken"
REPO = Path(__file__).resolve().parents[2]
IMPORT = re.compile(r"""^import .* from "\./([\w.-]+)";$""", re.MULTILINE)
REFERENCE = re.compile(r"""(?:src|href)="ui/([\w.-]+)\"""")


def get(url: str, **headers: str) -> requests.Response:
    return requests.get(url, headers=headers, timeout=HTTP_TIMEOUT_S)


@pytest.fixture
def stage(make_stage: MakeStage) -> Stage:
    return make_stage([job("web")], BridgeSettings(tokens=[SecretStr(TOKEN)]))


def test_the_page_and_its_files_need_no_token_while_the_api_does(stage: Stage) -> None:
    page = get(stage.page_url)
    assert page.status_code == 200
    assert page.headers["Content-Type"] == "text/html; charset=utf-8"
    script = get(f"{stage.page_url}/app.js")
    assert script.status_code == 200
    assert script.headers["Content-Type"] == "text/javascript; charset=utf-8"
    assert get(f"{stage.api_url}jobs").status_code == 401
    assert get(f"{stage.api_url}jobs", Authorization=f"Bearer {TOKEN}").status_code == 200


def test_every_file_the_page_uses_is_served_from_the_package(stage: Stage) -> None:
    wanted = set(REFERENCE.findall(get(stage.page_url).text))
    seen: set[str] = set()
    while wanted - seen:
        name = (wanted - seen).pop()
        seen.add(name)
        answer = get(f"{stage.page_url}/{name}")
        assert answer.status_code == 200, name
        if name.endswith(".js"):
            wanted |= set(IMPORT.findall(answer.text))
    assert {"app.js", "api.js", "watch.js", "rows.js", "style.css"} <= seen


def test_the_page_allows_no_inline_script_no_framing_and_no_sniffing(stage: Stage) -> None:
    page = get(stage.page_url)
    policy = dict(
        directive.strip().split(" ", 1)
        for directive in page.headers["Content-Security-Policy"].split(";")
    )
    assert policy["script-src"] == "'self'"
    assert policy["default-src"] == "'none'"
    assert policy["frame-ancestors"] == "'none'"
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    assert "Set-Cookie" not in page.headers
    # Every script is a file: nothing inline for the policy to have to allow.
    assert re.findall(r"<script[^>]*>", page.text) == ['<script type="module" src="ui/app.js">']
    assert re.findall(r"<[^>]*\s(?:on\w+|style)=", page.text) == []


@pytest.mark.parametrize("name", ["nope.js", "..%2Fapi%2Fui.py", "index.html", "%2e%2e"])
def test_a_file_the_dashboard_does_not_have_is_a_404_problem(stage: Stage, name: str) -> None:
    answer = get(f"{stage.page_url}/{name}")
    assert answer.status_code == 404
    assert answer.headers["Content-Type"].startswith("application/problem+json")


def test_an_unchanged_file_is_not_sent_again(stage: Stage) -> None:
    first = get(f"{stage.page_url}/style.css")
    again = get(f"{stage.page_url}/style.css", **{"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
    assert again.content == b""


def test_every_file_of_the_dashboard_ships_in_the_package() -> None:
    """Installed from a wheel, the package holds only what `package-data` names."""
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = pyproject["tool"]["setuptools"]["package-data"]["nomad_bridge"]
    files = [path.relative_to(STATIC_DIR.parent).as_posix() for path in STATIC_DIR.iterdir()]
    assert files
    assert [name for name in files if not any(fnmatch(name, p) for p in patterns)] == []
    assert sorted(ASSETS) == sorted(Path(name).name for name in files)
