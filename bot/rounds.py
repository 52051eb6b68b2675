"""The background loops' beat (outbox relay, lapsed-turn sweeper, Odoo poller, timer worker): a round, then
a pause that a stop cuts short. A failed round is logged and the next one runs: what the loops work on waits
in Redis or Odoo, so no failure ends a loop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

logger = logging.getLogger(__name__)


async def pause(stop: asyncio.Event, seconds: float) -> None:
    """Wait `seconds`, or until `stop` is set."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)


async def in_rounds(stop: asyncio.Event, run_once: Callable[[], Awaitable[object]], *, every: float,
                    what: str) -> None:
    """Run `run_once` every `every` seconds until `stop` is set (a round in progress finishes first)."""
    while not stop.is_set():
        try:
            await run_once()
        except Exception:
            logger.exception("%s: a round failed", what)
        await pause(stop, every)
