"""Timers in Redis: exactly one pending timer per (kind, key), claimed atomically with a lease.

Key layout (all keys share the hash tag `{prefix}`, so a Redis Cluster keeps one engine in one slot
and the Lua scripts may touch all of them):

    {prefix}:due        sorted set   "kind|key" -> due time (µs since the epoch)      the pending timers
    {prefix}:order      sorted set   "kind|key" -> rank x 10^13 + due time (ms)     the same, in the order they fire
    {prefix}:data       hash         "kind|key" -> JSON payload of the pending timer
    {prefix}:attempts   hash         "kind|key" -> failed claims so far for that due time (only after a requeue)
    {prefix}:inflight   sorted set   "kind|key" -> end of the claim's lease (µs)
    {prefix}:claims     hash         "kind|key" -> "token\\ndue\\nattempt\\nrank\\npayload" (the claim)
    {prefix}:cancelled  hash         "kind|key" -> "1" when cancelled while its claim was in flight

One due set for every kind (not one per kind): `claim_due` then takes the due timers of all kinds
in one script, and the set of kinds stays open (a new kind needs no new key, nor a change to the
scripts' key lists, which Redis Cluster requires to be declared). `pending(kind)` pays for it with
a ZSCAN of the set, which only tools and tests call.

Importance: a timer's data may carry a `rank` (0 the most important .. 9; `DEFAULT_RANK` without
one). When more timers are due than a claim takes (after an outage, a Redis restart, a Monday
morning), the most important go first, and the oldest first within a rank: `order` holds every
pending timer scored rank x 10^13 + its due time in ms (below 10^13 until the year 2286), so that
one ZRANGEBYSCORE per rank, from 0 up, finds the due ones in that order (the due time itself, to
the µs, stays in `due`). `order` is written with `due` in every script and transaction, so both
always hold the same members; a claim keeps the rank, so a requeued claim keeps its place.

At most one claim per (kind, key) is in flight: a timer rescheduled while its previous claim
runs stays pending until that claim is completed or its lease ends. Times are never read from
the Redis server's clock; callers pass "now".

The scripts use no `cjson` (the Lua of fakeredis, which `make demo` runs on, has none): a claim
is stored as lines, which is safe because the payload is JSON (no raw newline) and the token hex.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from redis.asyncio import Redis

from bot.store import Atomic, redis_result

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)
KIND_PATTERN = re.compile(r"[A-Za-z0-9_.:-]+")  # no "|" (the member separator), no glob characters (ZSCAN MATCH)

# A write committed atomically with `complete` (only if the claim was still held): the command
# name, the key, then the arguments, e.g. ("HSET", engine.key("sent"), "ack|42", "1").
Write = Sequence[str | int | float]

# KEYS: due, data, attempts, inflight, claims, order.  ARGV: now, lease end, limit, token prefix (µs / strings), then
# for each rank from 0 up the lowest and the highest `order` score of its timers due by now.
# Takes due members by rank, oldest first within a rank, skipping any whose previous claim is still in flight (and
# any due later in the same millisecond).
CLAIM = r"""
local due, data, attempts, inflight, claims, order = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
local now, lease_end, limit, prefix = tonumber(ARGV[1]), ARGV[2], tonumber(ARGV[3]), ARGV[4]
local out = {}
local taken = 0
for band = 5, #ARGV, 2 do
  local rank = math.floor((band - 5) / 2)
  local skipped = 0
  while taken < limit do
    local page = redis.call('ZRANGEBYSCORE', order, ARGV[band], ARGV[band + 1], 'LIMIT', skipped, limit - taken)
    if #page == 0 then break end
    for _, member in ipairs(page) do
      local score = redis.call('ZSCORE', due, member)
      if redis.call('ZSCORE', inflight, member) or not score or tonumber(score) > now then
        skipped = skipped + 1
      else
        taken = taken + 1
        local payload = redis.call('HGET', data, member) or '{}'
        local attempt = tonumber(redis.call('HGET', attempts, member) or '0') + 1
        local token = prefix .. ':' .. taken
        redis.call('ZREM', due, member)
        redis.call('ZREM', order, member)
        redis.call('HDEL', data, member)
        redis.call('HDEL', attempts, member)
        redis.call('ZADD', inflight, lease_end, member)
        redis.call('HSET', claims, member, token .. '\n' .. score .. '\n' .. attempt .. '\n' .. rank .. '\n' .. payload)
        out[#out + 1] = member
        out[#out + 1] = score
        out[#out + 1] = payload
        out[#out + 1] = token
        out[#out + 1] = attempt
        out[#out + 1] = rank
      end
    end
  end
end
return out
"""

# KEYS: inflight, claims, cancelled, then one key per extra write.  ARGV: member, token, then each write as
# its length followed by its command and arguments (without its key).  Returns 1 if this claim was held
# (and is now done), else 0.
COMPLETE = r"""
local inflight, claims, cancelled = KEYS[1], KEYS[2], KEYS[3]
local member, token = ARGV[1], ARGV[2]
local claim = redis.call('HGET', claims, member)
if not claim or string.match(claim, '^[^\n]*') ~= token then return 0 end
redis.call('ZREM', inflight, member)
redis.call('HDEL', claims, member)
redis.call('HDEL', cancelled, member)
local at, write = 3, 0
while at <= #ARGV do
  local count = tonumber(ARGV[at])
  write = write + 1
  local args = {ARGV[at + 1], KEYS[3 + write]}
  for j = at + 2, at + count do args[#args + 1] = ARGV[j] end
  redis.call(unpack(args))
  at = at + count + 1
end
return 1
"""

# KEYS: due, data, attempts, inflight, claims, cancelled, order.  ARGV: now, the rank's factor in `order`.
# A claim whose lease ended goes back to the due set at its own due time (and its rank), unless the timer was
# rescheduled (a pending one exists: it wins) or cancelled since it was claimed.
REQUEUE = r"""
local due, data, attempts, inflight, claims, cancelled = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
local order, factor = KEYS[7], tonumber(ARGV[2])
local expired = redis.call('ZRANGEBYSCORE', inflight, '-inf', ARGV[1])
local requeued = 0
for _, member in ipairs(expired) do
  local raw = redis.call('HGET', claims, member)
  redis.call('ZREM', inflight, member)
  redis.call('HDEL', claims, member)
  local was_cancelled = redis.call('HDEL', cancelled, member) == 1
  if raw and not was_cancelled and not redis.call('ZSCORE', due, member) then
    local _, score, attempt, rank, payload = string.match(raw, '^([^\n]*)\n([^\n]*)\n([^\n]*)\n([^\n]*)\n(.*)$')
    local at = math.min(math.max(math.floor(tonumber(score) / 1000), 0), factor - 1)
    redis.call('ZADD', due, score, member)
    redis.call('ZADD', order, string.format('%d', tonumber(rank) * factor + at), member)
    redis.call('HSET', data, member, payload)
    redis.call('HSET', attempts, member, attempt)
    requeued = requeued + 1
  end
end
return requeued
"""

# KEYS: due, data, attempts, inflight, cancelled, order.  ARGV: members.  Returns how many pending timers were removed.
CANCEL = r"""
local due, data, attempts, inflight, cancelled, order = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
local removed = 0
for _, member in ipairs(ARGV) do
  removed = removed + redis.call('ZREM', due, member)
  redis.call('ZREM', order, member)
  redis.call('HDEL', data, member)
  redis.call('HDEL', attempts, member)
  if redis.call('ZSCORE', inflight, member) then redis.call('HSET', cancelled, member, '1') end
end
return removed
"""


RANKS = 10  # 0 (the most important) .. 9
DEFAULT_RANK = 5  # a timer whose data names no rank
RANK_FACTOR = 10**13  # ms: `order` scores are rank x RANK_FACTOR + due time in ms (exact in a double up to rank 9)


def rank_of(data: Mapping[str, Any] | None) -> int:
    """The rank a timer's data gives it (`rank`, 0 first .. 9), else DEFAULT_RANK."""
    rank = (data or {}).get("rank", DEFAULT_RANK)
    return min(max(rank, 0), RANKS - 1) if isinstance(rank, int) and not isinstance(rank, bool) else DEFAULT_RANK


def order_score(rank: int, due_micros: int) -> int:
    return rank * RANK_FACTOR + min(max(due_micros // 1000, 0), RANK_FACTOR - 1)


@dataclass(frozen=True)
class Timer:
    kind: str
    key: str
    due: datetime
    data: Mapping[str, Any] = field(default_factory=dict)
    token: str = ""  # set on claimed timers: identifies this claim
    attempt: int = 0  # on claimed timers: 1 for the first claim of this due time, +1 after each expired lease

    @property
    def member(self) -> str:
        return f"{self.kind}|{self.key}"


def to_micros(moment: datetime) -> int:
    if moment.tzinfo is None:
        raise ValueError(f"timer times must be timezone-aware, got {moment!r}")
    return (moment - EPOCH) // MICROSECOND


def from_micros(value: str | bytes | float | int) -> datetime:
    return EPOCH + timedelta(microseconds=int(float(value)))


def _text(value: str | bytes) -> str:
    return value.decode() if isinstance(value, bytes) else value


def member_of(kind: str, key: str) -> str:
    kind = str(kind)
    if not KIND_PATTERN.fullmatch(kind):
        raise ValueError(f"a timer kind is letters, digits and _.:- only, got {kind!r}")
    return f"{kind}|{key}"


def _split(member: str) -> tuple[str, str]:
    kind, _, key = member.partition("|")
    return kind, key


def _encode(data: Mapping[str, Any] | None) -> str:
    return json.dumps(dict(data or {}), separators=(",", ":"), sort_keys=True)


class TimerEngine:
    def __init__(self, redis: Redis, *, prefix: str = "ticketbot:timers",
                 lease: timedelta = timedelta(seconds=60)) -> None:
        if lease <= timedelta(0):
            raise ValueError("the lease must be positive")
        self.redis = redis
        self.prefix = prefix
        self.lease = lease
        self._due, self._data, self._attempts = self.key("due"), self.key("data"), self.key("attempts")
        self._inflight, self._claims, self._cancelled = self.key("inflight"), self.key("claims"), self.key("cancelled")
        self._order = self.key("order")
        self._claim = redis.register_script(CLAIM)
        self._complete = redis.register_script(COMPLETE)
        self._requeue = redis.register_script(REQUEUE)
        self._cancel = redis.register_script(CANCEL)
        self._atomic = Atomic(redis)  # MULTI/EXEC as a script: redis-py's cluster pipelines have no transactions

    def key(self, name: str) -> str:
        """A key in this engine's hash slot (for writes committed with `complete` on a Redis Cluster)."""
        return f"{{{self.prefix}}}:{name}"

    async def schedule(self, kind: str, key: str, due: datetime, data: Mapping[str, Any] | None = None) -> None:
        """The one pending timer for (kind, key) is now this one (due time and data replaced)."""
        await self.schedule_many([(kind, key, due, data)])

    async def schedule_many(self, timers: Iterable[tuple[str, str, datetime, Mapping[str, Any] | None]]) -> int:
        """`schedule` for many timers in one round trip (e.g. rebuilding the timers at start-up)."""
        commands: list[Write] = []
        for kind, key, due, data in timers:
            member = member_of(kind, key)
            commands += [("ZADD", self._due, to_micros(due), member),
                         ("ZADD", self._order, order_score(rank_of(data), to_micros(due)), member),
                         ("HSET", self._data, member, _encode(data)), ("HDEL", self._attempts, member)]
        await self._atomic(commands)
        return len(commands) // 4

    async def cancel(self, kind: str, key: str) -> bool:
        """Remove the pending timer; a claim in flight finishes, but is not requeued if its lease ends."""
        return await self.cancel_all(key, [kind]) == 1

    async def cancel_all(self, key: str, kinds: Iterable[str]) -> int:
        members = [member_of(kind, key) for kind in kinds]
        if not members:
            return 0
        keys = [self._due, self._data, self._attempts, self._inflight, self._cancelled, self._order]
        return int(await self._cancel(keys=keys, args=members))

    async def get(self, kind: str, key: str) -> Timer | None:
        return (await self.get_all(key, [kind]))[kind]

    async def get_all(self, key: str, kinds: Iterable[str], *, claimed: bool = False) -> dict[str, Timer | None]:
        """The pending timer of each kind for `key` (None where there is none), in one round trip. With
        `claimed`, a kind with no pending timer gives its claim in flight, if any (with its token and attempt):
        it fires now, or again after its lease if its replica died."""
        kinds = list(kinds)
        members = [member_of(kind, key) for kind in kinds]
        scores, payloads, claims = await self._atomic([("ZMSCORE", self._due, *members),
                                                       ("HMGET", self._data, *members),
                                                       ("HMGET", self._claims, *members)])
        found: dict[str, Timer | None] = {}
        for kind, score, payload, claim in zip(kinds, scores, payloads, claims, strict=True):
            if score is not None:
                found[kind] = Timer(str(kind), key, from_micros(score), json.loads(payload or "{}"))
            elif claimed and claim:
                token, due, attempt, _, data = _text(claim).split("\n", 4)
                found[kind] = Timer(str(kind), key, from_micros(due), json.loads(data), token, int(attempt))
            else:
                found[kind] = None
        return found

    async def pending(self, kind: str | None = None) -> list[Timer]:
        """The pending timers (of one kind, or all), ordered by due time."""
        if kind is None:
            scored = await self.redis.zrange(self._due, 0, -1, withscores=True)
        else:
            prefix = member_of(kind, "")
            scored = [item async for item in self.redis.zscan_iter(self._due, match=prefix + "*", count=1000)]
            scored.sort(key=lambda item: item[1])
        members = [_text(member) for member, _ in scored]
        payloads = await redis_result(self.redis.hmget(self._data, members)) if members else []
        timers = []
        for member, (_, score), payload in zip(members, scored, payloads, strict=True):
            kind_, key = _split(member)
            timers.append(Timer(kind_, key, from_micros(score), json.loads(payload or "{}")))
        return timers

    async def claim_due(self, now: datetime, limit: int = 100) -> list[Timer]:
        """Atomically move up to `limit` timers due at `now` into the in-flight set: the most important first (their
        `rank`), the oldest first within a rank."""
        if limit <= 0:
            return []
        keys = [self._due, self._data, self._attempts, self._inflight, self._claims, self._order]
        args: list[int | str] = [to_micros(now), to_micros(now + self.lease), limit, secrets.token_hex(12)]
        for band in range(RANKS):
            args += [order_score(band, 0), order_score(band, to_micros(now))]
        flat = await self._claim(keys=keys, args=args)
        ranked = []
        for i in range(0, len(flat), 6):
            member, score, payload, token, attempt, rank = (_text(v) if isinstance(v, bytes) else v
                                                            for v in flat[i:i + 6])
            kind, key = _split(member)
            ranked.append((int(rank), Timer(kind, key, from_micros(score), json.loads(payload), token, int(attempt))))
        ranked.sort(key=lambda item: (item[0], item[1].due))  # `order` has milliseconds: the µs put right (stable)
        return [timer for _, timer in ranked]

    async def complete(self, timer: Timer, writes: Iterable[Write] = ()) -> bool:
        """The claim is done. True if it was still held (its token matches); only then are `writes`
        committed, atomically with it: that makes them exactly-once per timer. A timer rescheduled
        meanwhile stays pending. On a Redis Cluster the writes' keys must share this engine's
        slot (`engine.key(...)`)."""
        if not timer.token:
            raise ValueError("only a claimed timer (with a token) can be completed")
        keys = [self._inflight, self._claims, self._cancelled]
        args = [timer.member, timer.token]
        for write in writes:
            command, key, *rest = write
            keys.append(str(key))
            args += [str(len(rest) + 1), str(command), *(str(arg) for arg in rest)]
        return bool(await self._complete(keys=keys, args=args))

    async def requeue_expired(self, now: datetime) -> int:
        """Reaper: claims whose lease ended by `now` become pending again at their own due time,
        unless the timer was rescheduled (the new one wins) or cancelled while in flight."""
        keys = [self._due, self._data, self._attempts, self._inflight, self._claims, self._cancelled, self._order]
        return int(await self._requeue(keys=keys, args=[to_micros(now), RANK_FACTOR]))

    async def in_flight(self) -> int:
        return int(await self.redis.zcard(self._inflight))
