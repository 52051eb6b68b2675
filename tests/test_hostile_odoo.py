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
from collections.abc import AsyncIterator
from dataclasses import dataclass

import aiohttp
import hypothesis
import pytest
from aiohttp.test_utils import TestServer
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from redis.asyncio import Redis

from bot import server
from bot.demo.seed import seed_scenarios
from bot.odoo.records import parse_odoo_time
from bot.reminders.poller import rebuild_reminders, rebuilt_marker
from bot.server import RUNTIME, Runtime, create_app
from odoo_double import OdooSandbox, create_sandbox_app
from tests.conftest import AGENT, LEAD, FakeClock, RunningSandbox, bot_settings
from tests.support.connector import ConnectorStub
from tests.support.inprocess import SandboxWire
from tests.support.logs import Records
from tests.support.odoo_view import OdooView
from tests.support.teams import TeamsClient, card_text
from tests.test_escalation import DEV, SENIOR, priority_ticket, register
from tests.test_fuzz_commands import BROKEN

FAKE_FACTS = "<p>Video does not load</p><p><b>Support desk</b></p><p>Users affected: ²</p>"
READ_PATHS = ("/ticket list open", "/ticket list", "/ticket show {id}", "/ticket summary today",
              "/ticket summary week", "/ticket summary {id}", "/ticket trend", "/ticket trend month",
              "/ticket postmortem {id}")




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


STAGE_MODELS = {"helpdesk.ticket": "helpdesk.ticket.stage", "project.task": "project.task.type"}


def spoil(sandbox: RunningSandbox, odoo: OdooView, change: tuple[str, int, str], *,
          model: str = "helpdesk.ticket") -> int:
    """Write `text` where the change says, stored as is (past the double's sanitizer); the ticket (or task) it is
    on. What the model lacks (a task's category, a partner) is left alone."""
    what, ticket_id, text = change
    env = sandbox.odoo.env()
    ticket = env.row(model, ticket_id)
    assert ticket is not None
    if what in ("description", "name"):
        ticket[what] = text
    elif what == "partner" and (partner := env.row("res.partner", ticket.get("partner_id"))) is not None:
        partner["name"] = text
    elif what == "stage":  # a stage the process profile does not know, named by anyone
        stage_id = odoo.call(STAGE_MODELS[model], "create", {"name": "x", "sequence": 99})
        env.row(STAGE_MODELS[model], stage_id)["name"] = text  # type: ignore[index]
        ticket["stage_id"] = stage_id
    elif what == "category" and "category_id" in ticket and (
            category := env.row("helpdesk.ticket.category", ticket["category_id"])) is not None:
        category["name"] = text
    elif what in ("customer wrote", "note"):
        customer = what == "customer wrote"
        message_id = odoo.call(model, "message_post", [ticket_id], body="x",
                               message_type="email" if customer else "comment",
                               subtype_xmlid="mail.mt_comment" if customer else "mail.mt_note",
                               author_id=(ticket.get("partner_id") or None) if customer else None)
        env.row("mail.message", message_id)["body"] = text  # type: ignore[index]
    return ticket_id


def spoil_all(sandbox: RunningSandbox, odoo: OdooView, changes: list[tuple[str, int, str]], *,
              model: str = "helpdesk.ticket") -> list[int]:
    """`spoil` each change, those made through Odoo's methods first (a message_post checks the ticket's required
    fields, which a spoiled description may have emptied); the tickets they are on, in the order given."""
    direct = ("description", "name")
    for change in sorted(changes, key=lambda change: change[0] in direct):
        spoil(sandbox, odoo, change, model=model)
    return [ticket_id for _, ticket_id, _ in changes]


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
            spoiled = spoil_all(sandbox, odoo, changes)
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


# ---- over JSON-RPC and JSON-2, and on project.task ------------------------------------------------------------
# (protocol, the double's flavour, the process profile): the property test above plays XML-RPC on helpdesk_mgmt
# in process; these reach the double over HTTP as the bot reaches Odoo (JSON-2 on a 19.0 double), on helpdesk
# tickets and on Odoo PS's project tasks.
DESKS = {"jsonrpc-helpdesk": ("jsonrpc", "helpdesk_mgmt", "mindx"),
         "json2-helpdesk": ("json2", "helpdesk_mgmt", "mindx"),
         "xmlrpc-project": ("xmlrpc", "project", "odoo-ps"),
         "json2-project": ("json2", "project", "odoo-ps")}
