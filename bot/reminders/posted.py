"""Each post of a timer's firing is made once, even when the firing runs again.

A timer fires at least once: a claim whose replica was killed, or whose handler failed, fires again
after its lease. So every post a firing makes (the owner's 1:1 chat, each lead's, each channel, the
requester through Odoo) has a mark in Redis per (kind, key, due time, target): read before posting,
written right after the post succeeded. A firing that runs again posts only what is still missing.

What is left is the post itself: a replica killed after Teams took the message but before the mark was
written (the HTTP answer and one Redis write) posts it again when the firing runs again.
A failure that leaves it unknown whether the message was posted (502, 504, no answer) is marked like a
success: never twice, at the price of maybe never (it is logged).

Several reminders due together for one reader are posted as one card listing them (`post_for_all`): that card
stands for the post of each, so once it is posted each firing's mark for that reader is written, the same marks as
for a card of its own. A firing run again leaves out of its next card the readers its mark says were reached.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence

from bot.store import Store
from bot.timers import Timer
from bot.turn import SendFailed

logger = logging.getLogger(__name__)

MARK_TTL_SECONDS = 7 * 24 * 3600
POSTED, MAYBE = "posted", "maybe posted"


class FiringPosts:
    """The posts of one firing of `timer`. A target that fails is left for the next firing, the others
    are still tried; `raise_failure` then makes this firing fail, so the timer fires again."""

    def __init__(self, store: Store, timer: Timer) -> None:
        self._store = store
        self._timer = timer
        self.failures: list[Exception] = []

    def mark(self, target: str) -> str:
        timer = self._timer
        return self._store.key("posted", timer.kind, timer.key, timer.due.isoformat(), target)

    async def done(self, target: str) -> bool:
        """Whether this firing posted to `target` already (or maybe did)."""
        return bool(await self._store.redis.exists(self.mark(target)))

    async def post(self, target: str, send: Callable[[], Awaitable[object]]) -> bool:
        """Post to `target` unless this firing already did. True if it is posted (now or before); False if
        it failed (kept in `failures`) or `send` returned False (nowhere to post)."""
        redis, mark = self._store.redis, self.mark(target)
        try:
            if await redis.exists(mark):
                return True
            if await send() is False:
                return False
        except SendFailed as failure:
            if not failure.ambiguous:
                self.failures.append(failure)
                return False
            logger.warning("%s|%s to %s may or may not have been posted (%s): not posted again",
                           self._timer.kind, self._timer.key, target, failure)
            await redis.set(mark, MAYBE, ex=MARK_TTL_SECONDS)
            return True
        except Exception as error:  # Odoo or Redis failing for this target: the others are still tried
            self.failures.append(error)
            return False
        await redis.set(mark, POSTED, ex=MARK_TTL_SECONDS)
        return True

    def raise_failure(self) -> None:
        if self.failures:
            raise self.failures[0]


async def post_for_all(firings: Sequence[FiringPosts], target: str, send: Callable[[], Awaitable[object]]) -> bool:
    """One post to `target` (a card listing their reminders) standing for the post of each of `firings` (those that
    have not posted there yet: `FiringPosts.done`): each is marked once it is posted (or maybe posted), and each keeps
    the failure when it was not. True if it is posted; False if it failed or there was nowhere to post."""
    if not firings:
        return True
    redis = firings[0]._store.redis
    try:
        if await send() is False:
            return False
        state = POSTED
    except SendFailed as failure:
        if not failure.ambiguous:
            for firing in firings:
                firing.failures.append(failure)
            return False
        logger.warning("a card of %d reminders to %s may or may not have been posted (%s): not posted again",
                       len(firings), target, failure)
        state = MAYBE
    except Exception as error:  # Odoo or Redis failing for this target: the others are still tried
        for firing in firings:
            firing.failures.append(error)
        return False
    async with redis.pipeline(transaction=False) as pipe:
        for firing in firings:
            pipe.set(firing.mark(target), state, ex=MARK_TTL_SECONDS)
        await pipe.execute()
    return True
