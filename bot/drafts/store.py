"""Drafts in Redis: one hash each under an unguessable id, kept for a day.

Posting is claimed with a compare-and-set (open -> posting) that also fixes the text being posted, so a
double click, an invoke Teams delivers twice or two people at once post it once."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from redis.asyncio import Redis

from bot.drafts.model import Draft, DraftState, is_draft_id
from bot.store import Atomic, Store, redis_result

TTL = timedelta(hours=24)

# KEYS[1] the draft; ARGV: who, when, subject, text. 1: claimed; 0: not open; -1: no such draft (expired).
_CLAIM = """
local state = redis.call('HGET', KEYS[1], 'state')
if not state then return -1 end
if state ~= 'open' then return 0 end
redis.call('HSET', KEYS[1], 'state', 'posting', 'posted_by', ARGV[1], 'posted_at', ARGV[2],
           'subject', ARGV[3], 'text', ARGV[4])
return 1
"""
# KEYS[1] the draft; ARGV[1] the state it must be in, ARGV[2] the new one.
_MOVE = """
if redis.call('HGET', KEYS[1], 'state') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'state', ARGV[2])
return 1
"""


class DraftStore:
    def __init__(self, store: Store) -> None:
        self._redis: Redis = store.redis
        self._key = lambda draft_id: store.key("draft", draft_id)
        self._claim = self._redis.register_script(_CLAIM)
        self._move = self._redis.register_script(_MOVE)
        self._atomic = Atomic(self._redis)

    @staticmethod
    def new_id() -> str:
        return secrets.token_urlsafe(18)

    async def save(self, draft: Draft) -> None:
        key = self._key(draft.id)
        fields = [part for pair in draft.to_redis().items() for part in pair]
        await self._atomic([("HSET", key, *fields), ("EXPIRE", key, int(TTL.total_seconds()))])

    async def get(self, draft_id: str) -> Draft | None:
        """The draft, or None when the id is not one the bot made or the draft has expired."""
        if not is_draft_id(draft_id):
            return None
        raw = await redis_result(self._redis.hgetall(self._key(draft_id)))
        return Draft.from_redis(raw) if raw else None

    async def claim(self, draft_id: str, by: str, at: datetime, subject: str, text: str) -> bool:
        """Take the draft for posting with this subject and text; False if someone else has (or it expired)."""
        result = await self._claim(keys=[self._key(draft_id)], args=[by, at.isoformat(), subject, text])
        return int(result) == 1

    async def posted(self, draft_id: str) -> None:
        await self._move(keys=[self._key(draft_id)], args=[DraftState.POSTING.value, DraftState.POSTED.value])

    async def release(self, draft_id: str) -> None:
        """Posting failed (Odoo did not answer...): the draft can be posted again."""
        await self._move(keys=[self._key(draft_id)], args=[DraftState.POSTING.value, DraftState.OPEN.value])