EXAMPLES_PER_DESK = 6


@dataclass
class HostileDesk:
    sandbox: RunningSandbox
    odoo: OdooView
    runtime: Runtime
    teams: TeamsClient
    model: str
    tickets: tuple[int, ...]


@pytest.fixture(params=list(DESKS))
async def hostile_desk(request: pytest.FixtureRequest, redis: Redis, redis_url: str, clock: FakeClock,
                       connector: tuple[ConnectorStub, str]) -> AsyncIterator[HostileDesk]:
    protocol, flavour, profile = DESKS[request.param]
    double = OdooSandbox(flavour=flavour, db="helpdesk", login="admin", password="admin", api_key="test-api-key",
                         clock=clock.now, series="19.0" if protocol == "json2" else "17.0")
    seed_scenarios(double)
    odoo_server = TestServer(create_sandbox_app(double), host="127.0.0.1")
    await odoo_server.start_server()
    sandbox = RunningSandbox(double, str(odoo_server.make_url("")).rstrip("/"))
    bot = TestServer(create_app(bot_settings(redis_url, sandbox.url, protocol=protocol, process_profile=profile),
                                clock=clock.now), host="127.0.0.1")
    await bot.start_server()
    model = "project.task" if flavour == "project" else "helpdesk.ticket"
    odoo = OdooView(double)
    odoo.model = model  # what its reads read
    try:
        async with aiohttp.ClientSession() as session:
            teams = TeamsClient(str(bot.make_url("/api/messages")), connector[1], connector[0], session, AGENT)
            tickets = tuple(int(row["id"]) for row in double.env().rows(model))
            yield HostileDesk(sandbox, odoo, bot.app[RUNTIME], teams, model, tickets)
    finally:
        await bot.close()
        await odoo_server.close()


