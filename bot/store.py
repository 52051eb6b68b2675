"""Redis: the bot's only state besides Odoo (dedupe keys, user mapping cache, later timers).

Production needs `REDIS_URL`; dev and demo fall back to an in-process stand-in (fakeredis)
with a warning, because nothing stored there survives a restart.
"""

from __future__ import annotations

import json
import logging
from typing import Any
from zoneinfo import ZoneInfo

from redis.asyncio import Redis

logger = logging.getLogger(__name__)

DEDUPE_TTL_SECONDS = 24 * 3600
USER_TTL_SECONDS = 24 * 3600


def connect_redis(url: str | None) -> Redis:
    if url:
        return Redis.from_url(url, decode_responses=True)
    from fakeredis import FakeAsyncRedis

    logger.warning("REDIS_URL is not set: using an in-process Redis stand-in; nothing persists across restarts")
    return FakeAsyncRedis(decode_responses=True)


class Store:
    def __init__(self, redis: Redis, prefix: str = "ticketbot:") -> None:
        self.redis = redis
        self._prefix = prefix

    def key(self, *parts: str) -> str:
        return self._prefix + ":".join(parts)

    async def first_delivery(self, activity_key: str) -> bool:
        """True the first time an activity is seen; Teams re-sends when the bot answers slowly."""
        return bool(await self.redis.set(self.key("seen", activity_key), "1", nx=True, ex=DEDUPE_TTL_SECONDS))

    async def odoo_user_id(self, teams_user_id: str) -> int | None:
        value = await self.redis.get(self.key("user", teams_user_id))
        return int(value) if value else None

    async def remember_odoo_user(self, teams_user_id: str, odoo_user_id: int) -> None:
        await self.redis.set(self.key("user", teams_user_id), str(odoo_user_id), ex=USER_TTL_SECONDS)

    async def ping(self) -> bool:
        try:
            return bool(await self.redis.ping())
        except Exception as error:  # any connection problem means "not ready"
            logger.warning("redis ping failed: %s", type(error).__name__)
            return False


class References:
    """Conversation references for proactive messages: each agent's 1:1 chat, and named channels."""

    def __init__(self, store: Store) -> None:
        self._store = store

    async def remember_personal(self, odoo_user_id: int, reference: dict[str, Any], timezone: str = "",
                                locale: str = "") -> None:
        """The agent's 1:1 chat, and the time zone and locale their Teams client reported (the times and
        the language of what the bot tells them on its own)."""
        await self._store.redis.hset(self._store.key("ref", "personal"), str(odoo_user_id), json.dumps(reference))
        if timezone:
            await self._store.redis.hset(self._store.key("ref", "timezone"), str(odoo_user_id), timezone)
        if locale:
            await self._store.redis.hset(self._store.key("ref", "locale"), str(odoo_user_id), locale)

    async def locale(self, odoo_user_id: int) -> str | None:
        """The Teams locale (`vi-VN`) of the agent's last message in their 1:1 chat, if known."""
        return await self._store.redis.hget(self._store.key("ref", "locale"), str(odoo_user_id))

    async def timezone(self, odoo_user_id: int) -> ZoneInfo | None:
        name = await self._store.redis.hget(self._store.key("ref", "timezone"), str(odoo_user_id))
        try:
            return ZoneInfo(name) if name else None
        except (KeyError, ValueError):
            return None

    async def personal(self, odoo_user_id: int) -> dict[str, Any] | None:
        raw = await self._store.redis.hget(self._store.key("ref", "personal"), str(odoo_user_id))
        return json.loads(raw) if raw else None

    async def register_channel(self, name: str, reference: dict[str, Any]) -> None:
        await self._store.redis.hset(self._store.key("ref", "channel"), name, json.dumps(reference))

    async def channel(self, name: str) -> dict[str, Any] | None:
        raw = await self._store.redis.hget(self._store.key("ref", "channel"), name)
        return json.loads(raw) if raw else None

    async def channels(self) -> dict[str, dict[str, Any]]:
        raw = await self._store.redis.hgetall(self._store.key("ref", "channel"))
        return {name: json.loads(value) for name, value in raw.items()}
