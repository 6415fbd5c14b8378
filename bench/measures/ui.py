"""The dashboard (`GET /ui`) in a real browser at 1,000 jobs, measured by the page itself.

Debian's headless Chromium (the one the tests drive) opens the page on a bridge in front
of a simulator seeded with `UI_JOBS` jobs. Then, one at a time, a task group's count is
changed straight on Nomad (`PUT /v1/job/:id`, as any Nomad client would):

- render time per update: the page's own `nomad-bridge:render` measure (Performance API),
  from an answer's body in hand to the table patched (parse, compare, DOM changes); every
  update of the run counts (a count change brings several: the spec, then allocations
  starting, then running). `frame` adds the browser's style, layout and paint: from the
  body in hand to the `nomad-bridge:shown` mark of the same update;
- change to screen: from `performance.now()` in the page just before the change is sent to
  the `nomad-bridge:shown` mark that names the job, set once the frame with the new row has
  been painted;
- the anchor, in the same rounds: from sending the change to the bridge answering a plain
  long poll on that job (`GET /job/:id/summary` with `waitIndex`), what any API client
  sees; the page's extra is its share.
"""

from __future__ import annotations

import asyncio
import logging
import statistics
import time
from dataclasses import dataclass
from typing import Any

from bench.cluster import running_cluster
from bench.measures import Bench
from bench.nomad_http import SimNomad, with_group_count
from bench.stats import percentile, ratio

log = logging.getLogger("bench")

UI_JOBS = 1000
GROUP = "group-1"
PAGE_TIMEOUT_MS = 120_000
POLL_MS = 10
SHOWN_MARK = "nomad-bridge:shown"
RENDER_MEASURE = "nomad-bridge:render"

ALL_ROWS = "n => document.querySelectorAll('#jobs .job').length === n"
ROW_SETTLED = """([job, group, count]) => {
  const row = [...document.querySelectorAll('#jobs .job')].find((r) => r.dataset.job === job);
  const view = row && [...row.querySelectorAll('.group')].find((g) => g.dataset.group === group);
  return !!view && view.querySelector('.count').textContent === String(count)
    && view.querySelector('.number.running')?.textContent === `${count} running`
    && !view.querySelector('.number.starting, .number.queued');
}"""
SHOWN_AFTER = """([mark, job, since]) => performance.getEntriesByName(mark)
  .filter((entry) => entry.startTime >= since && entry.detail.jobs.includes(job))
  .map((entry) => entry.startTime)[0] ?? null"""
RENDERS = """(measure) => performance.getEntriesByName(measure)
  .map((m) => [m.duration, m.detail.changed, m.startTime])"""
SHOWN = "(mark) => performance.getEntriesByName(mark).map((m) => m.startTime)"
CLEAR = "([measure, mark]) => { performance.clearMeasures(measure); performance.clearMarks(mark); }"


@dataclass
class UiResult:
    jobs: int
    first_render_ms: float
    render_ms: list[float]
    rows_changed: list[int]
    frame_ms: list[float]
    change_to_screen_ms: list[float]
    change_to_answer_ms: list[float]

    def figures(self) -> dict[str, float]:
        n = self.jobs
        return {
            f"ui_render_ms_{n}": statistics.median(self.render_ms),
            f"ui_frame_ms_{n}": statistics.median(self.frame_ms),
            f"ui_change_to_screen_p99_ms_{n}": percentile(self.change_to_screen_ms, 0.99),
            f"ui_change_to_answer_p99_ms_{n}": percentile(self.change_to_answer_ms, 0.99),
        }

    def to_json(self) -> dict[str, Any]:
        screen_p99 = percentile(self.change_to_screen_ms, 0.99)
        answer_p99 = percentile(self.change_to_answer_ms, 0.99)
        return {
            "jobs": self.jobs,
            "changes": len(self.change_to_screen_ms),
            "updates": len(self.render_ms),
            "first_render_ms": self.first_render_ms,
            "render_ms_p50": statistics.median(self.render_ms),
            "render_ms_p99": percentile(self.render_ms, 0.99),
            "frame_ms_p50": statistics.median(self.frame_ms),
            "frame_ms_p99": percentile(self.frame_ms, 0.99),
            "rows_changed_max": max(self.rows_changed, default=0),
            "change_to_screen_ms_p50": percentile(self.change_to_screen_ms, 0.5),
            "change_to_screen_ms_p99": screen_p99,
            "change_to_answer_ms_p50": percentile(self.change_to_answer_ms, 0.5),
            "change_to_answer_ms_p99": answer_p99,
            "screen_vs_answer_p99": ratio(screen_p99, answer_p99),
        }


