"""Redis: the bot's only state besides Odoo (dedupe keys, user mapping cache, later timers).

Production needs `REDIS_URL`; dev and demo fall back to an in-process stand-in (fakeredis)
with a warning, because nothing stored there survives a restart.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from typing import Any, TypeVar, cast
from zoneinfo import ZoneInfo

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

USER_TTL_SECONDS = 10 * 60  # who a Teams user is in Odoo (bot.people): a roster or Odoo change is seen within this
T = TypeVar("T")


REDIS_TIMEOUT_SECONDS = 2.0  # a command that gets no answer in this long fails (a turn says so, never hangs)
RECONNECT_SECONDS = 2.5  # how long a command waits for a lost connection to come back (a Redis restart)
HEALTH_CHECK_SECONDS = 5  # a connection idle this long is PINGed before use (a restarted Redis is noticed)
MAX_CONNECTIONS = 50  # REDIS_MAX_CONNECTIONS: connections open to Redis at most, per replica
POOL_WAIT_SECONDS = 5.0  # how long a command waits for a free connection when all of them are in use
CLIENT_NAME = "ticketbot"  # CLIENT SETNAME of each connection


def redis_result(command: Awaitable[T] | T) -> Awaitable[T]:
    """What a command of the asyncio client gives, typed as it is: redis-py types its hash and set commands once
    for both of its clients (`Awaitable[T] | T`), while the asyncio client's always give an awaitable."""
    return cast(Awaitable[T], command)


_deadline: ContextVar[float | None] = ContextVar("redis_reconnect_deadline", default=None)


class Reconnecting(Retry):
    """Connect again and re-send after a lost or refused connection (redis-py's ConnectionError, the OS's
    while connecting), 0.05, 0.1, 0.2, 0.4, 0.5... s apart, until `within` seconds have passed since the
    command started: one deadline per command rather than a count per call, because redis-py nests these
    calls (the health check and connecting happen inside sending)."""

    def __init__(self, within: float = RECONNECT_SECONDS) -> None:
        super().__init__(ExponentialBackoff(cap=0.5, base=0.025), retries=-1,
                         # redis-py annotates RedisError subclasses only, but retries on any exception type given
                         supported_errors=(RedisConnectionError, ConnectionError))  # type: ignore[arg-type]
        self.within = within

    async def call_with_retry(self, do: Callable[[], Awaitable[T]], fail: Callable[[RedisError], Any]) -> T:
        outermost = _deadline.get() is None
        token = _deadline.set(time.monotonic() + self.within) if outermost else None
        deadline = _deadline.get() or 0.0
        try:
            failures = 0
            while True:
                try:
                    return await do()
                except self._supported_errors as error:
                    failures += 1
                    await fail(error)
                    pause = self._backoff.compute(failures)
                    if time.monotonic() + pause > deadline:
                        raise
                    await asyncio.sleep(pause)
        finally:
            if token is not None:
                _deadline.reset(token)


def connect_redis(url: str | None, *, timeout: float = REDIS_TIMEOUT_SECONDS,
                  max_connections: int = MAX_CONNECTIONS) -> Redis:
    """A client that survives a Redis restart by itself (`Reconnecting`); a command that gets no answer
    within `timeout` fails at once, and is not re-sent: Redis is hung or cut off, and whoever waits should
    hear so. Idle connections are checked before use.

    At most `max_connections` connections are open (each is a file descriptor here and a client in Redis, and
    redis-py's own pool has no bound: a burst of 200 turns opened 201): past them a command waits for one to be
    free, up to POOL_WAIT_SECONDS, then fails like a Redis that does not answer. The connections carry the name
    CLIENT_NAME (`redis-cli CLIENT LIST` shows which are the bot's)."""
    if url:
        tcp = {} if url.startswith("unix:") else {"socket_keepalive": True}  # a unix socket has no keepalive
        pool = BlockingConnectionPool.from_url(
            url, max_connections=max_connections, timeout=POOL_WAIT_SECONDS, client_name=CLIENT_NAME,
            decode_responses=True, socket_timeout=timeout, socket_connect_timeout=timeout,
            health_check_interval=HEALTH_CHECK_SECONDS, retry=Reconnecting(), retry_on_error=[RedisConnectionError],
            **tcp)
        return Redis.from_pool(pool)  # closing the client closes the pool
    from fakeredis import FakeAsyncRedis  # only without REDIS_URL (the demo, --dev): production never loads it

    logger.warning("REDIS_URL is not set: using an in-process Redis stand-in; nothing persists across restarts")
    return FakeAsyncRedis(decode_responses=True)


