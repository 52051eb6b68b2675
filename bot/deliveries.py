"""Each Teams activity runs once to the end: a claim with a lease, in Redis, shared by the replicas.

Teams sends an activity again when the bot is slow to answer, or when the replica it went to died.
The first delivery claims the activity and holds a short lease, renewed while its turn runs; at the
end the activity is marked done (kept 24 h).

- a delivery while the turn still runs (the lease is held): ignored;
- a delivery after the turn ended: ignored;
- a delivery after the process running it died (the lease lapsed, never marked done): it runs
  again, as a command that may have run before (`again`), so what landed the first time is found
  in Odoo and not written twice (bot.odoo.idempotency).

Teams does not always deliver it again (it retries on some failures only, and not for long), so the
claim also keeps the turn itself (the `Incoming`, in the outbox's fields: bot.outbox.to_fields) and an
index of the leases by expiry (a sorted set). A claim whose lease lapsed more than `grace` ago (twice
the lease: a re-delivery gets the first chance) is taken over by the sweeper of a live replica
(bot.lapsed), which runs the turn again and answers in its chat. Taking over is a compare-and-set like
the claim: a re-delivery and the sweepers race for the one lease, and one of them runs it. What is kept
is what the outbox keeps (the text typed, the sender, the conversation reference), for as long as the
claim (24 h) and no longer than the turn: it is deleted when the turn is done. A turn taken over
`MAX_TAKEOVERS` times (it stopped every replica that ran it) is given up: marked done, the agent told.
Times are Redis's own (TIME in the scripts), so the replicas' clocks never disagree about a lease.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from enum import StrEnum

from redis.asyncio import Redis

from bot.leases import renew_until
from bot.outbox import from_fields, to_fields
from bot.turn import Incoming

logger = logging.getLogger(__name__)

KEEP_SECONDS = 24 * 3600  # how long a delivered activity is remembered
GRACE_LEASES = 2  # a lapsed claim waits this many leases for a re-delivery before a sweeper takes it over
MAX_TAKEOVERS = 3  # a turn that stopped this many sweepers' replicas is given up, not run again
UNKNOWN_USER = 0  # the kept fields' Odoo user: not known when a turn is claimed; the turn finds it (cached in Redis)

_NOW_MS = "local now = redis.call('TIME'); now = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)\n"

# KEYS: state, lease, turn, leases. ARGV: token, lease ms, keep s, activity key, then the turn's fields and
# values. The state is "running" or "done"; the lease holds the token of the turn running it; the turn is
# what a sweeper needs to run it again; `leases` indexes the activities in flight by lease expiry. The Redis
# client re-sends a command whose reply was lost (bot.store.connect_redis): a claim that finds its own
# token took the lease the first time, and answers 'again' (the safe answer: the turn looks in Odoo
# before writing).
_CLAIM = _NOW_MS + """
local state = redis.call('GET', KEYS[1])
if state == 'done' then return 'done' end
if redis.call('GET', KEYS[2]) == ARGV[1] then return 'again' end
if not redis.call('SET', KEYS[2], ARGV[1], 'NX', 'PX', ARGV[2]) then return 'running' end
redis.call('SET', KEYS[1], 'running', 'EX', ARGV[3])
redis.call('HSET', KEYS[3], unpack(ARGV, 5))
redis.call('EXPIRE', KEYS[3], ARGV[3])
redis.call('ZADD', KEYS[4], now + tonumber(ARGV[2]), ARGV[4])
if state then return 'again' end
return 'first'
"""
# KEYS: lease, leases. ARGV: token, lease ms, activity key.
_RENEW = _NOW_MS + """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('ZADD', KEYS[2], 'XX', now + tonumber(ARGV[2]), ARGV[3])
return redis.call('PEXPIRE', KEYS[1], ARGV[2])
"""
# KEYS: state, lease, turn, leases. ARGV: token, "done" or "released", keep s, activity key. Released (the
# process is stopping): the lease ends now, and the grace before a sweeper takes it over starts now.
_FINISH = _NOW_MS + """
local mine = redis.call('GET', KEYS[2]) == ARGV[1]
if mine then redis.call('DEL', KEYS[2]) end
if ARGV[2] == 'done' then
  redis.call('SET', KEYS[1], 'done', 'EX', ARGV[3])
  redis.call('DEL', KEYS[3])
  redis.call('ZREM', KEYS[4], ARGV[4])
elseif mine then
  redis.call('ZADD', KEYS[4], 'XX', now, ARGV[4])
end
return 1
"""
# KEYS: leases. ARGV: grace ms, how many. The activities whose lease lapsed more than the grace ago.
_LAPSED = _NOW_MS + """
return redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[1]), 'LIMIT', 0, tonumber(ARGV[2]))
"""
# KEYS: state, lease, turn, leases. ARGV: token, lease ms, grace ms, keep s, activity key, max takeovers.
# Takes the lease of a turn whose lease lapsed more than the grace ago and that is not done: {'taken', the
# turn's fields and values...}. Done, forgotten, or with nothing kept to run it with: {'gone'} (and out of
# the index). Someone holds the lease (a re-delivery, another sweeper): {'running'}. Lapsed too recently
# (a re-delivery ran it and stopped): {'waiting'}. Taken over too often: {'abandoned', fields...}, done.
_TAKE_OVER = _NOW_MS + """
if redis.call('GET', KEYS[1]) ~= 'running' or redis.call('EXISTS', KEYS[3]) == 0 then
  redis.call('ZREM', KEYS[4], ARGV[5])
  return {'gone'}
