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
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while not condition():
            remaining = deadline - loop.time()
            if remaining <= 0:
                return False
            try:
                async with asyncio.timeout(remaining):
                    await self._event.wait()
            except TimeoutError:
                return condition()
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