async def test_every_read_path_survives_any_text_over_each_protocol_and_model(
        hostile_desk: HostileDesk, clock: FakeClock, logged: Records) -> None:
    desk = hostile_desk
    loop = asyncio.get_running_loop()
    snapshot = desk.sandbox.odoo.store.snapshot()
    await desk.runtime.poller.poll_once()  # the first poll sets the cursors
    changes = st.lists(st.tuples(st.sampled_from(("description", "name", "partner", "stage", "category",
                                                  "customer wrote", "note")),
                                 st.sampled_from(desk.tickets), TEXTS), min_size=1, max_size=6)
    read: list[int] = []

    async def one(spoils: list[tuple[str, int, str]]) -> None:
        nonlocal snapshot
        clock.advance(minutes=1)
        try:
            for _, ticket_id, _ in spoils:  # their write_date moves (before any field is spoiled: `write` checks)
                desk.odoo.call(desk.model, "write", [ticket_id], {"priority": "1"})
            spoiled = spoil_all(desk.sandbox, desk.odoo, spoils, model=desk.model)
            answers = await read_everything(desk.teams, spoiled[-1])
            assert_no_crash_card(answers)
            await desk.runtime.poller.poll_once()
            await rebuild_reminders(desk.runtime.services)
            errors = [r.getMessage() for r in logged.at(logging.ERROR)]
            assert not errors, errors
            read.append(len(answers))
        finally:
            desk.sandbox.odoo.store.restore(snapshot)
            snapshot = desk.sandbox.odoo.store.snapshot()

    @settings(max_examples=EXAMPLES_PER_DESK, deadline=None, database=None, phases=[Phase.explicit, Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(changes)
    @hypothesis.example([("description", desk.tickets[0], FAKE_FACTS), ("name", desk.tickets[-1], "\x07\ufffe²"),
              ("note", desk.tickets[0], "<!-- escalation: -->Escalated to the Dev team: ²")])
    def run(spoils: list[tuple[str, int, str]]) -> None:
        asyncio.run_coroutine_threadsafe(one(spoils), loop).result(timeout=120)

    await asyncio.to_thread(run)
    assert len(read) >= EXAMPLES_PER_DESK // 2
    warnings = [r.getMessage() for r in logged.at(logging.WARNING) if r.name == "bot.odoo.records"]
    assert any(w.startswith(f"ticket {desk.tickets[0]}: ") and "Users affected '²'" in w for w in warnings), warnings


# ---- an escalation note spoiled, Redis's escalations lost, and the timers fired over hostile records ----------------
SPOILED_ESCALATION = ("<p>Escalated to the Dev team, ², <script>alert(1)</script>: " + "Lỗi ① " * 5_000
                      + "\x07\ufffe</p><!-- escalation: --><!-- escalation:9999999999999999999-x-dev -->")
SPOILED_ANSWERS = (
    "<p>Đức (Dev team) acknowledged the escalation of HT00001: \x1b[31m ²</p>",
    "<p>Escalation not acknowledged in time by the ①: passed on to the <b>nobody</b>.</p>",
    "<p>Escalated to the Nowhere team: <img src=x onerror=alert(1)></p><!-- escalation:1-1-nowhere -->",
    "<p>Escalated to the </p>", "<p>Escalated to the Dev team</p>", "",
)


async def test_a_spoiled_escalation_note_is_rebuilt_and_the_timers_fire_over_hostile_records(
        teams: TeamsClient, runtime: Runtime, sandbox: RunningSandbox, odoo: OdooView, redis: Redis,
        clock: FakeClock, logged: Records) -> None:
    """The escalation's note, written by the bot, rewritten by anyone in Odoo (and more notes in its words); the
    ticket's description and name spoiled too. Redis loses its escalations: the rebuild reads the spoiled story;
    then hours pass and the timer worker fires every reminder and escalation timer over the hostile records."""
    await register(teams, dev=DEV, senior=SENIOR)
    tid = await priority_ticket(teams, odoo)
    escalated = card_text(await teams.card(f"/ticket escalate {tid} dev 16 teachers blocked"))
    assert "escalated" in escalated, escalated
    await runtime.poller.poll_once()  # the first poll sets the cursors
    clock.advance(minutes=2)

    env = sandbox.odoo.env()
    [note] = [m for m in odoo.messages(tid, subtype="Note") if "Escalated to the Dev team" in m["body"]]
    env.row("mail.message", note["id"])["body"] = SPOILED_ESCALATION  # type: ignore[index]
    for body in SPOILED_ANSWERS:
        spoil(sandbox, odoo, ("note", tid, body))
    spoil(sandbox, odoo, ("customer wrote", tid, FAKE_FACTS + "\x00"))
    spoil(sandbox, odoo, ("description", tid, "<p>Attendance</p>" + FAKE_FACTS))
    spoil(sandbox, odoo, ("name", tid, "\x07<script>x</script>\ufffe" + "9" * 4_301))
    spoil(sandbox, odoo, ("description", 1, FAKE_FACTS))

    escalations = [key async for key in redis.scan_iter(runtime.services.store.key("escalation*"))]
    assert escalations
    await redis.delete(*escalations, rebuilt_marker(runtime.services))  # lost: the next poll rebuilds
    await runtime.poller.poll_once()
    answers = await read_everything(teams, tid)
    for hours in (0.25, 0.5, 1, 2, 4, 8, 24, 72):  # acknowledgment deadlines, passing on, reminders, nags
        clock.advance(hours=hours)
        await runtime.worker.run_once()
        await runtime.poller.poll_once()
    answers |= await read_everything(teams, tid)
    assert_no_crash_card(answers)
    for posted in teams.connector.posted:  # every card the timers posted: an escalation again, reminders, nags
        shown = card_text(posted.card) if posted.card else posted.text
        assert not any(broken in shown for broken in BROKEN), shown
    errors = [f"{r.name}: {r.getMessage()}" for r in logged.at(logging.ERROR)]
    assert not errors, errors
    warnings = [r.getMessage() for r in logged.at(logging.WARNING) if r.name == "bot.odoo.records"]
    assert any(w.startswith(f"ticket {tid}: ") for w in warnings), warnings
    assert any(w.startswith("ticket 1: ") for w in warnings), warnings


def test_odoo_times_out_of_range_are_read_as_absent() -> None:
    """A date a card would show in the reader's zone must be one that zone can hold (9999-12-31 23:59 UTC is
    past the year 9999 in Vietnam)."""
    assert parse_odoo_time("2025-01-29 08:33:01") is not None
    for value in ("9999-12-31 23:59:59", "0001-01-01 00:00:00", "2025-13-45 25:99:00", "", False, None, 5, ["x"]):
        assert parse_odoo_time(value) is None, value
