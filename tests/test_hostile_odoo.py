"""What Odoo hands back is untrusted too: its text fields are written by anyone with an Odoo user, by its portal
and by its e-mail gateway. One ticket whose description ends in a fake facts block (`Users affected: ²`) used to
stop the desk: the crash card for `/ticket list`, `show`, `summary` and `trend`, an Odoo poller failing every
round (its cursor stopped), a start-up rebuild that raised. Every read path must survive any record: a field the
bot cannot read is read as absent, with one warning naming the ticket, and the rest of the page goes on.

The property test writes hostile text (Unicode digits, HTML, huge, empty, control characters, fake facts blocks)
into the Odoo double's ticket descriptions and names, partner, stage and category names and chatter bodies,
stored as is (past the double's html sanitizer, as a misconfigured or older Odoo would keep them), then runs every
read path through the bot's HTTP endpoint, a poller round and the start-up rebuild.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from bot import server
from bot.odoo.records import parse_odoo_time
from bot.reminders.poller import rebuild_reminders, rebuilt_marker
from bot.server import Runtime
from tests.conftest import AGENT, LEAD, FakeClock, RunningSandbox
from tests.support.inprocess import SandboxWire
from tests.support.odoo_view import OdooView
from tests.support.teams import TeamsClient, card_text
from tests.test_fuzz_commands import BROKEN

FAKE_FACTS = "<p>Video does not load</p><p><b>Support desk</b></p><p>Users affected: ²</p>"
READ_PATHS = ("/ticket list open", "/ticket list", "/ticket show {id}", "/ticket summary today",
              "/ticket summary week", "/ticket summary {id}", "/ticket trend", "/ticket trend month",
              "/ticket postmortem {id}")


class Records(logging.Handler):
    """Every log record, from any thread (Hypothesis runs in a worker thread)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def at(self, level: int) -> list[logging.LogRecord]:
        return [r for r in self.records if r.levelno >= level]


@pytest.fixture
def logged() -> Iterator[Records]:
    handler = Records()
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield handler
    finally:
        root.removeHandler(handler)


async def read_everything(teams: TeamsClient, ticket_id: int) -> dict[str, str]:
    """Every read path's answer, as the user sees it."""
    answers = {}
    for path in READ_PATHS:
        command = path.format(id=ticket_id)
        answers[command] = card_text(await teams.card(command, sender=LEAD))
    answers["/ticket list (agent)"] = card_text(await teams.card("/ticket list", sender=AGENT))
    return answers


def assert_no_crash_card(answers: dict[str, str]) -> None:
    for command, shown in answers.items():
        for broken in BROKEN:
            assert broken not in shown, f"{command} was answered {shown!r}"


async def test_a_fake_facts_block_in_one_ticket_does_not_stop_the_desk(
        teams: TeamsClient, runtime: Runtime, odoo: OdooView, clock: FakeClock, logged: Records) -> None:
    redis = runtime.services.store.redis
    assert await runtime.poller.poll_once() == 0  # the first poll sets the cursors
    cursor = await redis.get(runtime.poller._cursor_key)
    clock.advance(minutes=5)
    odoo.call("helpdesk.ticket", "write", [1], {"description": FAKE_FACTS})

    answers = await read_everything(teams, 1)
    assert_no_crash_card(answers)
    assert "Video does not load" in answers["/ticket show 1"] and "HT00001" in answers["/ticket list open"]
    assert await runtime.poller.poll_once() >= 1  # the poller reads it, and its cursor moves on
    assert await redis.get(runtime.poller._cursor_key) > cursor
    await redis.delete(rebuilt_marker(runtime.services))
    assert await rebuild_reminders(runtime.services) >= 4  # a new replica starts: every open ticket is checked
    warnings = [r.getMessage() for r in logged.at(logging.WARNING) if r.name == "bot.odoo.records"]
    assert warnings and all(w.startswith("ticket 1: ") and "Users affected '²'" in w for w in warnings), warnings
    assert not logged.at(logging.ERROR), [r.getMessage() for r in logged.at(logging.ERROR)]


# ---- the property test ---------------------------------------------------------------------------------------
TEXT = st.characters(exclude_categories=("Cs",))  # what JSON and XML-RPC carry
HOSTILE = (
    "", " ", "\n", "\x00", "\x07", "\x0b", "\x1b[31m", "\u202e", "\ufeff", "\u200b", "\ufffe", "\uffff", "²", "①", "³",
    "١٢", "٣",
    "４２", "9" * 4_301, "-1", "1e9", "NaN", "0", "99999999999999999999", "<p>", "</p>", "<br>", "<b>", "</b",
    "<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "<!--", "-->", "<!-- escalation:1-1-dev -->",
    "<!-- escalation: -->", "&amp;", "&#0;", "&#x110000;", "&lt;p&gt;", "**bold**", "[x](https://evil.example)",
    "$x^2$", "$", "\\", "%s", "{0}", "{name}", "Support desk", "(via Teams):", "Đức (Dev team) acknowledged the "
    "escalation of HT00001: ", "Escalated to the Dev team: ", "Escalation not acknowledged in time by the ",
    "to the Dev team, ²: ", "Diagnosis", "Root cause: ", "🔥", "👩‍💻", "Lỗi", "中文",
)
FACT_VALUES = ("²", "①", "١٢", "9" * 4_301, "-5", "1000001", "", "<b>3</b>", "2025-13-45 25:99 UTC",
               "9999-12-31 23:59 UTC", "0001-01-01 00:00 UTC", "２０２５-01-30 09:00 UTC", "bug", "\x00")
