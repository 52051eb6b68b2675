"""Every message the bot posts on its own goes through here: Teams' limits, and retries.

- Teams' budgets, shared by all replicas (Redis, Lua): per conversation at most 7 messages a second, 60 in 30 s and
  1,800 in an hour, and per tenant (every conversation of the organisation together) at most 50 requests a second
  per app (`TeamsBudget`, the documented numbers, from the settings). Each window is a sliding log (a sorted set of
  the moments messages went), so "at most N in any window" holds for every window, not only for calendar seconds.
- Throttling (429), "busy" (412) and "unavailable" (503) are retried with exponential backoff and
  jitter, honouring Retry-After, for as long as the waits add up to at most 45 s (below the 60 s
  lease of the reminder sending it: a storm is sat out rather than counted out).
- A server or gateway error or no answer (500, 502, 504, timeout) is ambiguous for a new post (it
  may have been posted), so it is never blindly re-posted: the caller gets the failure (a reminder
  then marks it as maybe posted: `bot.reminders.posted`). An update is re-sent (replacing twice is
  harmless).

Key layout (each Lua call touches the keys of one hash slot, as a Redis Cluster requires):

    {prefix}{<conversation id>}:<window ms>   sorted set  message token -> when it went (ms)   per conversation
    {prefix}{tenant:<tenant id>}:<window ms>  sorted set  message token -> when it went (ms)   per tenant

The tenant's budget and the conversation's are two script calls (two slots), taken in this order: the
conversation's first, then the tenant's; when the tenant's is spent, the conversation's token is given back
before waiting, and both are taken again afterwards. A message is sent only while it holds a token of each, and
a token is only ever given back unused, so neither budget counts fewer messages than went: neither is over-spent
(a token held for the moment between the two calls only makes others wait a little longer). The conversation's
goes first because it is the narrow one (one chat), so giving it back holds up nobody but that chat; taking the
tenant's first and giving it back while a busy chat waits would hold up every conversation of the organisation.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
import random
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from redis.asyncio import Redis

from bot.turn import Reply, SendFailed

logger = logging.getLogger(__name__)

# KEYS[1..n]: one sorted set per window, all in one hash slot; ARGV: now_ms ("" for the Redis server's clock), the
# message's token, the margin (ms), then (window_ms, limit) pairs. Returns 0 when the message may go now (and counts
# it in every window), else the milliseconds to wait before trying again.
_TAKE = """
local now, token, margin = tonumber(ARGV[1]), ARGV[2], tonumber(ARGV[3])
if not now then
  local time = redis.call('TIME')
  now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
end
local wait = 0
for i = 1, #KEYS do
  local span = tonumber(ARGV[2 + 2 * i]) + margin
  local limit = tonumber(ARGV[3 + 2 * i])
  redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', now - span)
  local used = redis.call('ZCARD', KEYS[i])
  if used >= limit then
    local leaving = redis.call('ZRANGE', KEYS[i], used - limit, used - limit, 'WITHSCORES')
    wait = math.max(wait, tonumber(leaving[2]) + span - now, 1)
  end
end
if wait > 0 then return math.ceil(wait) end
for i = 1, #KEYS do
  redis.call('ZADD', KEYS[i], now, token)
  redis.call('PEXPIRE', KEYS[i], math.ceil(2 * tonumber(ARGV[2 + 2 * i]) + margin))  -- kept a window longer
