"""SPEC section 5, `GET /ui`: tokens, and what the page says when it cannot be current."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect
from pydantic import SecretStr

from nomad_bridge.settings import BridgeSettings
from tests.ui.browser import Dashboard, OpenDashboard
from tests.ui.stage import MakeStage, Stage, job

JOBS = [job("web", {"frontend": 2}, autostart=True), job("cache", {"redis": 1})]
TOKEN = "s3cret-token"
TOKEN_KEY = "nomad-bridge.token"
SHORT_WAITS = "?wait=1s"  # each long poll waits 1 s: an outage shows within about a second


@pytest.fixture
def guarded(make_stage: MakeStage) -> Stage:
    """A bridge that needs a bearer token (`BRIDGE_TOKENS`)."""
    return make_stage(JOBS, BridgeSettings(tokens=[SecretStr(TOKEN)]))


@pytest.fixture
def guarded_dashboard(guarded: Stage, open_dashboard: OpenDashboard) -> Dashboard:
    return open_dashboard(guarded.page_url)


def enter_token(page: Page, token: str, reason: str) -> None:
    dialog = page.locator("#token")
    expect(dialog).to_be_visible()
    expect(dialog.locator("#token-reason")).to_have_text(reason)
    dialog.locator("#token-input").fill(token)
    dialog.locator("#token-submit").click()


def test_with_tokens_the_page_loads_asks_for_a_token_and_sends_it_as_bearer(
    guarded_dashboard: Dashboard,
) -> None:
    dashboard, page = guarded_dashboard, guarded_dashboard.page
    sent: list[str | None] = []
    page.on("request", lambda request: sent.append(request.headers.get("authorization")))

    enter_token(page, "wrong", "This bridge needs a token.")
    enter_token(page, TOKEN, "The bridge refused that token; enter another.")

    dashboard.expect_live()
    expect(page.locator("#total-jobs")).to_have_text("2")
    assert f"Bearer {TOKEN}" in sent
    assert page.evaluate(f"() => sessionStorage.getItem('{TOKEN_KEY}')") == TOKEN
    assert page.evaluate("() => localStorage.length") == 0
    assert page.evaluate("() => document.cookie") == ""
    assert page.context.cookies() == []


def test_a_refused_token_is_asked_for_again_and_the_action_then_done(
    guarded: Stage, guarded_dashboard: Dashboard
) -> None:
    stage, dashboard, page = guarded, guarded_dashboard, guarded_dashboard.page
    enter_token(page, TOKEN, "This bridge needs a token.")
    dashboard.expect_live()
    page.evaluate(f"() => sessionStorage.setItem('{TOKEN_KEY}', 'revoked')")

    dashboard.group("web", "frontend").locator("[data-action=inc]").click()

    enter_token(page, TOKEN, "The bridge refused that token; enter another.")
    expect(dashboard.group("web", "frontend").locator(".message")).to_have_text("2 → 3 (scale)")
    assert stage.group_count("web", "frontend") == 3


def test_the_page_shows_stale_then_live_across_a_nomad_outage(
    stage: Stage, open_dashboard: OpenDashboard
) -> None:
    dashboard = open_dashboard(stage.page_url + SHORT_WAITS)
    dashboard.expect_live()
    expect(dashboard.group("web", "frontend").locator(".count")).to_have_text("2")

    stage.outage("refuse")
    expect(dashboard.connection).to_have_attribute("data-state", "stale")
    expect(dashboard.connection).to_contain_text("stale since")
    assert dashboard.table()[1]["groups"][0]["count"] == 2  # the last view stays on screen
    # A change on Nomad while the bridge cannot see it.
    stage.on_sim(lambda sim: sim.register_job_spec(job("web", {"frontend": 4}, autostart=True)))
    stage.outage(None)

    dashboard.expect_live()
    expect(dashboard.group("web", "frontend").locator(".count")).to_have_text("4")


def test_the_page_reconnects_with_backoff_keeping_the_last_view(
    stage: Stage, open_dashboard: OpenDashboard
) -> None:
    dashboard = open_dashboard(stage.page_url + SHORT_WAITS)
    dashboard.expect_live()
    dashboard.page.context.route("**/jobs?*", lambda route: route.abort("connectionrefused"))
    expect(dashboard.connection).to_have_attribute("data-state", "reconnecting")
    expect(dashboard.connection).to_contain_text("reconnecting in")
    expect(dashboard.connection).to_contain_text("showing the view as of")
    expect(dashboard.page.locator("#jobs .job")).to_have_count(2)

    expect(dashboard.connection).to_contain_text("(attempt 2)")  # it tries again
    dashboard.page.context.unroute("**/jobs?*")
    dashboard.expect_live()