class Store:
    def __init__(self, redis: Redis, prefix: str = "ticketbot:") -> None:
        self.redis = redis
        self._prefix = prefix

    def key(self, *parts: str) -> str:
        return self._prefix + ":".join(parts)

    async def odoo_user_id(self, aad_object_id: str) -> int | None:
        """The Odoo user remembered for the Teams user with this Azure AD object id (bot.people), if any."""
        value = await self.redis.get(self.key("user", "aad", aad_object_id.lower()))
        return int(value) if value and value.isascii() and value.isdigit() else None

    async def remember_odoo_user(self, aad_object_id: str, odoo_user_id: int) -> None:
        """Remember for USER_TTL_SECONDS who the Teams user with this AAD object id is in Odoo ("": not remembered)."""
        if aad_object_id:
            await self.redis.set(self.key("user", "aad", aad_object_id.lower()), str(odoo_user_id),
                                 ex=USER_TTL_SECONDS)

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
        async with self._store.redis.pipeline(transaction=False) as pipe:  # one round trip, on every such turn
            pipe.hset(self._store.key("ref", "personal"), str(odoo_user_id), json.dumps(reference))
            if timezone:
                pipe.hset(self._store.key("ref", "timezone"), str(odoo_user_id), timezone)
            if locale:
                pipe.hset(self._store.key("ref", "locale"), str(odoo_user_id), locale)
            await pipe.execute()

    async def locale(self, odoo_user_id: int) -> str | None:
        """The Teams locale (`vi-VN`) of the agent's last message in their 1:1 chat, if known."""
        return await redis_result(self._store.redis.hget(self._store.key("ref", "locale"), str(odoo_user_id)))

    async def timezone(self, odoo_user_id: int) -> ZoneInfo | None:
        name = await redis_result(self._store.redis.hget(self._store.key("ref", "timezone"), str(odoo_user_id)))
        try:
            return ZoneInfo(name) if name else None
        except (KeyError, ValueError):
            return None

    async def personal(self, odoo_user_id: int) -> dict[str, Any] | None:
        raw = await redis_result(self._store.redis.hget(self._store.key("ref", "personal"), str(odoo_user_id)))
        return json.loads(raw) if raw else None

    async def register_channel(self, name: str, reference: dict[str, Any], *, by: str = "", at: str = "") -> None:
        """Post for `name` in the channel `reference` points to; `by` (an Odoo user's name) registered it `at` (an
        ISO time), as `/ticket channels` says."""
        await redis_result(self._store.redis.hset(self._store.key("ref", "channel"), name, json.dumps(reference)))
        if by or at:
            await redis_result(self._store.redis.hset(self._store.key("ref", "channel-by"), name,
                                                      json.dumps({"by": by, "at": at})))

    async def registrations(self) -> dict[str, dict[str, str]]:
        """Who registered each channel and when (`by`, `at`), for those registered since the bot records it."""
        raw = await redis_result(self._store.redis.hgetall(self._store.key("ref", "channel-by")))
        return {name: json.loads(value) for name, value in raw.items()}

    async def channel(self, name: str) -> dict[str, Any] | None:
        raw = await redis_result(self._store.redis.hget(self._store.key("ref", "channel"), name))
        return json.loads(raw) if raw else None

    async def channels(self) -> dict[str, dict[str, Any]]:
        raw = await redis_result(self._store.redis.hgetall(self._store.key("ref", "channel")))
        return {name: json.loads(value) for name, value in raw.items()}
