"""Redis: the bot's only state besides Odoo (dedupe keys, user mapping cache, later timers).

Production needs `REDIS_URL`: one server, a Redis Cluster or a Sentinel setup (`connect_redis`); dev and demo fall
back to an in-process stand-in (fakeredis) with a warning, because nothing stored there survives a restart.

On a Redis Cluster, the keys a Lua script (or `Atomic`) touches together must be in one hash slot: they share a
hash tag, the part of the key between the first `{` and the next `}` (`beside` makes a key in another key's
slot). The layout is in docs/operations.md ("Redis Cluster and Sentinel").
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from contextvars import ContextVar
from typing import Any, TypeVar, cast
from zoneinfo import ZoneInfo

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.cluster import ClusterNode, RedisCluster
from redis.asyncio.retry import Retry
from redis.asyncio.sentinel import Sentinel, SentinelConnectionPool
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisClusterException, RedisError, SlotNotCoveredError

from bot.settings import RedisNodes, redis_nodes

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
    CLIENT_NAME (`redis-cli CLIENT LIST` shows which are the bot's).

    `url` may name a Redis Cluster (`redis+cluster://`: the bound is per node, and a command is sent again by
    redis-py on a fresh view of the cluster after a lost connection or a timeout, as a failover looks like that)
    or a Sentinel setup (`redis+sentinel://`: the sentinels say where the master is, again after a failover).

    A cluster's client is not a `Redis` but is typed as one here, on purpose: it takes the same commands and
    scripts, which is all the bot sends (redis-py annotates `register_script` for `Redis` alone, although the
    cluster's client has it too). What differs is kept out of the bot: no MULTI/EXEC pipeline (`Atomic`
    instead) and no command on keys of two slots. tests/test_redis_topologies.py runs the stores on a real
    cluster."""
    if not url:
        from fakeredis import FakeAsyncRedis  # only without REDIS_URL (the demo, --dev): production never loads it

        logger.warning("REDIS_URL is not set: using an in-process Redis stand-in; nothing persists across restarts")
        return FakeAsyncRedis(decode_responses=True)
    options: dict[str, Any] = {
        "client_name": CLIENT_NAME, "decode_responses": True, "socket_timeout": timeout,
        "socket_connect_timeout": timeout, "health_check_interval": HEALTH_CHECK_SECONDS, "retry": Reconnecting(),
        "retry_on_error": [RedisConnectionError]}
    if not url.startswith("unix:"):
        options["socket_keepalive"] = True  # a unix socket has no keepalive
    nodes = redis_nodes(url)
    if nodes is not None and nodes.kind == "cluster":
        # redis-py's annotations leave RedisCluster's connection_pool abstract: it has one pool per node instead
        return cast(Redis, _Cluster(nodes, max_connections, options))  # type: ignore[abstract]
    if nodes is not None:
        return _sentinel_master(nodes, max_connections, options)
    pool = BlockingConnectionPool.from_url(url, max_connections=max_connections, timeout=POOL_WAIT_SECONDS,
                                           **options)
    return Redis.from_pool(pool)  # closing the client closes the pool


def _credentials(nodes: RedisNodes) -> dict[str, Any]:
    return {"username": nodes.username, "password": nodes.password, "ssl": nodes.tls}


# What a connection of redis-py's reads and writes through: when a failover makes redis-py 5.2.1's cluster client
# drop a node, it closes that node's connections, and a command still using one then finds its stream reader or
# writer gone (None): "'NoneType' object has no attribute 'writelines'" (a CI rehearsal's failover under load).
_STREAM_METHODS = frozenset({"write", "writelines", "drain", "read", "readline", "readexactly", "readuntil", "at_eof"})


def _closed_under_it(error: AttributeError) -> bool:
    """Whether `error` is a connection closed under a command (a lost connection: tried again, as the bot's rounds
    and turns do), not a bug."""
    return getattr(error, "obj", object()) is None and getattr(error, "name", "") in _STREAM_METHODS


class _Cluster(RedisCluster):
    """redis-py's cluster client, bounded like the pool of one server's: at most `max_connections` connections to
    each node, and at most as many commands in flight (past them a command waits up to POOL_WAIT_SECONDS for one
    to end, then fails with ConnectionError, as BlockingConnectionPool does: redis-py's cluster client would
    fail at once)."""

    def __init__(self, nodes: RedisNodes, max_connections: int, options: dict[str, Any]) -> None:
        super().__init__(startup_nodes=[ClusterNode(host, port) for host, port in nodes.nodes],
                         max_connections=max_connections, **_credentials(nodes), **options)
        self._in_flight = asyncio.Semaphore(max_connections)

    async def execute_command(self, *args: Any, **kwargs: Any) -> Any:
        try:
            await asyncio.wait_for(self._in_flight.acquire(), POOL_WAIT_SECONDS)
        except TimeoutError:
            raise RedisConnectionError("No connection available.") from None
        try:
            return await super().execute_command(*args, **kwargs)
        except SlotNotCoveredError as error:  # a master lost and none took over (yet): the cluster is down
            raise RedisConnectionError(str(error)) from error
        except AttributeError as error:
            if not _closed_under_it(error):
                raise
            raise RedisConnectionError(f"the connection was closed while in use ({error})") from error
        finally:
            self._in_flight.release()

    async def initialize(self) -> RedisCluster:
        """Find the nodes and slots. No node answering, or the slots not all covered, is a Redis that does not
        answer (ConnectionError, as for one server: a turn says so, a round tries again), not a crash: redis-py
        raises RedisClusterException, which is not one of its RedisErrors."""
        try:
            return await super().initialize()
        except RedisClusterException as error:
            raise RedisConnectionError(str(error)) from error

    async def script_load(self, script: Any) -> str:
        """Load a script on every node, replicas too (redis-py's: on the masters it knows of). A script Redis has
        forgotten (NOSCRIPT: a failover, a restart) is loaded again by redis-py before it sends EVALSHA again; just
        after a failover this client may still take the promoted replica for a replica: it has the script too."""
        return str(await self.execute_command("SCRIPT LOAD", script, target_nodes=self.ALL_NODES))

    async def aclose(self, close_connection_pool: bool | None = None) -> None:
        """Close every node's connections (`close_connection_pool`: as one server's client takes it)."""
        await super().aclose()


