"""The real-Odoo suite: runs against a server brought up by `make odoo-up SERIES=<S>` (tools/real_odoo.py), whose
connection it reads from `.odoo/<S>/env`. `make test` leaves it out (its tests carry the `real_odoo` marker, which
pyproject deselects by default); `make test-odoo SERIES=<S>` runs it with ODOO_SERIES=<S>."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import xmlrpc.client
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import AsyncExitStack, contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from redis.asyncio import Redis

from bot.odoo.models import HELPDESK_MGMT, PROJECT_TASK
from bot.odoo.transport import OdooCredentials, OdooTransport, make_transport
from bot.process import load_profile
from bot.server import RUNTIME, Runtime, create_app
from bot.settings import GitLabSettings
from tests.conftest import FakeClock, bot_settings
from tests.real_odoo.view import Cast, RealOdooView, cast
from tests.scenarios import DEVELOPER, Desk
from tests.support.connector import ConnectorStub
from tests.support.faultproxy import FaultProxy
from tests.support.proxied_odoo import Relay, proxy_in_front_of, through
from tests.support.teams import TeamsClient, TeamsUser, card_text

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class RealOdoo:
    series: str
    url: str
    login: str
    api_key: str
    dbs: dict[str, str]  # helpdesk, projects
    env: dict[str, str]

    @property
    def major(self) -> int:
        return int(self.series.split(".")[0])

    @property
    def protocols(self) -> tuple[str, ...]:
        return ("xmlrpc", "jsonrpc", "json2") if self.major >= 19 else ("xmlrpc", "jsonrpc")


def _running() -> list[str]:
    return sorted(p.parent.name for p in (ROOT / ".odoo").glob("*/env"))


def _series_known() -> bool:
    return bool(os.environ.get("ODOO_SERIES", "").strip()) or len(_running()) == 1


def _series() -> str:
    series = os.environ.get("ODOO_SERIES", "").strip()
    if series:
        return series
    running = _running()
    if len(running) == 1:
        return running[0]
    raise pytest.UsageError("set ODOO_SERIES to 17.0, 18.0 or 19.0 (make test-odoo SERIES=19.0)")


def load_real_odoo(series: str) -> RealOdoo:
    path = ROOT / ".odoo" / series / "env"
    if not path.exists():
        pytest.fail(f"no real Odoo {series} is up ({path} is missing): run `make odoo-up SERIES={series}`")
    env = dict(line.split("=", 1) for line in path.read_text().splitlines() if "=" in line and line[0] != "#")
    try:
        xmlrpc.client.ServerProxy(f"{env['ODOO_URL']}/xmlrpc/2/common").version()
    except OSError as error:
        pytest.fail(f"the real Odoo {series} at {env['ODOO_URL']} does not answer ({error}): run `make odoo-up "
                    f"SERIES={series}` again")
    return RealOdoo(series, env["ODOO_URL"], env["ODOO_LOGIN"], env["ODOO_API_KEY"],
                    {"helpdesk": env["ODOO_HELPDESK_DB"], "projects": env["ODOO_PROJECTS_DB"]}, env)


@pytest.fixture(scope="session")
def real_odoo() -> RealOdoo:
    return load_real_odoo(_series())


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """`protocol`: every protocol the series speaks (JSON-2 from 19 on)."""
    if "protocol" in metafunc.fixturenames:
        # collected by `make test` too, which deselects these tests and brings up no Odoo: then every protocol
        major = int(_series().split(".")[0]) if _series_known() else 19
        metafunc.parametrize("protocol", ["xmlrpc", "jsonrpc", *(["json2"] if major >= 19 else [])])


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
def connect(real_odoo: RealOdoo, session: aiohttp.ClientSession, protocol: str):
    """connect("helpdesk" | "projects") -> the bot's own transport to that database, over `protocol`."""
    def make(kind: str) -> OdooTransport:
        creds = OdooCredentials(real_odoo.url, real_odoo.dbs[kind], real_odoo.login, real_odoo.api_key)
        return make_transport(protocol, session, creds, timeout=60)  # type: ignore[arg-type]
    return make


# ---- the bot, built by create_app as production builds it, pointed at the real Odoo --------------------------------

# kind of database -> (its key in .odoo/<S>/env, the process profile set up on it by `real_odoo.py up`)
DATABASES = {"helpdesk": ("ODOO_HELPDESK_DB", "mindx"), "projects": ("ODOO_PROJECTS_DB", "odoo-ps"),
             "tmf": ("ODOO_TMF_DB", "tmf")}


def setup_odoo(real_odoo: RealOdoo, kind: str, protocol: str, *, as_user: str = "BOT",
               apply: bool = False) -> subprocess.CompletedProcess[str]:
    """`python app.py setup-odoo [--apply]` on the `kind` database, logged in as the env's `ODOO_<as_user>_LOGIN`
    (BOT: the bot's own user; AGENT: a plain agent)."""
    db, profile = DATABASES[kind]
    env = {**os.environ, "ODOO_URL": real_odoo.url, "ODOO_DB": real_odoo.env[db],
           "ODOO_LOGIN": real_odoo.env[f"ODOO_{as_user}_LOGIN"],
           "ODOO_API_KEY": real_odoo.env[f"ODOO_{as_user}_API_KEY"],
           "ODOO_PROTOCOL": protocol, "ODOO_PROFILE": "auto", "PROCESS_PROFILE": profile}
    return subprocess.run([sys.executable, "app.py", "setup-odoo", *(["--apply"] if apply else [])], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=120)


