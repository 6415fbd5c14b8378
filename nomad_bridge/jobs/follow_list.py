"""Following Nomad by its job list: the fallback where the event stream cannot be used.

One blocking query on `/v1/jobs?meta=true` answers whenever a job or a job summary
changes; each answer is the whole list (Nomad has no diff of it), so each change costs
the whole cluster. It needs only `list-jobs` and `read-job`, and works through any proxy.
"""

from __future__ import annotations

from nomad_bridge.jobs.sync import ViewSync


class ListFollower:
    """Keeps the view current with one blocking job-list query at a time."""

    mode = "list"

    def __init__(self, sync: ViewSync, *, wait_s: float) -> None:
        self._sync = sync
        self._wait_s = wait_s

    def vouch(self, index: int) -> None:
        """Nothing to do: every listing carries Nomad's index."""

    async def follow(self) -> None:
        """List, then re-list each time Nomad's index moves; returns only by raising."""
        index = await self._sync.relist()
        while True:
            listing = await self._sync.list_jobs(index=max(index, 1), wait_s=self._wait_s)
            index = await self._sync.take_listing(listing)
