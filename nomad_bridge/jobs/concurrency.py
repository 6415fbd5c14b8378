"""Two asyncio building blocks of the live view: waking every waiter at once, and running
many Nomad requests with a bound on how many are in flight."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


class Broadcast:
    """Wakes every current waiter at once; a waiter arriving later waits for the next fire.

    Waiting costs no task per waiter (`asyncio.timeout`, not `wait_for`): thousands of long
    polls are thousands of futures on one event.
    """

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def fire(self) -> None:
        event, self._event = self._event, asyncio.Event()
        event.set()

    async def wait_until(self, condition: Callable[[], bool], timeout_s: float) -> bool:
        """Wait, re-checking on every fire, until `condition` holds or the time is up."""
        deadline = asyncio.get_running_loop().time() + timeout_s
        while not condition():
            if not await self.next_fire(deadline):
                return condition()
        return True

    async def next_fire(self, deadline: float) -> bool:
        """Wait for the next fire until the loop's clock reads `deadline`; False if none came.
        Long polls call this in their own loop: no closure, one frame less per waiter."""
        try:
            async with asyncio.timeout_at(deadline):
                await self._event.wait()
        except TimeoutError:
            return False
        return True


async def bounded_map(
    limit: int, func: Callable[[T], Awaitable[R]], items: Iterable[T]
) -> list[R | BaseException]:
    """Run `func` over `items` with at most `limit` at once; failures come back as values."""
    semaphore = asyncio.Semaphore(limit)

    async def run(item: T) -> R:
        async with semaphore:
            return await func(item)

    return await asyncio.gather(*(run(item) for item in items), return_exceptions=True)
