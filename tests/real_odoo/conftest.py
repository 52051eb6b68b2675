"""The real-Odoo suite: runs against a server brought up by `make odoo-up SERIES=<S>` (tools/real_odoo.py), whose
connection it reads from `.odoo/<S>/env`. `make test` leaves it out (its tests carry the `real_odoo` marker, which
pyproject deselects by default); `make test-odoo SERIES=<S>` runs it with ODOO_SERIES=<S>."""

from __future__ import annotations

import os
import xmlrpc.client
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest

from bot.odoo.transport import OdooCredentials, OdooTransport, make_transport

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
