"""Every message the bot posts on its own goes through here: Teams' limits, and retries.

- A per-conversation budget shared by all replicas (Redis, one Lua script): at most 7 messages
  per second and 60 per 30 seconds, Teams' documented limits for a bot in one conversation.
- Throttling (429), "busy" (412) and "unavailable" (503) are retried with exponential backoff and
  jitter, honouring Retry-After, for as long as the waits add up to at most 45 s (below the 60 s
  lease of the reminder sending it: a storm is sat out rather than counted out).
- A server or gateway error or no answer (500, 502, 504, timeout) is ambiguous for a new post (it
  may have been posted), so it is never blindly re-posted: the caller gets the failure (a reminder
  then marks it as maybe posted: `bot.reminders.posted`). An update is re-sent (replacing twice is
  harmless).
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from redis.asyncio import Redis

from bot.turn import Reply, SendFailed

logger = logging.getLogger(__name__)

# KEYS[1..n]: one counter per window; ARGV: now_ms, then (window_ms, limit) pairs.
# Returns 0 when the message may go now (and counts it), else the milliseconds to wait.
_TAKE = """
local now = tonumber(ARGV[1])
local wait = 0
for i = 1, #KEYS do
  local window = tonumber(ARGV[2 * i])
  local limit = tonumber(ARGV[2 * i + 1])
  local slot = math.floor(now / window)
  local used = tonumber(redis.call('HGET', KEYS[i], slot) or '0')
  if used >= limit then
    wait = math.max(wait, (slot + 1) * window - now)
  end
end
if wait > 0 then return wait end
for i = 1, #KEYS do
  local window = tonumber(ARGV[2 * i])
  local slot = math.floor(now / window)
  redis.call('HINCRBY', KEYS[i], slot, 1)
  redis.call('PEXPIRE', KEYS[i], 2 * window)
end
return 0
"""

WINDOWS = ((1_000, 7), (30_000, 60))  # (window in ms, messages allowed in it)
MAX_ATTEMPTS = 5  # for an ambiguous failure of an update (re-sent: replacing twice is harmless)
MAX_WAIT = 45.0  # seconds of backoff in all for one message, whatever Teams answers
BASE_DELAY = 0.5
MAX_DELAY = 30.0


class Sender(Protocol):
    async def send_to(self, reference: dict[str, Any], reply: Reply) -> str: ...

    async def update_in(self, reference: dict[str, Any], activity_id: str, reply: Reply) -> str: ...


class Outbound:
    def __init__(self, sender: Sender, redis: Redis, *, prefix: str, clock_ms: Callable[[], float],
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
                 jitter: Callable[[], float] = random.random, base_delay: float = BASE_DELAY) -> None:
        self._sender = sender
        self._redis = redis
        self._prefix = prefix
        self._take = redis.register_script(_TAKE)
        self._clock_ms = clock_ms
        self._sleep = sleep
        self._jitter = jitter
        self._base_delay = base_delay

    async def send_to(self, reference: dict[str, Any], reply: Reply) -> str:
        """Post a new message; returns its id."""
        return await self._within_limits(reference, lambda: self._sender.send_to(reference, reply))

    async def update_in(self, reference: dict[str, Any], activity_id: str, reply: Reply) -> str:
        """Replace a posted message (replacing twice is harmless, so an ambiguous failure is retried too)."""
        return await self._within_limits(reference, lambda: self._sender.update_in(reference, activity_id, reply),
                                         idempotent=True)

    async def _within_limits(self, reference: dict[str, Any], send: Callable[[], Awaitable[str]], *,
                             idempotent: bool = False) -> str:
        conversation = str((reference.get("conversation") or {}).get("id", ""))
        attempt, waited = 0, 0.0
        while True:
            attempt += 1
            await self._wait_for_budget(conversation)
            try:
                return await send()
            except SendFailed as failure:
                again = failure.throttled or (idempotent and failure.ambiguous and attempt < MAX_ATTEMPTS)
                delay = self._backoff(attempt, failure.retry_after)
                if not again or waited + delay > MAX_WAIT:
                    logger.warning("message to %s not sent after %d attempt(s) (%s)%s", conversation, attempt,
                                   failure, ": may have been posted, not re-posted" if failure.ambiguous else "")
                    raise
                logger.info("Teams refused a message to %s (%s); retrying in %.1fs", conversation, failure, delay)
                await self._sleep(delay)
                waited += delay

    def _backoff(self, attempt: int, retry_after: float | None) -> float:
        exponential = min(MAX_DELAY, self._base_delay * 2 ** (attempt - 1))
        delay = exponential * (0.5 + self._jitter() / 2)  # jitter keeps replicas from retrying in step
        return max(delay, retry_after or 0.0)

    async def _wait_for_budget(self, conversation: str) -> None:
        keys = [f"{self._prefix}{{{conversation}}}:{window}" for window, _ in WINDOWS]
        args: list[float] = [self._clock_ms()]
        for window, limit in WINDOWS:
            args += [window, limit]
        while (wait_ms := int(await self._take(keys=keys, args=args))) > 0:
            await self._sleep(wait_ms / 1000)
            args[0] = self._clock_ms()
