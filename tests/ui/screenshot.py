"""`python -m tests.ui.screenshot [PATH]`: docs/ui.png, taken by the tests' own browser.

The example jobs of deploy/jobs on a fresh simulator, one allocation failed and one lost
(so the bars show more than green), a count changed from the page and one refused (400):
what a person sees after a minute of use.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from playwright.sync_api import expect, sync_playwright

from tests.support import wait_until_sync
from tests.ui.browser import WAIT_S, Dashboard, launch
from tests.ui.stage import LoopThread, start_stage

REPO = Path(__file__).resolve().parents[2]
EXAMPLE_JOBS = REPO / "deploy" / "jobs"
DEFAULT_PATH = REPO / "docs" / "ui.png"


def example_jobs() -> list[dict[str, Any]]:
    return [
        json.loads(path.read_text(encoding="utf-8"))["Job"]
        for path in sorted(EXAMPLE_JOBS.glob("*.json"))
    ]


def take(path: Path) -> None:
    thread = LoopThread()
    stage = start_stage(thread, example_jobs())
    try:
        with sync_playwright() as playwright:
            browser = launch(playwright)
            page = browser.new_page(viewport={"width": 1300, "height": 700})
            page.set_default_timeout(WAIT_S * 1000)
            dashboard = Dashboard(page).open(stage.page_url)
            dashboard.expect_live()
            expect(page.locator("#total-jobs")).to_have_text("5")
            stage.on_sim(lambda sim: sim.controls.fail_allocations("game-server", "match", 1))
            stage.on_sim(lambda sim: sim.controls.lose_allocations("web", "frontend", 1))
            expect(
                dashboard.group("game-server", "match").locator(".number.failed")
            ).to_be_visible()
            dashboard.group("web", "api").locator("[data-action=inc]").click()
            expect(dashboard.group("web", "api").locator(".message")).to_contain_text("→ 2")
            dashboard.group("cache", "redis").locator("[data-action=dec]").click()
            dashboard.group("cache", "redis").locator("[data-action=dec]").click()
            expect(dashboard.group("cache", "redis").locator(".message")).to_contain_text("400")
            wait_until_sync(
                lambda: page.locator("#jobs .number.starting").count() == 0,
                what="allocations settled",
            )
            page.screenshot(path=str(path), full_page=True)
            browser.close()
    finally:
        stage.close()
        thread.close()


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_PATH
    take(target)
    print(target)
