"""The background loops' beat (outbox relay, lapsed-turn sweeper, Odoo poller, timer worker): a round, then
a pause that a stop cuts short. A failed round is logged and the next one runs: what the loops work on waits
in Redis or Odoo, so no failure ends a loop.

A loop that fails round after round is as stuck as one that ended (one ticket the poller cannot read stopped
its cursor, and no reminder followed Odoo any more): each loop's task keeps how many rounds failed in a row
(`failed_in_a_row`), and /healthz says the replica is not alive when a loop's last `UNHEALTHY_AFTER` rounds
failed. A round that failed because Redis or Odoo cannot be reached does not count: a restart would not bring
them back (/readyz reports them)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import weakref
from collections.abc import Awaitable, Callable

from redis.exceptions import RedisError

from bot.odoo.errors import OdooUnavailable

logger = logging.getLogger(__name__)

UNHEALTHY_AFTER = 5  # rounds failed in a row after which /healthz answers 503 for the loop
OUTAGES = (RedisError, OdooUnavailable, ConnectionError, TimeoutError)  # away, not broken: /readyz's business

_failed: weakref.WeakKeyDictionary[asyncio.Task[object], int] = weakref.WeakKeyDictionary()


def failed_in_a_row(task: asyncio.Task[object]) -> int:
    """How many of the loop's last rounds failed (outages left out); 0 after a round that worked."""
    return _failed.get(task, 0)


def round_done(error: BaseException | None) -> None:
    """Count the round that just ended in the current task (the loop's): failed with `error`, or worked (None)."""
    task = asyncio.current_task()
    if task is None:
        return
    if error is None:
        _failed.pop(task, None)
    elif not isinstance(error, OUTAGES):
        _failed[task] = _failed.get(task, 0) + 1
        if _failed[task] == UNHEALTHY_AFTER:
            logger.error("%s failed %d rounds in a row: /healthz reports it", task.get_name(), UNHEALTHY_AFTER)


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
        except Exception as error:
            logger.exception("%s: a round failed", what)
            round_done(error)
        else:
            round_done(None)
        await pause(stop, every)
