"""The bot on the Odoo double speaking each recorded series (17.0, 18.0, 19.0): it starts (on 19 its start-up reads
res.users.all_group_ids, groups_id being gone) and a whole ticket's life works through its HTTP endpoint; the demo's
built-in sandbox is Odoo 19."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from bot.demo.seed import seed_scenarios
from bot.server import DEMO_SERIES, RUNTIME
from bot.settings import Mode
from odoo_double import OdooSandbox, create_sandbox_app
from tests.conftest import FakeClock, RunningSandbox
from tests.support.demo import embedded_bot
from tests.support.odoo_view import OdooView
from tests.support.teams import TeamsClient, card_text

SERIES = ("17.0", "18.0", "19.0")


@pytest.fixture(params=SERIES)
async def sandbox(request: pytest.FixtureRequest, clock: FakeClock) -> AsyncIterator[RunningSandbox]:
    """tests/conftest.py's sandbox, built in each series (the bot_server/teams fixtures run the bot on it)."""
    odoo = OdooSandbox(flavour="helpdesk_mgmt", db="helpdesk", login="admin", password="admin",
                       api_key="test-api-key", clock=clock.now, series=request.param)
    seed_scenarios(odoo)
    server = TestServer(create_sandbox_app(odoo), host="127.0.0.1")
    await server.start_server()
    yield RunningSandbox(odoo, str(server.make_url("")).rstrip("/"))
    await server.close()


async def test_the_bot_starts_on_each_series(bot_server: TestServer, sandbox: RunningSandbox) -> None:
    """Start-up reads the leads' groups: groups_id up to 18, all_group_ids on 19 (groups_id would fault there)."""
    gateway = bot_server.app[RUNTIME].services.odoo
    expected = "all_group_ids" if sandbox.odoo.series == "19.0" else "groups_id"
    assert gateway._groups_field == expected
    assert {"Trần Thị Lan", "Megan Bowen"} <= {user.name for user in gateway.leads()}  # the seeded leads


async def test_a_ticket_lives_its_whole_life_on_each_series(teams: TeamsClient, odoo: OdooView,
                                                            sandbox: RunningSandbox) -> None:
    created = card_text(await teams.card("/ticket new Mouse broken users:1 customer:a@b.example"))
    assert "Standard" in created
    tid = odoo.newest_ticket()["id"]
    assert "Acknowledged" in card_text(await teams.card(f"/ticket ack {tid}"))
    await teams.card(f"/ticket note {tid} Checked the USB receiver")
    assert any("Checked the USB receiver" in m["body"] for m in odoo.messages(tid, subtype="Note"))
    await teams.card(f"/ticket resolve {tid} New mouse")
    await teams.card(f"/ticket confirm {tid}")
    assert odoo.ticket(tid)["closed"] is True
    assert len(odoo.messages(tid, subtype="Discussions")) == 2


async def test_the_demo_sandbox_speaks_odoo_19(clock: FakeClock) -> None:
    assert DEMO_SERIES == "19.0"
    async with aiohttp.ClientSession(), embedded_bot(Mode.DEMO, clock.now) as demo:
        assert demo.sandbox.series == "19.0"
        assert demo.sandbox.version()["server_version"].startswith("19.0")
        assert "groups_id" not in demo.sandbox.store.models["res.users"].fields