end
return 0
"""

# The same token given back (never sent): KEYS as above, ARGV[1] the token.
_GIVE_BACK = """
for i = 1, #KEYS do redis.call('ZREM', KEYS[i], ARGV[1]) end
return 0
"""

Windows = Sequence[tuple[int, int]]  # (window in ms, messages allowed in it)


@dataclass(frozen=True)
class TeamsBudget:
    """Teams' documented limits for a bot (the defaults), or the settings' (`TEAMS_*`)."""

    per_conversation: Windows = ((1_000, 7), (30_000, 60), (3_600_000, 1_800))
    per_tenant: Windows = ((1_000, 50),)
    # a message is counted when its token is taken and reaches Teams a moment later: each window is kept this much
    # longer, so that the messages Teams receives in any of its windows were taken within the bot's
    margin_ms: int = 50


DOCUMENTED = TeamsBudget()  # Teams' documented numbers
WINDOWS = DOCUMENTED.per_conversation
MAX_ATTEMPTS = 5  # for an ambiguous failure of an update (re-sent: replacing twice is harmless)
MAX_WAIT = 45.0  # seconds of backoff in all for one message, whatever Teams answers
BASE_DELAY = 0.5
MAX_DELAY = 30.0
NO_TENANT = "unknown"  # the tenant of a reference that names none (kept before the bot stored it): one shared budget


def tenant_of(reference: dict[str, Any], default: str = "") -> str:
    """The Microsoft 365 tenant a conversation reference belongs to: `conversation.tenantId` (bot.adapter keeps it
    in the references it makes), else `channelData.tenant.id`, else `default`, else one shared "unknown" tenant."""
    conversation = reference.get("conversation") or {}
    channel_data = reference.get("channelData") or {}
    named = conversation.get("tenantId") or (channel_data.get("tenant") or {}).get("id") or default
    return str(named).lower() or NO_TENANT


class Sender(Protocol):
    async def send_to(self, reference: dict[str, Any], reply: Reply) -> str: ...

    async def update_in(self, reference: dict[str, Any], activity_id: str, reply: Reply) -> str: ...


class Outbound:
    def __init__(self, sender: Sender, redis: Redis, *, prefix: str, clock_ms: Callable[[], float] | None = None,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
                 jitter: Callable[[], float] = random.random, base_delay: float = BASE_DELAY,
                 budget: TeamsBudget = DOCUMENTED, default_tenant: str = "") -> None:
        self._sender = sender
        self._redis = redis
        self._prefix = prefix
        self._take = redis.register_script(_TAKE)
        self._give_back = redis.register_script(_GIVE_BACK)
        self._clock_ms = clock_ms
        self._sleep = sleep
        self._jitter = jitter
        self._base_delay = base_delay
        self._budget = budget
        self._default_tenant = default_tenant
        self._tokens = (f"{os.getpid()}.{random.getrandbits(32):x}.{n}" for n in itertools.count())

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
        tenant = tenant_of(reference, self._default_tenant)
        attempt, waited = 0, 0.0
        while True:
            attempt += 1
            await self._wait_for_budget(conversation, tenant)
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

    def _keys(self, tag: str, windows: Windows) -> list[str]:
        return [f"{self._prefix}{{{tag}}}:{window}" for window, _ in windows]

    def _args(self, token: str, windows: Windows) -> list[float | str]:
        # the moment a token is taken is the Redis server's (one clock for every replica, read as the script runs:
        # a moment read here would be late by however long the call waited); a test gives its own clock
        args: list[float | str] = [self._clock_ms() if self._clock_ms else "", token, self._budget.margin_ms]
        for window, limit in windows:
            args += [window, limit]
        return args

    async def _wait_for_budget(self, conversation: str, tenant: str) -> None:
        """Until this message holds a token of its conversation's budget and one of its tenant's (the order, and why
        neither is over-spent: the module's docstring)."""
        budget = self._budget
        chat_keys, tenant_keys = self._keys(conversation, budget.per_conversation), self._keys(
            f"tenant:{tenant}", budget.per_tenant)
        while True:
            token = next(self._tokens)
            while (wait_ms := int(await self._take(keys=chat_keys, args=self._args(token, budget.per_conversation)))):
                await self._sleep(wait_ms / 1000)
            wait_ms = int(await self._take(keys=tenant_keys, args=self._args(token, budget.per_tenant)))
            if not wait_ms:
                return
            await self._give_back(keys=chat_keys, args=[token])
            await self._sleep(wait_ms / 1000)