async def _answer_after(bench: Bench, url: str, index: str) -> float:
    """When the bridge answered a long poll on one job's view, past `index`."""
    async with bench.http.get(url, headers={"waitIndex": index}) as answer:
        answer.raise_for_status()
        await answer.read()
    return time.perf_counter()


async def _change_once(
    bench: Bench, page: Any, sim: SimNomad, bridge_url: str, job_id: str
) -> tuple[float, float]:
    """One count change straight on Nomad: (change → screen, change → API answer) in ms."""
    job = await sim.read_job(job_id)
    count = 2 if next(g["Count"] for g in job["TaskGroups"] if g["Name"] == GROUP) == 1 else 1
    summary = f"{bridge_url}/job/{job_id}/summary"
    async with bench.http.get(summary) as answer:
        index = answer.headers["waitIndex"]
    waiter = asyncio.create_task(_answer_after(bench, f"{summary}?wait=60s", index))
    await asyncio.sleep(0)  # the long poll is sent before the change
    page_t0 = await page.evaluate("() => performance.now()")
    sent = time.perf_counter()
    await sim.register(with_group_count(job, GROUP, count))
    answered = await waiter
    shown = await page.wait_for_function(
        SHOWN_AFTER, arg=[SHOWN_MARK, job_id, page_t0], polling=POLL_MS, timeout=PAGE_TIMEOUT_MS
    )
    screen_ms = float(await shown.json_value()) - page_t0
    await page.wait_for_function(
        ROW_SETTLED, arg=[job_id, GROUP, count], polling=POLL_MS, timeout=PAGE_TIMEOUT_MS
    )
    return screen_ms, (answered - sent) * 1000


async def measure_ui(bench: Bench) -> UiResult | None:
    """The page at `UI_JOBS` jobs; None (logged) when no Chromium is installed."""
    try:
        from playwright.async_api import async_playwright

        from tests.ui.browser import CHROMIUM, CHROMIUM_ARGS
    except ImportError as missing:
        log.warning("ui skipped: %s (the `test` extra brings Playwright)", missing)
        return None
    if not CHROMIUM.exists():
        log.warning("ui skipped: %s is missing (apt-get install chromium)", CHROMIUM)
        return None
    profile = bench.profile
    async with (
        running_cluster(bench.procs, bench.workdir, jobs=UI_JOBS, groups=profile.groups) as cluster,
        async_playwright() as playwright,
    ):
        await cluster.steady(bench.http)
        sim = SimNomad(bench.http, cluster.sim.url)
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            page = await browser.new_page(viewport={"width": 1300, "height": 900})
            await page.goto(f"{cluster.bridge_url}/ui")
            await page.wait_for_function(ALL_ROWS, arg=UI_JOBS, timeout=PAGE_TIMEOUT_MS)
            first = await page.evaluate(RENDERS, RENDER_MEASURE)
            await page.evaluate(CLEAR, [RENDER_MEASURE, SHOWN_MARK])
            screen, answer = [], []
            step = max(1, len(cluster.job_ids) // profile.ui_changes)
            for job_id in cluster.job_ids[::step][: profile.ui_changes]:
                screen_ms, answer_ms = await _change_once(
                    bench, page, sim, cluster.bridge_url, job_id
                )
                screen.append(screen_ms)
                answer.append(answer_ms)
            renders = await page.evaluate(RENDERS, RENDER_MEASURE)
            shown = await page.evaluate(SHOWN, SHOWN_MARK)
        finally:
            await browser.close()
    result = UiResult(
        jobs=UI_JOBS,
        first_render_ms=float(first[0][0]),
        render_ms=[float(duration) for duration, _, _ in renders],
        rows_changed=[int(changed) for _, changed, _ in renders],
        # One shown mark per update, in the same order: body in hand → frame painted.
        frame_ms=[float(at - start) for (_, _, start), at in zip(renders, shown, strict=False)],
        change_to_screen_ms=screen,
        change_to_answer_ms=answer,
    )
    figures = result.to_json()
    log.info(
        "ui jobs=%d render p50=%.1fms frame p50=%.1fms change→screen p99=%.0fms "
        "(change→API answer p99=%.0fms)",
        UI_JOBS,
        figures["render_ms_p50"],
        figures["frame_ms_p50"],
        figures["change_to_screen_ms_p99"],
        figures["change_to_answer_ms_p99"],
    )
    return result
