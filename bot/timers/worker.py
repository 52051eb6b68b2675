"""The loop that fires due timers: reap expired leases, claim what is due, run the handler, complete.

At-least-once: a handler that raises (or outlives the lease) leaves its claim in flight, so the
timer fires again once the lease ends, which is also what happens to the claims of a worker
process that dies. After `max_attempts` failed attempts for the same due time the timer is
logged as an error and completed. Handlers make their effects idempotent (keyed by
`timer.token`, or by kind, key and due time), or return Redis writes that the worker commits
atomically with `complete`, which makes those writes exactly-once.

A `Gathering` takes the timers of some kinds of a round together (the reminders: several due for one person make
one card): it is given all of them at once and says how each went, and each is then completed, or left to fire
again after its lease, exactly as if it had been fired alone. The claims are the same, so exactly-once is too.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from datetime import datetime
from typing import Protocol

from bot.rounds import pause, round_done
from bot.timers.engine import Timer, TimerEngine, Write

logger = logging.getLogger(__name__)

# A handler returns None, or writes to commit atomically with the completion of its claim.
Handler = Callable[[Timer], Awaitable[Iterable[Write] | None]]
MAX_ATTEMPTS = 5


class Gathering(Protocol):
    """Fires the timers it `takes` of one round together: one outcome per timer, in their order (None: done, it is
    completed; an exception: it failed, and fires again after its lease)."""

    def takes(self, timer: Timer) -> bool: ...

    async def __call__(self, timers: Sequence[Timer]) -> Sequence[BaseException | None]: ...


class TimerWorker:
    def __init__(self, engine: TimerEngine, handler: Handler, *, clock: Callable[[], datetime], batch: int = 100,
                 idle_sleep: float = 0.2, concurrency: int = 8, max_attempts: int = MAX_ATTEMPTS,
                 gathering: Gathering | None = None) -> None:
        if batch < 1 or concurrency < 1 or max_attempts < 1:
            raise ValueError("batch, concurrency and max_attempts must be at least 1")
        self._engine = engine
        self._handler = handler
        self._clock = clock
        self._batch = batch
        self._idle_sleep = idle_sleep
        self._concurrency = concurrency
        self._max_attempts = max_attempts
        self._gathering = gathering

    async def run_once(self) -> int:
        """Reap expired leases, claim what is due now and fire it; returns how many timers were claimed."""
        now = self._clock()
        requeued = await self._engine.requeue_expired(now)
        if requeued:
            logger.warning("%d timer claim(s) outlived their lease and were requeued", requeued)
        claimed = await self._engine.claim_due(now, self._batch)
        if claimed:
            lease_end = now + self._engine.lease
            slots = asyncio.Semaphore(self._concurrency)
            gathering = self._gathering
            together = [timer for timer in claimed if gathering is not None and gathering.takes(timer)]
            alone = [timer for timer in claimed if timer not in together]
            await asyncio.gather(*(self._fire(timer, slots, lease_end) for timer in alone),
                                 *([self._fire_together(together)] if together else []))
        return len(claimed)

    async def _fire_together(self, timers: list[Timer]) -> None:
        assert self._gathering is not None
        outcomes: Sequence[BaseException | None]
        try:
            async with asyncio.timeout(self._engine.lease.total_seconds()):
                outcomes = await self._gathering(timers)
        except Exception as error:
            outcomes = [error] * len(timers)
        await asyncio.gather(*(self._done(timer, outcome, None) for timer, outcome in zip(timers, outcomes,
                                                                                           strict=True)))

    async def _done(self, timer: Timer, failure: BaseException | None, writes: Iterable[Write] | None) -> None:
        """Complete `timer`, unless it failed and has attempts left (then it fires again after its lease)."""
        if failure is not None:
            if timer.attempt < self._max_attempts:
                logger.error("timer %s|%s (due %s) failed, attempt %d of %d; it fires again after its lease",
                             timer.kind, timer.key, timer.due.isoformat(), timer.attempt, self._max_attempts,
                             exc_info=failure)
                return
            logger.error("timer %s|%s (due %s) failed %d times; given up", timer.kind, timer.key,
                         timer.due.isoformat(), timer.attempt, exc_info=failure)
            writes = None
        if not await self._engine.complete(timer, writes or ()):
            logger.warning("timer %s|%s (due %s): claim lost before completion (lease ended); it may fire again",
                           timer.kind, timer.key, timer.due.isoformat())

    async def _fire(self, timer: Timer, slots: asyncio.Semaphore, lease_end: datetime) -> None:
        async with slots:
            if self._clock() >= lease_end:  # waited too long for a slot: the claim is void, it fires again
                logger.warning("timer %s|%s (due %s) waited past its lease; left to be requeued",
                               timer.kind, timer.key, timer.due.isoformat())
                return
            failure: BaseException | None = None
            writes: Iterable[Write] | None = None
            try:
                async with asyncio.timeout(self._engine.lease.total_seconds()):
                    writes = await self._handler(timer)
            except Exception as error:
                failure = error
            await self._done(timer, failure, writes)

    async def run(self, stop: asyncio.Event) -> None:
        """Until `stop` is set: fire due timers, and when nothing was due wait `idle_sleep` (so a timer
        fires within about that long after its due time). A round in progress when `stop` is set
        finishes first (its handlers complete)."""
        while not stop.is_set():
            try:
                claimed = await self.run_once()
            except Exception as error:  # Redis away: keep trying, the timers wait in Redis
                logger.exception("timer worker: a round failed")
                round_done(error)
                claimed = 0
            else:
                round_done(None)
            if claimed == 0:
                await pause(stop, self._idle_sleep)
