"""SPEC section 5, `GET /ui`: what the dashboard shows, in a real headless Chromium."""

from __future__ import annotations

from playwright.sync_api import expect

from nomad_bridge.settings import BridgeSettings
from tests.support import wait_until_sync
from tests.ui.browser import Dashboard, OpenDashboard, as_shown
from tests.ui.stage import MakeStage, Stage, job

JOBS = [
    job("web", {"frontend": 2, "api": 1}, autostart=True),
    job("cache", {"redis": 1}, autostart=True, by_cluster=True),
    job("batch-report", {"report": 1}, by_cluster=True, stop=True),
    job("game", {"lobby": 1, "match": 3}),
]


CHANGE_SHOWN_MS = 2000
MARK_DOCUMENT = "() => { window.sameDocument = true; }"
SAME_DOCUMENT = "() => window.sameDocument === true"
COUNT_MUTATIONS = """() => {
  window.mutatedRows = new Set();
  new MutationObserver((records) => {
    for (const record of records) {
      const row = (record.target.nodeType === 1 ? record.target : record.target.parentElement)
        .closest(".job");
      if (row) window.mutatedRows.add(row.dataset.job);
    }
  }).observe(document.querySelector("#jobs .rows"),
    {subtree: true, childList: true, characterData: true, attributes: true});
}"""


def test_the_page_shows_every_job_and_count_as_get_jobs_has_them(
    stage: Stage, dashboard: Dashboard
) -> None:
    dashboard.expect_live()
    views = stage.settled_jobs()

    wait_until_sync(
        lambda: dashboard.table() == as_shown(views),
        what="the table shows GET /jobs",
    )
    assert [row["name"] for row in dashboard.table()] == ["batch-report", "cache", "game", "web"]
    running = sum(g["summary"]["running"] for v in views for g in v["taskGroups"])
    assert running == 8
    expect(dashboard.page.locator("#total-jobs")).to_have_text("4")
    expect(dashboard.page.locator("#total-running")).to_have_text(str(running))
    expect(dashboard.page.locator("#total-failed")).to_have_text("0")
    expect(dashboard.page.locator(".legend li")).to_have_text(
        ["queued", "starting", "running", "complete", "failed", "lost"]
    )


def test_a_change_made_on_nomad_appears_without_reload(stage: Stage, dashboard: Dashboard) -> None:
    expect(dashboard.group("web", "frontend").locator(".count")).to_have_text("2")
    dashboard.page.evaluate(MARK_DOCUMENT)

    changed = stage.nomad_job("web")
    changed["TaskGroups"][0]["Count"] = 5
    stage.register(changed)  # straight on Nomad, not through the bridge

    # The promise is "within 2 s"; `make bench` measures the real figure (p99 well under 1 s).
    expect(dashboard.group("web", "frontend").locator(".count")).to_have_text(
        "5", timeout=CHANGE_SHOWN_MS
    )
    expect(dashboard.group("web", "frontend").locator(".number.running")).to_have_text("5 running")
    assert dashboard.page.evaluate(SAME_DOCUMENT)


def test_an_update_changes_only_the_rows_that_changed(stage: Stage, dashboard: Dashboard) -> None:
    dashboard.expect_settled(stage)
    dashboard.page.evaluate(COUNT_MUTATIONS)

    stage.register({**stage.nomad_job("game"), "Meta": {"autostart": "true"}})

    expect(dashboard.row("game").locator(".flag")).to_have_text(["autostart"])
    assert dashboard.page.evaluate("() => [...window.mutatedRows]") == ["game"]


def test_the_filter_by_name_status_and_flag_survives_updates(
    stage: Stage, dashboard: Dashboard
) -> None:
    page = dashboard.page
    expect(page.locator("#total-jobs")).to_have_text("4")

    page.locator("#filter-flag").select_option("byCluster")
    assert dashboard.shown_jobs() == ["batch-report", "cache"]
    page.locator("#filter-status").select_option("running")
    assert dashboard.shown_jobs() == ["cache"]
    page.locator("#filter-status").select_option("")
    page.locator("#filter-flag").select_option("")
    page.locator("#filter-name").fill("CA")
    assert dashboard.shown_jobs() == ["cache"]
    expect(page.locator("#total-shown")).to_have_text("showing 1")

    stage.register(job("cabinet", {"g": 1}))  # matches the filter
    stage.register(job("zebra", {"g": 1}))  # does not
    stage.register({**stage.nomad_job("web"), "Meta": {"autostart": "false"}})

    expect(page.locator("#total-jobs")).to_have_text("6")
    assert dashboard.shown_jobs() == ["cabinet", "cache"]
    assert page.locator("#filter-name").input_value() == "CA"


HOSTILE_JOBS = ["<img\tsrc=x\tonerror=alert(1)>", "<svg/onload=alert(2)>", "a&amp;b"]
HOSTILE_GROUP = "<b\tonclick=alert(3)>g</b>"


def test_hostile_job_and_group_names_render_as_text_and_run_no_script(
    make_stage: MakeStage, open_dashboard: OpenDashboard
) -> None:
    stage = make_stage([job(name, {HOSTILE_GROUP: 1}, autostart=True) for name in HOSTILE_JOBS])
    dashboard = open_dashboard(stage.page_url)
    page = dashboard.page
    expect(page.locator("#total-jobs")).to_have_text("3")

    shown = page.locator("#jobs .job-name").all_text_contents()
    assert sorted(shown) == sorted(HOSTILE_JOBS)
    assert page.locator("#jobs .group-name").all_text_contents() == [HOSTILE_GROUP] * 3
    assert page.locator("#jobs img, #jobs svg, #jobs b").count() == 0
    # The confirmation lists them as text too.
    page.locator("#stop-all").click()
    assert page.locator("#confirm-jobs li").all_text_contents() == sorted(HOSTILE_JOBS)
    page.locator("#confirm-cancel").click()
    assert not any(url.endswith("/x") for url in dashboard.requested)
    # Scripts' dialogs and CSP violations are failures recorded by the fixture.


def test_the_page_works_under_a_non_root_base_path(
    make_stage: MakeStage, open_dashboard: OpenDashboard
) -> None:
    stage = make_stage(JOBS, BridgeSettings(base_path="/cluster/api"))
    assert stage.page_url.endswith("/cluster/api/ui")
    dashboard = open_dashboard(stage.page_url)
    dashboard.expect_live()
    expect(dashboard.page.locator("#total-jobs")).to_have_text("4")

    dashboard.group("game", "match").locator("[data-action=inc]").click()

    wait_until_sync(
        lambda: stage.group_count("game", "match") == 4, what="Nomad holds the new count"
    )
    expect(dashboard.group("game", "match").locator(".count")).to_have_text("4")
    assert all("/cluster/api/" in url for url in dashboard.requested)
