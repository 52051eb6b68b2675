"""Waiting in a test for something another task or process does."""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable


async def eventually(condition: Callable[[], bool | Awaitable[bool]], within: float, what: str, *,
                     every: float = 0.05) -> None:
    """Return once `condition()` holds (it may be a coroutine function); fail naming `what` after `within` s."""
    deadline = time.monotonic() + within
    while True:
        held = condition()
        if inspect.isawaitable(held):
            held = await held
        if held:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        await asyncio.sleep(every)