FACT_NAMES = ("Users affected", "Deadline", "Reported", "Type", "Logged by")
PIECE = st.one_of(st.sampled_from(HOSTILE), st.text(TEXT, max_size=12))
SHORT = st.lists(PIECE, max_size=5).map("".join)
HUGE = st.builds(lambda piece, times: piece * times, st.sampled_from(("x", "²", "<p>", "Lỗi ", "\x00", "<b>a")),
                 st.sampled_from((1_000, 30_000)))
FACTS = st.lists(st.tuples(st.sampled_from(FACT_NAMES), st.one_of(st.sampled_from(FACT_VALUES), SHORT)),
                 max_size=4).map(lambda facts: "<p><b>Support desk</b><br>" + "<br>".join(
                     f"{name}: {value}" for name, value in facts) + "</p>")


# Control characters and U+FFFE/U+FFFF included: Odoo's XML-RPC leaves the C0 controls out of its answers and
# sends the other two as they are (an answer XML cannot hold), as a real Odoo 17 does (the double too).
TEXTS = st.one_of(SHORT, SHORT, HUGE, st.builds(str.__add__, SHORT, FACTS))
TICKETS = st.integers(1, 4)  # the seeded desk
CHANGES = st.lists(st.one_of(
    st.tuples(st.just("description"), TICKETS, TEXTS),
    st.tuples(st.just("name"), TICKETS, TEXTS),
    st.tuples(st.just("partner"), TICKETS, TEXTS),
    st.tuples(st.just("stage"), TICKETS, TEXTS),
    st.tuples(st.just("category"), TICKETS, TEXTS),
    st.tuples(st.just("customer wrote"), TICKETS, TEXTS),
    st.tuples(st.just("note"), TICKETS, TEXTS),
), min_size=1, max_size=6)
EXAMPLES = 24


def spoil(sandbox: RunningSandbox, odoo: OdooView, change: tuple[str, int, str]) -> int:
    """Write `text` where the change says, stored as is (past the double's sanitizer); the ticket it is on."""
    what, ticket_id, text = change
    env = sandbox.odoo.env()
    ticket = env.row("helpdesk.ticket", ticket_id)
    assert ticket is not None
    if what in ("description", "name"):
        ticket[what] = text
    elif what == "partner" and (partner := env.row("res.partner", ticket["partner_id"])) is not None:
        partner["name"] = text
    elif what == "stage":  # a stage the process profile does not know, named by anyone
        stage_id = odoo.call("helpdesk.ticket.stage", "create", {"name": "x", "sequence": 99})
        env.row("helpdesk.ticket.stage", stage_id)["name"] = text  # type: ignore[index]
        ticket["stage_id"] = stage_id
    elif what == "category" and (category := env.row("helpdesk.ticket.category", ticket["category_id"])) is not None:
        category["name"] = text
    elif what in ("customer wrote", "note"):
        customer = what == "customer wrote"
        message_id = odoo.call("helpdesk.ticket", "message_post", [ticket_id], body="x",
                               message_type="email" if customer else "comment",
                               subtype_xmlid="mail.mt_comment" if customer else "mail.mt_note",
                               author_id=ticket["partner_id"] if customer else None)
        env.row("mail.message", message_id)["body"] = text  # type: ignore[index]
    return ticket_id


@pytest.fixture
def odoo_without_sockets(monkeypatch: pytest.MonkeyPatch, sandbox: RunningSandbox) -> None:
    """The bot's XML-RPC transport answered by the double in process (the bot is still reached over HTTP)."""
    monkeypatch.setattr(server, "make_transport", lambda protocol, session, creds, **options: SandboxWire(
        sandbox.odoo, session, creds, timeout=options["timeout"]))


async def test_every_read_path_survives_any_text_odoo_hands_back(
        odoo_without_sockets: None, teams: TeamsClient, runtime: Runtime, sandbox: RunningSandbox, odoo: OdooView,
        clock: FakeClock, logged: Records) -> None:
    loop = asyncio.get_running_loop()
    desk = sandbox.odoo.store.snapshot()
    await runtime.poller.poll_once()  # the first poll sets the cursors
    read: list[int] = []

    async def example(changes: list[tuple[str, int, str]]) -> None:
        nonlocal desk
        clock.advance(minutes=1)
        try:
            for _, ticket_id, _ in changes:  # their write_date moves (before any field is spoiled: `write` checks)
                odoo.call("helpdesk.ticket", "write", [ticket_id], {"priority": "2"})
            spoiled = [spoil(sandbox, odoo, change) for change in changes]
            answers = await read_everything(teams, spoiled[-1])
            assert_no_crash_card(answers)
            await runtime.poller.poll_once()
            await rebuild_reminders(runtime.services)
            errors = [r.getMessage() for r in logged.at(logging.ERROR)]
            assert not errors, errors
            read.append(len(answers))
        finally:  # the seeded desk again for the next example
            sandbox.odoo.store.restore(desk)
            desk = sandbox.odoo.store.snapshot()

    @settings(max_examples=EXAMPLES, deadline=None, database=None, phases=[Phase.explicit, Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(CHANGES)
    def run(changes: list[tuple[str, int, str]]) -> None:
        asyncio.run_coroutine_threadsafe(example(changes), loop).result(timeout=120)

    await asyncio.to_thread(run)
    assert len(read) >= EXAMPLES // 2


def test_odoo_times_out_of_range_are_read_as_absent() -> None:
    """A date a card would show in the reader's zone must be one that zone can hold (9999-12-31 23:59 UTC is
    past the year 9999 in Vietnam)."""
    assert parse_odoo_time("2025-01-29 08:33:01") is not None
    for value in ("9999-12-31 23:59:59", "0001-01-01 00:00:00", "2025-13-45 25:99:00", "", False, None, 5, ["x"]):
        assert parse_odoo_time(value) is None, value
