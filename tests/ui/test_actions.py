"""SPEC section 5, `GET /ui`: what the dashboard's controls do to what Nomad holds."""

from __future__ import annotations

from playwright.sync_api import expect

from nomad_bridge.settings import BridgeSettings
from tests.support import wait_until_sync
from tests.ui.browser import Dashboard, OpenDashboard
from tests.ui.stage import MakeStage, Stage, job

JOBS = [
    job("web", {"frontend": 2, "api": 1}, autostart=True),
    job("cache", {"redis": 1}, autostart=True, stop=True),
    job("reports", {"report": 1}, autostart=True, stop=True),
    job("game", {"lobby": 1}, stop=True),
    job("metrics", {"agent": 1}),
]


def test_start_and_stop_from_the_page_change_what_nomad_holds(
    stage: Stage, dashboard: Dashboard
) -> None:
    game = dashboard.row("game")
    expect(game.locator(".badge")).to_have_text("dead")

    game.locator("[data-action=start]").click()
    expect(game.locator(".actions .message")).to_have_text("started")
    assert not stage.stopped("game")
    expect(game.locator(".badge")).to_have_text("running")

    game.locator("[data-action=stop]").click()
    assert dashboard.confirm() == ["game"]
    expect(game.locator(".actions .message")).to_have_text("stopped")
    assert stage.stopped("game")
    expect(game.locator(".badge")).to_have_text("dead")


def test_a_cancelled_stop_changes_nothing(stage: Stage, dashboard: Dashboard) -> None:
    dashboard.row("web").locator("[data-action=stop]").click()
    dashboard.page.locator("#confirm-cancel").click()
    expect(dashboard.page.locator("#confirm")).to_be_hidden()
    assert not stage.stopped("web")
    expect(dashboard.row("web").locator(".actions .message")).to_have_text("")


def test_startall_confirmation_lists_the_jobs_and_results_show_per_job(
    stage: Stage, dashboard: Dashboard
) -> None:
    dashboard.expect_settled(stage)

    dashboard.page.locator("#start-all").click()
    assert dashboard.confirm() == ["cache", "reports"]

    results = dashboard.page.locator("#bulk-results li")
    expect(results).to_have_text(["cache: started", "reports: started"])
    assert not stage.stopped("cache")
    assert not stage.stopped("reports")
    assert stage.stopped("game")  # not autostart


def test_stopall_confirmation_lists_the_jobs_and_stops_them(
    stage: Stage, dashboard: Dashboard
) -> None:
    dashboard.expect_settled(stage)

    dashboard.page.locator("#stop-all").click()
    assert dashboard.confirm() == ["metrics", "web"]

    expect(dashboard.page.locator("#bulk-results li")).to_have_text(
        ["metrics: stopped", "web: stopped"]
    )
    assert stage.stopped("web")
    assert stage.stopped("metrics")


def test_plus_one_minus_one_and_set_count_change_the_count_nomad_holds(
    stage: Stage, dashboard: Dashboard
) -> None:
    frontend = dashboard.group("web", "frontend")
    expect(frontend.locator(".count")).to_have_text("2")

    frontend.locator("[data-action=inc]").click()
    expect(frontend.locator(".message")).to_have_text("2 → 3 (scale)")
    assert stage.group_count("web", "frontend") == 3

    frontend.locator("[data-action=dec]").click()
    expect(frontend.locator(".message")).to_have_text("3 → 2 (scale)")
    assert stage.group_count("web", "frontend") == 2

    frontend.locator("input.set-value").fill("7")
    frontend.locator("[data-action=set]").click()
    expect(frontend.locator(".message")).to_have_text("2 → 7 (scale)")
    assert stage.group_count("web", "frontend") == 7
    expect(frontend.locator(".count")).to_have_text("7")
    assert stage.group_count("web", "api") == 1


def test_a_400_shows_its_detail_next_to_the_group(stage: Stage, dashboard: Dashboard) -> None:
    api = dashboard.group("web", "api")
    api.locator("input.set-value").fill("-1")
    api.locator("[data-action=set]").click()
    expect(api.locator(".message")).to_contain_text("400 Bad Request: count")
    expect(api.locator(".message")).to_have_class("message error")

    api.locator("input.set-value").fill("0")
    api.locator("[data-action=set]").click()
    expect(api.locator(".message")).to_have_text("1 → 0 (scale)")
    api.locator("[data-action=dec]").click()
    expect(api.locator(".message")).to_have_text(
        "400 Bad Request: count of 'web'/'api' would be -1; it must be at least 0"
    )
    assert stage.group_count("web", "api") == 0
    expect(dashboard.group("web", "frontend").locator(".message")).to_have_text("")


def test_a_409_shows_its_detail_next_to_the_group(
    make_stage: MakeStage, open_dashboard: OpenDashboard
) -> None:
    stage = make_stage(JOBS, BridgeSettings(count_change_attempts=1), racing_writer=True)
    dashboard = open_dashboard(stage.page_url)
    frontend = dashboard.group("web", "frontend")

    frontend.locator("[data-action=inc]").click()

    expect(frontend.locator(".message")).to_have_text(
        "409 Conflict: job 'web' changed under every one of 1 attempts; nothing was changed"
    )
    assert stage.group_count("web", "frontend") == 2


def test_a_button_is_disabled_while_its_request_runs(stage: Stage, dashboard: Dashboard) -> None:
    start = dashboard.row("game").locator("[data-action=start]")
    expect(start).to_be_enabled()

    stage.outage("hang")  # Nomad accepts requests and does not answer
    start.click()
    expect(start).to_be_disabled()
    expect(dashboard.row("game").locator("[data-action=stop]")).to_be_enabled()
    stage.outage(None)

    expect(dashboard.row("game").locator(".actions .message")).to_have_text("started")
    expect(start).to_be_enabled()
    wait_until_sync(
        lambda: not stage.stopped("game"),
        what="Nomad runs the job",
    )