class _BlockingSentinelPool(SentinelConnectionPool, BlockingConnectionPool):
    """A pool of connections to the master the sentinels name that waits for a free connection past its bound,
    like the pool of one server's client (redis-py's sentinel pool has no bound)."""


class _SentinelMaster(Redis):
    """The master's client; closing it closes the connections to the sentinels too."""

    sentinels: Sentinel | None = None

    async def aclose(self, close_connection_pool: bool | None = None) -> None:
        await super().aclose(close_connection_pool)
        for client in self.sentinels.sentinels if self.sentinels else ():
            await client.aclose()


def _sentinel_master(nodes: RedisNodes, max_connections: int, options: dict[str, Any]) -> Redis:
    """The client of the master the sentinels name: it asks them again after a lost connection, or when the
    server it reaches has become a replica (a failover). The sentinels are asked without the password (they
    usually have none of their own), over TLS with `rediss+sentinel://`."""
    sentinel_options = {name: value for name, value in options.items() if name.startswith("socket_")}
    sentinel = Sentinel(list(nodes.nodes), sentinel_kwargs={**sentinel_options, "ssl": nodes.tls})
    master = sentinel.master_for(nodes.master, redis_class=_SentinelMaster,
                                 connection_pool_class=_BlockingSentinelPool, db=nodes.db,
                                 max_connections=max_connections, timeout=POOL_WAIT_SECONDS,
                                 check_connection=True, **_credentials(nodes), **options)
    master.sentinels = sentinel
    return master


def hash_tag(key: str) -> str:
    """What Redis Cluster hashes of `key` to find its slot: the part between its first `{` and the next `}` when
    that is not empty, else the whole key."""
    opening = key.find("{")
    closing = key.find("}", opening + 1) if opening >= 0 else -1
    return key[opening + 1:closing] if closing > opening + 1 else key


def beside(key: str, name: str) -> str:
    """A key in the hash slot of `key` (for a script or `Atomic` that touches both): `key` itself keeps its name,
    so what an older version stored under it is still found."""
    return key + ":" + name if hash_tag(key) != key else "{" + key + "}:" + name


# KEYS: one per command (its key). ARGV: each command as its length, its name, then its arguments after the key.
# Returns each command's answer, in order.
_ATOMIC = r"""
local answers, at, index = {}, 1, 0
while at <= #ARGV do
  local count = tonumber(ARGV[at])
  index = index + 1
  local args = {ARGV[at + 1], KEYS[index]}
  for j = at + 2, at + count do args[#args + 1] = ARGV[j] end
  answers[index] = redis.call(unpack(args))
  at = at + count + 1
end
return answers
"""

Command = Sequence[str | int | float]  # a command's name, its key, then its arguments: ("HSET", key, "f", "v")


class Atomic:
    """Commands run together and atomically, as one Lua script: what a MULTI/EXEC pipeline did, which redis-py's
    cluster client does not offer. Each command names one key; all keys in one hash slot (a shared hash tag).
    The answers are Redis's own, not parsed by redis-py (a score is a string, a missing value None)."""

    def __init__(self, redis: Redis) -> None:
        self._script = redis.register_script(_ATOMIC)

    async def __call__(self, commands: Iterable[Command]) -> list[Any]:
        keys: list[str] = []
        args: list[str] = []
        for command in commands:
            name, key, *rest = command
            keys.append(str(key))
            args += [str(len(rest) + 1), str(name), *(str(arg) for arg in rest)]
        return list(await self._script(keys=keys, args=args)) if keys else []


class Store:
    def __init__(self, redis: Redis, prefix: str = "ticketbot:") -> None:
        self.redis = redis
        self._prefix = prefix

    def key(self, *parts: str) -> str:
        return self._prefix + ":".join(parts)

    def tagged(self, *parts: str) -> str:
        """The start of keys that a Redis Cluster keeps in one hash slot, whatever follows: `{ticketbot:delivery}:`."""
        return "{" + self.key(*parts) + "}:"

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
