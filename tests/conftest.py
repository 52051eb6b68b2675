"""Shared fixtures: a real redis-server, the Odoo double and a Bot Connector stub over real
HTTP, and the bot itself built by `create_app` exactly as production builds it."""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from hypothesis import settings as hypothesis_settings
from redis.asyncio import Redis

from bot.demo.seed import seed_scenarios
from bot.server import RUNTIME, Runtime, create_app
from bot.settings import Mode, OdooSettings, Settings
from bot.store import connect_redis
from odoo_double import OdooSandbox, create_sandbox_app
from tests.support.connector import ConnectorStub
from tests.support.faultproxy import FaultProxy
from tests.support.logs import Records
from tests.support.odoo_view import OdooView
from tests.support.proxied_odoo import proxy_in_front_of, served_like_odoo
from tests.support.redis_cluster import local_cluster, local_sentinels
from tests.support.redis_server import redis_server
from tests.support.teams import TeamsClient, TeamsUser

# Property tests check properties, not speed (speed is measured under bench/): no per-example deadline,
# which a busy CI machine would turn into failures. On a developer's machine each run explores new examples;
# in CI (.ci/run sets CI) the examples are the same every run, so that a red CI is always the change's doing.
hypothesis_settings.register_profile("explore", deadline=None)
hypothesis_settings.register_profile("ci", deadline=None, derandomize=True)
hypothesis_settings.load_profile("ci" if os.environ.get("CI") else "explore")

# Scenario 1 of the seeds starts on Jan 29, 3:33 PM in Vietnam (UTC+7).
START = datetime(2025, 1, 29, 8, 33, tzinfo=UTC)

AGENT = TeamsUser("29:agent-huy", "Phạm Quốc Huy", "huy.pq@mindx.edu.vn")  # the seeded tickets are Tiến's
LEAD = TeamsUser("29:lead-lan", "Trần Thị Lan", "lan.tt@mindx.edu.vn")
MANAGER = TeamsUser("29:manager-trang", "Hoàng Thu Trang", "trang.ht@mindx.edu.vn")  # MindX's Support Manager group
STRANGER = TeamsUser("29:stranger", "Somebody Else", "nobody@elsewhere.example")


class FakeClock:
    """The one clock the bot and the Odoo double read; tests move it."""

    def __init__(self, start: datetime) -> None:
        self.current = start

    def now(self) -> datetime:
        return self.current

    def advance(self, **delta: float) -> datetime:
        self.current += timedelta(**delta)
        return self.current


@dataclass
class RunningSandbox:
    odoo: OdooSandbox
    url: str


# The Redis the tests' bot runs on: one redis-server, or with TEST_REDIS=cluster a Redis Cluster of 6 nodes, with
# TEST_REDIS=sentinel a master, a replica and 3 sentinels (`make test-redis-topologies` runs the reliability tests
# on each; tests/test_redis_topologies.py runs the key paths on all three in every run).
REDIS_KIND = os.environ.get("TEST_REDIS", "server")


@contextmanager
def redis_of_kind(kind: str, workdir: Path) -> Iterator[str]:
    """A running Redis of `kind` (server, cluster or sentinel): its REDIS_URL."""
    if kind == "cluster":
        with local_cluster(workdir) as cluster:
            yield cluster.url
    elif kind == "sentinel":
        with local_sentinels(workdir) as sentinels:
            yield sentinels.url
    else:
        with redis_server(workdir) as url:
            yield url


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with redis_of_kind(REDIS_KIND, tmp_path_factory.mktemp("redis")) as url:
        yield url


def redis_client(url: str) -> Redis:
    """A test's own client of the Redis at `url` (one server's, or a cluster's or sentinels' by bot.store)."""
    return Redis.from_url(url, decode_responses=True) if url.startswith(("redis:", "unix:")) else connect_redis(url)


async def all_keys(redis: Redis, pattern: str = "*") -> list[str]:
    """Every key matching `pattern`, sorted: on each master of a cluster."""
    if hasattr(redis, "get_primaries"):
        return sorted(await redis.keys(pattern, target_nodes=redis.get_primaries()))  # type: ignore[call-arg]
    return sorted(await redis.keys(pattern))


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[Redis]:
    """A client of the tests' Redis, emptied."""
    client = redis_client(redis_url)
    await client.flushall()
    yield client
    await client.aclose()