end
if redis.call('EXISTS', KEYS[2]) == 1 then return {'running'} end
local expiry = redis.call('ZSCORE', KEYS[4], ARGV[5])
if not expiry or tonumber(expiry) > now - tonumber(ARGV[3]) then return {'waiting'} end
local takeovers = redis.call('HINCRBY', KEYS[3], 'takeovers', 1)
local turn = redis.call('HGETALL', KEYS[3])
if takeovers > tonumber(ARGV[6]) then
  redis.call('SET', KEYS[1], 'done', 'EX', ARGV[4])
  redis.call('DEL', KEYS[3])
  redis.call('ZREM', KEYS[4], ARGV[5])
  table.insert(turn, 1, 'abandoned')
  return turn
end
redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[2])
redis.call('ZADD', KEYS[4], now + tonumber(ARGV[2]), ARGV[5])
table.insert(turn, 1, 'taken')
return turn
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
    activity_key: str
    delivery: Delivery
    token: str


@dataclass(frozen=True)
class Lapsed:
    """A turn whose replica died, taken over by a sweeper: run it under `claim` (held, as `again`), or, if
    `abandoned`, tell the agent it was given up (it is marked done already)."""

    claim: Claim
    incoming: Incoming
    abandoned: bool = False


class Deliveries:
    def __init__(self, redis: Redis, prefix: str, *, lease: float = 10.0) -> None:
        self._redis = redis
        self._prefix = prefix
        self._leases = prefix + "leases"  # no ':' in it: never an activity's key (conversation:activity)
        self.lease = lease
        self.grace = GRACE_LEASES * lease
        self._claim = redis.register_script(_CLAIM)
        self._renew = redis.register_script(_RENEW)
        self._finish = redis.register_script(_FINISH)
        self._lapsed = redis.register_script(_LAPSED)
        self._take_over = redis.register_script(_TAKE_OVER)

    def _keys(self, activity_key: str) -> list[str]:
        state = f"{self._prefix}{activity_key}"
        return [state, f"{state}:lease", f"{state}:turn", self._leases]

    async def claim(self, incoming: Incoming) -> Claim:
        """Claim the turn of `incoming`, keeping it for a sweeper in case this process dies running it."""
        token = secrets.token_hex(8)
        key = incoming.dedupe_key
        turn = [part for pair in to_fields(incoming, UNKNOWN_USER).items() for part in pair]
        answer = await self._claim(keys=self._keys(key), args=[token, self._lease_ms, KEEP_SECONDS, key, *turn])
        return Claim(key, Delivery(answer), token)

    @asynccontextmanager
    async def running(self, claim: Claim) -> AsyncIterator[None]:
        """Hold the lease while the block runs; mark the activity done when it ends (with an answer, or an
        error the turn answers). Cancelled (the process is stopping), it gives the lease back: the next
        delivery, or a sweeper after the grace, runs it again."""
        ended = asyncio.Event()
        keeper = asyncio.create_task(self._keep_lease(claim, ended))
        outcome = "done"
        try:
            yield
        except asyncio.CancelledError:
            outcome = "released"
            raise
        finally:
            ended.set()  # told, not cancelled (bot.leases)
            await keeper
            await self._finish(keys=self._keys(claim.activity_key),
                               args=[claim.token, outcome, KEEP_SECONDS, claim.activity_key])

    async def lapsed(self, count: int = 10) -> list[str]:
        """The activities whose lease lapsed more than the grace ago without the turn being done, oldest
        first: one call on the index, however many turns are in flight."""
        return list(await self._lapsed(keys=[self._leases], args=[int(self.grace * 1000), count]))

    async def take_over(self, activity_key: str) -> Lapsed | None:
        """Take the lease of a lapsed turn (compare-and-set: one sweeper or re-delivery wins); None if it is
        not to be run here (done, held by someone, or lapsed too recently)."""
        token = secrets.token_hex(8)
        answer = await self._take_over(keys=self._keys(activity_key), args=[
            token, self._lease_ms, int(self.grace * 1000), KEEP_SECONDS, activity_key, MAX_TAKEOVERS])
        verdict, turn = answer[0], dict(zip(answer[1::2], answer[2::2], strict=True))
        if verdict not in ("taken", "abandoned"):
            return None
        incoming, _ = from_fields(turn)
        return Lapsed(Claim(activity_key, Delivery.AGAIN, token), incoming, abandoned=verdict == "abandoned")

    async def _keep_lease(self, claim: Claim, ended: asyncio.Event) -> None:
        lease_key = self._keys(claim.activity_key)[1]

        async def renew() -> bool:
            return bool(await self._renew(keys=[lease_key, self._leases],
                                          args=[claim.token, self._lease_ms, claim.activity_key]))

        await renew_until(ended, renew, every=self.lease / 3, what=f"the lease on {claim.activity_key}")

    @property
    def _lease_ms(self) -> int:
        return int(self.lease * 1000)
