"""Job views as a terminal table: one row per job, its groups as `name=count (counters)`.

    NAME         STATUS   AUTOSTART  BYCLUSTER  TASK GROUPS
    game-server  dead     false      true       server=0
    web          running  true       false      frontend=3 (1 starting, 2 running), api=0

Only the counters that are not zero are shown, in the order an allocation moves through them.
"""

from __future__ import annotations

from collections.abc import Sequence

from nomad_bridge.jobs.view import JobView, TaskGroupView

HEADERS = ("NAME", "STATUS", "AUTOSTART", "BYCLUSTER", "TASK GROUPS")
COUNTERS = ("queued", "starting", "running", "complete", "failed", "lost")
COLUMN_GAP = "  "


def group_cell(group: TaskGroupView) -> str:
    counts = group.summary.model_dump()
    shown = [f"{counts[name]} {name}" for name in COUNTERS if counts[name]]
    return f"{group.name}={group.count}" + (f" ({', '.join(shown)})" if shown else "")


def row(view: JobView) -> tuple[str, ...]:
    return (
        view.name,
        view.status,
        "true" if view.autostart else "false",
        "true" if view.by_cluster else "false",
        ", ".join(group_cell(group) for group in view.task_groups) or "-",
    )


def render(views: Sequence[JobView]) -> str:
    """The table, header first; the last column is not padded."""
    rows = [HEADERS, *(row(view) for view in views)]
    widths = [max(len(r[i]) for r in rows) for i in range(len(HEADERS) - 1)]
    lines = [
        COLUMN_GAP.join([*(cell.ljust(w) for cell, w in zip(r, widths, strict=False)), r[-1]])
        for r in rows
    ]
    return "\n".join(lines)
