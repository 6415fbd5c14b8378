"""Blocking queries: `?index=N&wait=D` re-runs a read until its index passes N or D elapses.

As Nomad's `blockingRPC`: the wait defaults to 5 minutes and is capped at 5 minutes, a
random jitter of up to wait/16 is added, `index` 0 or absent means no blocking, and a return
does not promise a change. Waiting costs one future per request, resolved by the store when
a table the query read is written, so thousands of waiters cost nothing while idle.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable, Iterable
from typing import TypeVar

from nomad_bridge.sim.query import QueryOptions
from nomad_bridge.sim.state import Store

DEFAULT_WAIT_S = 300.0
MAX_WAIT_S = 300.0
JITTER_FRACTION = 16

T = TypeVar("T")


def wait_time_s(opts: QueryOptions) -> float:
    """TimeToBlock plus jitter: default and cap 5 minutes, up to wait/16 extra."""
    wait = opts.wait_s
    if wait is None or wait <= 0:
        wait = DEFAULT_WAIT_S
    wait = min(wait, MAX_WAIT_S)
    return wait + random.uniform(0, wait / JITTER_FRACTION)


async def blocking_query(
    store: Store,
    opts: QueryOptions,
    tables: Iterable[str],
    run: Callable[[], tuple[int, T]],
) -> tuple[int, T]:
    """Run `run` (returning `(index, result)`) until its index exceeds `opts.min_index`."""
    index, result = run()
    if opts.min_index == 0 or index > opts.min_index:
        return index, result
    watched = tuple(tables)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait_time_s(opts)
    while index <= opts.min_index and not store.closed:
        remaining = deadline - loop.time()
        if remaining <= 0:
            break
        fut = store.watch(watched)
        try:
            await asyncio.wait({fut}, timeout=remaining)
        finally:
            store.unwatch(fut, watched)
            fut.cancel()
        index, result = run()
    return index, result
