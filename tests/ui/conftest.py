"""Fixtures of the browser tests: one Chromium and one loop thread per module, a fresh
simulator and bridge (a stage) and a fresh browser context per test."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, expect, sync_playwright

from nomad_bridge.settings import BridgeSettings
from tests.ui.browser import CHROMIUM, WAIT_S, Dashboard, OpenDashboard, launch
from tests.ui.stage import LoopThread, MakeStage, Stage, start_stage

if not CHROMIUM.exists():
    # CI installs it (.ci/run), so there a missing browser fails; elsewhere it skips.
    reason = f"{CHROMIUM} is missing: apt-get install chromium chromium-driver"
    if os.environ.get("CI"):
        raise RuntimeError(reason)
    pytest.skip(reason, allow_module_level=True)

expect.set_options(timeout=WAIT_S * 1000)


@pytest.fixture(scope="module")
def loop_thread() -> Iterator[LoopThread]:
    thread = LoopThread()
    yield thread
    thread.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = launch(playwright)
        yield browser
        browser.close()


@pytest.fixture
def make_stage(loop_thread: LoopThread) -> Iterator[MakeStage]:
    """Start a simulator holding the given jobs and a bridge in front of it."""
    stages: list[Stage] = []

    def make(
        jobs: list[dict[str, Any]],
        settings: BridgeSettings | None = None,
        *,
        racing_writer: bool = False,
    ) -> Stage:
        stage = start_stage(loop_thread, jobs, settings, racing_writer=racing_writer)
        stages.append(stage)
        return stage

    yield make
    for stage in stages:
        stage.close()


@pytest.fixture
def open_dashboard(browser: Browser) -> Iterator[OpenDashboard]:
    """Open the dashboard in a fresh browser context (no storage shared between tests);
    fails the test if any page ran into a script error or opened a script dialog."""
    dashboards: list[Dashboard] = []
    contexts = []

    def open_page(url: str) -> Dashboard:
        context = browser.new_context(viewport={"width": 1300, "height": 800})
        context.set_default_timeout(WAIT_S * 1000)
        contexts.append(context)
        dashboard = Dashboard(context.new_page()).open(url)
        dashboards.append(dashboard)
        return dashboard

    yield open_page
    for context in contexts:
        context.close()
    problems = [problem for dashboard in dashboards for problem in dashboard.problems]
    assert not problems, problems


@pytest.fixture
def stage(request: pytest.FixtureRequest, make_stage: MakeStage) -> Stage:
    """A stage holding the test module's `JOBS`."""
    jobs: list[dict[str, Any]] = request.module.JOBS
    return make_stage(jobs)


@pytest.fixture
def dashboard(stage: Stage, open_dashboard: OpenDashboard) -> Dashboard:
    """The dashboard of `stage`, open."""
    return open_dashboard(stage.page_url)
