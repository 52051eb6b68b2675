"""The bot's connections to Redis are bounded (REDIS_MAX_CONNECTIONS): a burst of turns waits for a free
connection instead of opening one per turn. Counted by the real redis-server (CLIENT LIST), where the bot's
connections carry its name."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from redis.asyncio import Redis

from bot.server import create_app
from bot.settings import Mode, SettingsError, load_settings
from bot.store import CLIENT_NAME
from tests.conftest import AGENT, FakeClock, RunningSandbox, bot_settings
from tests.support.connector import ConnectorStub
from tests.support.teams import TeamsClient

BOUND, BURST = 8, 200


async def bots_connections(redis: Redis) -> int:
    return sum(client.get("name") == CLIENT_NAME for client in await redis.client_list())


@pytest.fixture
async def bounded(redis: Redis, redis_url: str, sandbox: RunningSandbox, clock: FakeClock,
                  connector: tuple[ConnectorStub, str]) -> AsyncIterator[TeamsClient]:
    stub, connector_url = connector
    server = TestServer(create_app(bot_settings(redis_url, sandbox.url, redis_max_connections=BOUND),
                                   clock=clock.now), host="127.0.0.1")
    await server.start_server()
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=BURST)) as session:
        yield TeamsClient(str(server.make_url("/api/messages")), connector_url, stub, session, AGENT)
    await server.close()


async def test_a_burst_of_200_turns_uses_at_most_the_bound(bounded: TeamsClient, redis: Redis) -> None:
    """Figures: 200 turns at once, each answered; the bot's connections to Redis never more than 8 (without the
    bound: 201)."""
    peak = 0
    done = asyncio.Event()

    async def watch() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, await bots_connections(redis))
            await asyncio.sleep(0.005)

    watcher = asyncio.create_task(watch())
    await asyncio.gather(*(bounded.say("/ticket help") for _ in range(BURST)))  # each answered 200 or 201
    done.set()
    await watcher
    assert len(bounded.connector.posted) == BURST  # one help card each
    after = await bots_connections(redis)
    assert 1 <= after <= BOUND and peak <= BOUND, (after, peak)


def test_the_bound_is_a_setting() -> None:
    assert load_settings({}, Mode.DEV).redis_max_connections == 50
    assert load_settings({"REDIS_MAX_CONNECTIONS": "12"}, Mode.DEV).redis_max_connections == 12
    for wrong in ("0", "1", "-5", "many", "²", "1e3"):
        with pytest.raises(SettingsError, match=r"^REDIS_MAX_CONNECTIONS: expected a whole number"):
            load_settings({"REDIS_MAX_CONNECTIONS": wrong}, Mode.DEV)
