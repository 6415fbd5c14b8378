"""Debian's Chromium, headless, driven by Playwright (never a browser Playwright downloads),
and the dashboard as a person sees it through that browser."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, ConsoleMessage, Dialog, Locator, Page, Playwright, expect

from tests.support import WAIT_TIMEOUT_S, wait_until_sync
from tests.ui.stage import Stage

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    # Playwright adds a fresh --user-data-dir (a temporary directory) to every launch.
    "--headless",
    "--no-sandbox",  # CI runs as root
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
WAIT_S = WAIT_TIMEOUT_S
"""Bound of every wait for something to show; generous, as the machine may be loaded."""

COUNTERS = ("queued", "starting", "running", "complete", "failed", "lost")
READ_TABLE = """() => [...document.querySelectorAll("#jobs .job")].map((tr) => ({
  name: tr.querySelector(".job-name").textContent,
  status: tr.querySelector(".badge").textContent,
  flags: [...tr.querySelectorAll(".flag")].map((flag) => flag.textContent),
  groups: [...tr.querySelectorAll(".group")].map((group) => ({
    name: group.querySelector(".group-name").textContent,
    count: Number(group.querySelector(".count").textContent),
    allocations: [...group.querySelectorAll(".number")].map((n) => n.textContent),
  })),
}))"""


def launch(playwright: Playwright) -> Browser:
    return playwright.chromium.launch(
        executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
    )


def css_string(value: str) -> str:
    """`value` as a CSS string literal, whatever characters it holds."""
    escaped = "".join(
        f"\\{ord(c):x} " if ord(c) < 0x20 or c == "\x7f" else "\\" + c if c in '"\\' else c
        for c in value
    )
    return f'"{escaped}"'


def as_shown(views: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What the page should show of `GET /jobs` views (the shape READ_TABLE reads)."""
    return [
        {
            "name": view["name"],
            "status": view["status"],
            "flags": [flag for flag in ("autostart", "byCluster") if view[flag]],
            "groups": [
                {
                    "name": group["name"],
                    "count": group["count"],
                    "allocations": [
                        f"{group['summary'][c]} {c}" for c in COUNTERS if group["summary"][c]
                    ],
                }
                for group in view["taskGroups"]
            ],
        }
        for view in views
    ]


class Dashboard:
    """The page in one browser tab. Records what must never happen: an uncaught script
    error, a Content-Security-Policy violation, a script dialog (alert) opening."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.problems: list[str] = []
        self.requested: list[str] = []
        page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))
        page.on("console", self._console)
        page.on("dialog", self._script_dialog)
        page.on("request", lambda request: self.requested.append(request.url))

    def _console(self, message: ConsoleMessage) -> None:
        # An error answer the page asked for (a 400 it then shows) is logged as a failed load.
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            self.problems.append(f"console: {message.text}")

    def _script_dialog(self, dialog: Dialog) -> None:
        self.problems.append(f"a script opened a {dialog.type}: {dialog.message}")
        dialog.dismiss()

    def open(self, url: str) -> Dashboard:
        self.page.goto(url)
        return self

    @property
    def connection(self) -> Locator:
        return self.page.locator("#connection")

    def expect_settled(self, stage: Stage) -> None:
        """Until the page shows `GET /jobs` of a cluster whose allocations are all placed."""
        views = stage.settled_jobs()
        wait_until_sync(
            lambda: self.table() == as_shown(views), what="the page shows the settled jobs"
        )

    def expect_live(self) -> None:
        expect(self.connection).to_have_attribute("data-state", "live")

    def row(self, job: str) -> Locator:
        return self.page.locator(f"#jobs .job[data-job={css_string(job)}]")

    def group(self, job: str, group: str) -> Locator:
        return self.row(job).locator(f".group[data-group={css_string(group)}]")

    def table(self) -> list[dict[str, Any]]:
        """Every row as text, in the order shown."""
        rows: list[dict[str, Any]] = self.page.evaluate(READ_TABLE)
        return rows

    def shown_jobs(self) -> list[str]:
        return self.page.locator("#jobs .job:not([hidden]) .job-name").all_text_contents()

    def confirm(self) -> list[str]:
        """Accept the confirmation on screen; returns the jobs it listed."""
        dialog = self.page.locator("#confirm")
        expect(dialog).to_be_visible()
        listed = dialog.locator("#confirm-jobs li").all_text_contents()
        dialog.locator("#confirm-ok").click()
        expect(dialog).to_be_hidden()
        return listed


OpenDashboard = Callable[[str], Dashboard]
"""The `open_dashboard` fixture: a fresh browser context with the page at this URL."""