@contextmanager
def database_away(real_odoo: RealOdoo, kind: str) -> Iterator[None]:
    """The `kind` database stops taking connections and loses those it has, as in a PostgreSQL restart or a
    restore; back when the block ends. Odoo itself keeps running."""
    db = real_odoo.env[DATABASES[kind][0]]

    def sql(query: str) -> None:
        env = {**os.environ, "PGHOST": real_odoo.env["ODOO_PG_HOST"], "PGPORT": real_odoo.env["ODOO_PG_PORT"],
               "PGUSER": real_odoo.env["ODOO_PG_USER"], "PGPASSWORD": real_odoo.env["ODOO_PG_PASSWORD"]}
        subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", "postgres", "-tAc", query], env=env,
                       check=True, capture_output=True, timeout=30)

    sql(f'ALTER DATABASE "{db}" WITH ALLOW_CONNECTIONS false; '
        f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{db}'")
    try:
        yield
    finally:
        sql(f'ALTER DATABASE "{db}" WITH ALLOW_CONNECTIONS true')


@pytest.fixture(scope="session")
def run_tag() -> str:
    """This run's mark on the logins and titles it makes: the real databases outlive a run."""
    return secrets.token_hex(3)


@pytest.fixture(scope="session")
def casts(real_odoo: RealOdoo, run_tag: str) -> Callable[[str], Cast]:
    """casts(kind) -> the run's people in that database, made once per run."""
    made: dict[str, Cast] = {}

    def get(kind: str) -> Cast:
        if kind not in made:
            profile = load_profile(DATABASES[kind][1])
            model = HELPDESK_MGMT if profile.model == "helpdesk.ticket" else PROJECT_TASK
            made[kind] = cast(view_of(real_odoo, kind), run_tag, user_group=model.user_group,
                              lead_group=model.lead_group, manager_groups=profile.manager_groups)
        return made[kind]
    return get


def view_of(real_odoo: RealOdoo, kind: str) -> RealOdooView:
    db = real_odoo.env[DATABASES[kind][0]]
    model = load_profile(DATABASES[kind][1]).model
    return RealOdooView(real_odoo.url, db, real_odoo.api_key, str(model.value))


@pytest.fixture
def clock() -> FakeClock:
    """The bot's clock starts at this machine's time, which the real Odoo dates its records by; tests move it."""
    return FakeClock(datetime.now(UTC).replace(microsecond=0))


@dataclass
class RealDesk:
    """A bot running against the real Odoo, the agent's Teams client, and what landed in Odoo."""

    teams: TeamsClient
    odoo: RealOdooView
    server: TestServer
    cast: Cast
    clock: FakeClock
    proxy: FaultProxy | None

    @property
    def relay(self) -> Relay:
        return Relay(self.server, self.teams)

    @property
    def runtime(self) -> Runtime:
        return self.server.app[RUNTIME]

    def scenario(self) -> Desk:
        return Desk(self.teams, self.odoo, self.clock, self.cast.lead)

    async def say(self, text: str, *, sender: TeamsUser | None = None) -> str:
        return card_text(await self.teams.card(text, sender=sender))


StartBot = Callable[..., Awaitable[RealDesk]]


@pytest.fixture
async def start_bot(real_odoo: RealOdoo, redis: Redis, redis_url: str, clock: FakeClock,
                    casts: Callable[[str], Cast]) -> AsyncIterator[StartBot]:
    """start_bot(kind, protocol, proxied=False, odoo_timeout=None, login=<the bot's own user>, gitlab=None): the bot
    as production builds it (create_app; dev mode, no auth), logged in to the `kind` database as the bot's own
    non-admin user, with that database's process profile; `proxied`: through a fault proxy; `gitlab`: where
    `/ticket gitlab` files issues (GitLab cannot run here: the tests' GitLab double)."""
    servers: list[TestServer] = []
    async with AsyncExitStack() as stack:
        session = await stack.enter_async_context(aiohttp.ClientSession())

        async def start(kind: str, protocol: str, *, proxied: bool = False, odoo_timeout: float | None = None,
                        login: str = "", api_key: str = "", gitlab: GitLabSettings | None = None) -> RealDesk:
            people = casts(kind)
            stub = ConnectorStub()
            for person in (*people.everyone(), DEVELOPER):
                stub.add_member(person.id, person.name, person.email)
            connector = TestServer(stub.app(), host="127.0.0.1")
            await connector.start_server()
            servers.append(connector)
            settings = bot_settings(redis_url, real_odoo.url, protocol=protocol, process_profile=DATABASES[kind][1],
                                    gitlab=gitlab)
            settings = replace(settings, odoo=replace(
                settings.odoo, db=real_odoo.env[DATABASES[kind][0]], login=login or real_odoo.env["ODOO_BOT_LOGIN"],
                api_key=api_key or real_odoo.env["ODOO_BOT_API_KEY"], timeout=odoo_timeout or 30.0))
            proxy = None
            if proxied:
                proxy = stack.enter_context(proxy_in_front_of(real_odoo.url))
                settings = through(settings, proxy)
            server = TestServer(create_app(settings, clock=clock.now), host="127.0.0.1")
            await server.start_server()
            servers.append(server)
            teams = TeamsClient(str(server.make_url("/api/messages")), str(connector.make_url("")).rstrip("/"),
                                stub, session, people.agent)
            return RealDesk(teams, view_of(real_odoo, kind), server, people, clock, proxy)

        yield start
        for server in reversed(servers):
            await server.close()
