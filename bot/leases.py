"""Holding a lease in Redis while work runs: renewed every third of its length until the work ends."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from bot.rounds import pause

logger = logging.getLogger(__name__)


async def renew_until(ended: asyncio.Event, renew: Callable[[], Awaitable[bool]], *, every: float, what: str) -> None:
    """Call `renew` every `every` seconds until `ended` is set; return early once it answers False (the lease
    lapsed: someone else may take the work over). A failed renewal is tried again at the next beat.

    Stopped by the event, never cancelled: a redis-py call cancelled mid-way was seen to return normally, and a
    cancelled keeper then renewed its lease for ever (the work never ended for anyone else)."""
    while True:
        await pause(ended, every)
        if ended.is_set():
            return
        try:
            if not await renew():
                logger.warning("%s was lost: someone else may take the work over", what)
                return
        except Exception:  # Redis away for a moment: the lease still has two thirds to go
            logger.warning("could not renew %s", what, exc_info=True)
