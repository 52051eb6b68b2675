"""The demo desk's past four weeks (bot/odoo/sandbox/history.py): `/ticket trend month` in `make demo`
has a story to tell, read back by the real bot from the Odoo double like any Odoo's history."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator

import pytest
from aiohttp.test_utils import TestServer

from bot.insights.chart import DATA_URI_PREFIX
from bot.odoo.sandbox import OdooSandbox, create_sandbox_app, seed_scenarios
from bot.odoo.sandbox.history import PAST, seed_history
from tests.conftest import FakeClock, RunningSandbox
from tests.support.card_validator import validate_cards
from tests.support.teams import TeamsClient, card_text


@pytest.fixture
async def sandbox(clock: FakeClock) -> AsyncIterator[RunningSandbox]:
    """The demo's Odoo: the scenarios' open tickets and the closed ones of the past four weeks."""
    odoo = OdooSandbox(flavour="helpdesk_mgmt", db="helpdesk", login="admin", password="admin",
                       api_key="test-api-key", clock=clock.now)
    seed_scenarios(odoo)
    seed_history(odoo)
    server = TestServer(create_sandbox_app(odoo), host="127.0.0.1")
    await server.start_server()
    yield RunningSandbox(odoo, str(server.make_url("")).rstrip("/"))
    await server.close()


def test_the_history_is_the_same_every_run(clock: FakeClock) -> None:
    def closed_tickets() -> list[tuple[str, str, str]]:
        odoo = OdooSandbox(flavour="helpdesk_mgmt", db="helpdesk", login="admin", password="admin",
                           api_key="k", clock=clock.now)
        seed_scenarios(odoo)
        assert seed_history(odoo) == sum(incident.times for incident in PAST)
        rows = odoo.call(odoo.admin_uid, "helpdesk.ticket", "search_read", [[["closed_date", "!=", False]]],
                         {"fields": ["name", "create_date", "closed_date"], "order": "id"})
        return [(r["name"], r["create_date"], r["closed_date"]) for r in rows]

    first = closed_tickets()
    assert len(first) == 16 and first == closed_tickets()
    assert all(created < closed for _, created, closed in first)


async def test_a_month_of_the_demo_desk_shows_classes_breaches_patterns_and_a_chart(teams: TeamsClient) -> None:
    card = await teams.card("/ticket trend month")
    shown = card_text(card)
    assert "20 tickets logged, 4 still open." in shown
    assert "Class of service: Standard 9 · Priority 9 · Expedite 1 · Fixed Deadline 1" in shown
    assert "Category: Login 6 · Video 6 · Performance 3 · Reporting 3 · Bug 1 · Feature Request 1" in shown
    assert "Type: incident 15 · request 3 · bug 1 · feature 1" in shown
    assert "Expedite (1): acknowledge median 7m" in shown
    late = [line for line in shown.splitlines() if "after it was logged (target 30m)" in line]
    assert len(late) == 3, "one past ticket in five or so was acknowledged late: the breaches show"
    candidates = shown.split("Knowledge-base candidates (seen 3 times or more)")[1].split("Other recurring")[0]
    assert "Category \u201cLogin\u201d: 6 tickets" in candidates
    assert "Error \u201cCannot load media\u201d: 6 tickets" in candidates  # the 4 past ones and 2 open ones
    assert "Root cause \u201cexpired CDN token on the course's playlist\u201d: 4 tickets" in candidates
    [image] = [e for e in card["body"] if e["type"] == "Image"]
    assert base64.b64decode(image["url"].removeprefix(DATA_URI_PREFIX), validate=True).startswith(b"\x89PNG")
    assert validate_cards([card]) == [[]]
