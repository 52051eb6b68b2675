"""Each Teams activity runs once to the end: a claim with a lease, in Redis, shared by the replicas.

Teams sends an activity again when the bot is slow to answer, or when the replica it went to died.
The first delivery claims the activity and holds a short lease, renewed while its turn runs; at the
end the activity is marked done (kept 24 h).

- a delivery while the turn still runs (the lease is held): ignored;
- a delivery after the turn ended: ignored;
- a delivery after the process running it died (the lease lapsed, never marked done): it runs
  again, as a command that may have run before (`again`), so what landed the first time is found
  in Odoo and not written twice (bot.odoo.idempotency).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from enum import StrEnum

from redis.asyncio import Redis

logger = logging.getLogger(__name__)

KEEP_SECONDS = 24 * 3600  # how long a delivered activity is remembered

# KEYS: state, lease. ARGV: token, lease ms, keep s. The state is "running" or "done"; the lease
# holds the token of the turn running it. The Redis client re-sends a command whose reply was lost
# (bot.store.connect_redis): a claim that finds its own token took the lease the first time, and
# answers 'again' (the safe answer: the turn looks in Odoo before writing).
_CLAIM = """
local state = redis.call('GET', KEYS[1])
if state == 'done' then return 'done' end
if redis.call('GET', KEYS[2]) == ARGV[1] then return 'again' end
if not redis.call('SET', KEYS[2], ARGV[1], 'NX', 'PX', ARGV[2]) then return 'running' end
redis.call('SET', KEYS[1], 'running', 'EX', ARGV[3])
if state then return 'again' end
return 'first'
"""
_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
"""
_FINISH = """
if redis.call('GET', KEYS[2]) == ARGV[1] then redis.call('DEL', KEYS[2]) end
if ARGV[2] == 'done' then redis.call('SET', KEYS[1], 'done', 'EX', ARGV[3]) end
return 1
"""


class Delivery(StrEnum):
    FIRST = "first"
    AGAIN = "again"  # an earlier delivery started it and its process died
    RUNNING = "running"  # another delivery is running it now
    DONE = "done"

    @property
    def runs(self) -> bool:
        return self in (Delivery.FIRST, Delivery.AGAIN)


@dataclass(frozen=True)
class Claim:
    delivery: Delivery
    token: str


class Deliveries:
    def __init__(self, redis: Redis, prefix: str, *, lease: float = 10.0) -> None:
        self._redis = redis
        self._prefix = prefix
        self.lease = lease
        self._claim = redis.register_script(_CLAIM)
        self._renew = redis.register_script(_RENEW)
        self._finish = redis.register_script(_FINISH)

    def _keys(self, activity_key: str) -> list[str]:
        return [f"{self._prefix}{activity_key}", f"{self._prefix}{activity_key}:lease"]

    async def claim(self, activity_key: str) -> Claim:
        token = secrets.token_hex(8)
        answer = await self._claim(keys=self._keys(activity_key), args=[token, self._lease_ms, KEEP_SECONDS])
        return Claim(Delivery(answer), token)

    @asynccontextmanager
    async def running(self, activity_key: str, claim: Claim) -> AsyncIterator[None]:
        """Hold the lease while the block runs; mark the activity done when it ends (with an answer, or an
        error the turn answers). Cancelled (the process is stopping), it gives the lease back: the next
        delivery runs it again."""
        keeper = asyncio.create_task(self._keep_lease(activity_key, claim.token))
        outcome = "done"
        try:
            yield
        except asyncio.CancelledError:
            outcome = "released"
            raise
        finally:
            keeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await keeper
            await self._finish(keys=self._keys(activity_key), args=[claim.token, outcome, KEEP_SECONDS])

    async def _keep_lease(self, activity_key: str, token: str) -> None:
        lease_key = self._keys(activity_key)[1]
        while True:
            await asyncio.sleep(self.lease / 3)
            try:
                if not await self._renew(keys=[lease_key], args=[token, self._lease_ms]):
                    logger.warning("the lease on %s was lost: a re-delivery may run it as well", activity_key)
                    return
            except Exception:  # Redis away for a moment: try again at the next beat
                logger.warning("could not renew the lease on %s", activity_key, exc_info=True)

    @property
    def _lease_ms(self) -> int:
        return int(self.lease * 1000)
