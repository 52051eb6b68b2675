"""The demo desk's past four weeks (bot/demo/history.py): `/ticket trend month` in `make demo`
has a story to tell, read back by the real bot from the Odoo double like any Odoo's history."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta

import pytest
from aiohttp.test_utils import TestServer

from bot.chatter_words import CONFIRMED
from bot.demo.history import PAST, seed_history
from bot.demo.seed import seed_scenarios
from bot.odoo.gateway import to_odoo_time
from bot.settings import Mode
from odoo_double import OdooSandbox, create_sandbox_app
from tests.conftest import START, FakeClock, RunningSandbox
from tests.support.card_validator import validate_cards
from tests.support.demo import embedded_bot
from tests.support.teams import TeamsClient, card_text

# Dates that are meant to lie ahead: when something is due. Every other date a record carries says when something
# happened, and nothing has happened after the clock.
DUE_DATES = {("mail.activity", "date_deadline"), ("project.task", "date_deadline"), ("project.project", "date")}
CLOCKS = {
    "the tests' start": START,
    "just before midnight UTC": datetime(2025, 1, 29, 23, 59, 59, tzinfo=UTC),
    "just before midnight in Vietnam": datetime(2025, 1, 29, 16, 59, 59, tzinfo=UTC),
    "a year earlier": START - timedelta(days=365),
    "a year later": START + timedelta(days=365),
}


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


def test_every_past_ticket_carries_the_customers_confirmation_in_the_bots_words(clock: FakeClock) -> None:
    """The timeline reads a confirmation by `bot.chatter_words.CONFIRMED` (the history once wrote "C." instead)."""
    odoo = OdooSandbox(flavour="helpdesk_mgmt", db="helpdesk", login="admin", password="admin", api_key="k",
                       clock=clock.now)
    seed_scenarios(odoo)
    seed_history(odoo)
    closed = odoo.call(odoo.admin_uid, "helpdesk.ticket", "search", [[["closed_date", "!=", False]]], {})
    notes = odoo.call(odoo.admin_uid, "mail.message", "search_read",
                      [[["model", "=", "helpdesk.ticket"], ["body", "ilike", CONFIRMED]]], {"fields": ["res_id"]})
    assert sorted({note["res_id"] for note in notes}) == sorted(closed) and len(closed) == 16


async def test_a_month_of_the_demo_desk_shows_classes_breaches_patterns_and_charts(teams: TeamsClient) -> None:
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
    per_day, acknowledge = (e for e in card["body"] if e["type"] == "Chart.VerticalBar.Grouped")
    assert [s["legend"] for s in per_day["data"]] == ["Standard (9)", "Priority (9)", "Expedite (1)",
                                                      "Fixed Deadline (1)"]
    assert sum(v["y"] for s in per_day["data"] for v in s["values"]) == 20
    assert {v["x"]: v["y"] for v in acknowledge["data"][0]["values"]}["Expedite"] == 6.8  # median minutes ("7m" above)
    assert validate_cards([card]) == [[]]
    assert len(json.dumps(card, ensure_ascii=False).encode()) < 28_000  # Teams' limit for a bot's message


def written_after(sandbox: OdooSandbox, now: datetime) -> list[tuple[str, int, str, str]]:
    """Every stored date of every record that is later than `now`, due dates aside: (model, id, field, value)."""
    moment = now.astimezone(UTC).replace(tzinfo=None)  # the double stores naive UTC, as Odoo does
    late = []
    for model, definition in sandbox.store.models.items():
        for field in definition.fields.values():
            if field.type not in ("date", "datetime") or not field.stored or (model, field.name) in DUE_DATES:
                continue
            limit: date = moment if field.type == "datetime" else moment.date()
            late += [(model, row["id"], field.name, str(row[field.name]))
                     for row in sandbox.store.tables[model].values() if row.get(field.name) and row[field.name] > limit]
    return late


@pytest.mark.parametrize("now", CLOCKS.values(), ids=CLOCKS.keys())
async def test_the_demo_writes_nothing_after_its_clock_and_the_poller_sees_what_follows(now: datetime) -> None:
    """Seeded as `app.py --demo` seeds it: a history closed in the future would move the Odoo poller's cursor there,
    and what is done in the demo's Odoo until then would go unseen."""
    clock = FakeClock(now)
    async with embedded_bot(Mode.DEMO, clock.now) as demo:
        sandbox, poller = demo.sandbox, demo.runtime.poller
        assert len(sandbox.records("helpdesk.ticket")) == 4 + sum(incident.times for incident in PAST)
        assert written_after(sandbox, now) == []
        assert await poller.poll_once() == 0  # the first look starts from now
        tien = sandbox.call(sandbox.admin_uid, "res.users", "search", [[["login", "=", "tien.dd@mindx.edu.vn"]]])[0]
        [first, second] = sandbox.call(sandbox.admin_uid, "helpdesk.ticket", "search",
                                       [[["closed_date", "=", False]]], {"limit": 2, "order": "id"})
        cursor = demo.runtime.services.store.key("poll", "write_date")

        clock.advance(minutes=1)  # Tiến raises a ticket's priority in Odoo, right after the demo started
        sandbox.call(tien, "helpdesk.ticket", "write", [[first], {"priority": "3"}])
        assert await poller.poll_once() >= 1
        assert await demo.runtime.services.store.redis.get(cursor) == to_odoo_time(clock.now())

        clock.advance(minutes=1)  # and another one a minute later
        sandbox.call(tien, "helpdesk.ticket", "write", [[second], {"priority": "3"}])
        assert await poller.poll_once() == 1
        assert await demo.runtime.services.store.redis.get(cursor) == to_odoo_time(clock.now())