@pytest.fixture
def logged() -> Iterator[Records]:
    """Every log record written while the test runs."""
    handler = Records()
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield handler
    finally:
        root.removeHandler(handler)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


async def _serve(app: web.Application) -> TestServer:
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    return server


def series_for(request: pytest.FixtureRequest) -> str:
    """The Odoo series a test's double speaks: 19.0 where the test speaks JSON-2 (only Odoo 19 has it), else 17.0."""
    callspec = getattr(request.node, "callspec", None)
    return "19.0" if callspec is not None and callspec.params.get("protocol") == "json2" else "17.0"


@pytest.fixture
async def sandbox(request: pytest.FixtureRequest, clock: FakeClock) -> AsyncIterator[RunningSandbox]:
    odoo = OdooSandbox(flavour="helpdesk_mgmt", db="helpdesk", login="admin", password="admin",
                       api_key="test-api-key", clock=clock.now, series=series_for(request))
    seed_scenarios(odoo)
    server = await _serve(create_sandbox_app(odoo))
    yield RunningSandbox(odoo, str(server.make_url("")).rstrip("/"))
    await server.close()


@pytest.fixture
async def proxy(sandbox: RunningSandbox) -> AsyncIterator[FaultProxy]:
    """The Odoo double served like Odoo, behind the fault proxy: the bot's way to Odoo in the fault tests."""
    async with served_like_odoo(sandbox.odoo) as url:
        with proxy_in_front_of(url) as running:
            yield running


@pytest.fixture
def odoo(sandbox: RunningSandbox) -> OdooView:
    """What the Odoo double holds, read the way a test asserts on it."""
    return OdooView(sandbox.odoo)


@pytest.fixture
async def connector() -> AsyncIterator[tuple[ConnectorStub, str]]:
    stub = ConnectorStub()
    for user in (AGENT, LEAD, MANAGER, STRANGER):
        stub.add_member(user.id, user.name, user.email)
    server = await _serve(stub.app())
    yield stub, str(server.make_url("")).rstrip("/")
    await server.close()


def bot_settings(redis_url: str, odoo_url: str, *, protocol: str = "xmlrpc", mode: Mode = Mode.DEV,
                 **overrides: object) -> Settings:
    """Settings for a bot under test: the timer worker and the poller are driven by the tests."""
    odoo = OdooSettings(url=odoo_url, db="helpdesk", login="admin", api_key="test-api-key", protocol=protocol)
    overrides.setdefault("background_tasks", False)
    # a busy test machine is not a slow Odoo: turns are not cut short by their deadlines here (tests/test_deadlines.py
    # sets its own, with Odoo made slow)
    overrides.setdefault("message_deadline", 60.0)
    overrides.setdefault("invoke_deadline", 60.0)
    return Settings(mode=mode, odoo=odoo, redis_url=redis_url, **overrides)  # type: ignore[arg-type]


@pytest.fixture
def process_profile() -> str:
    """The process profile the bot runs: a shipped name or a YAML file (a test module overrides this fixture)."""
    return "mindx"


@pytest.fixture
async def bot_server(redis: Redis, redis_url: str, sandbox: RunningSandbox, clock: FakeClock, process_profile: str
                     ) -> AsyncIterator[TestServer]:
    """The bot running for real (dev mode: no auth), built by create_app like production."""
    server = await _serve(create_app(bot_settings(redis_url, sandbox.url, process_profile=process_profile),
                                     clock=clock.now))
    yield server
    await server.close()


@pytest.fixture
def runtime(bot_server: TestServer) -> Runtime:
    """The running bot's parts (timer worker, poller...), for tests that drive time."""
    return bot_server.app[RUNTIME]


@pytest.fixture
async def teams(bot_server: TestServer, connector: tuple[ConnectorStub, str]) -> AsyncIterator[TeamsClient]:
    """A Teams client talking to the bot as AGENT."""
    stub, connector_url = connector
    async with aiohttp.ClientSession() as session:
        yield TeamsClient(str(bot_server.make_url("/api/messages")), connector_url, stub, session, AGENT)
