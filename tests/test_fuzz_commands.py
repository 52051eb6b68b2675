"""Commands fuzzed with hypothesis through the real bot: 11,400 generated `/ticket ...` commands,
forms (Action.Submit) and card clicks (Action.Execute) in realistic shapes: known commands and
aliases, ids good and bad, quotes, unicode, markdown, HTML, Odoo domain syntax, texts at and past
the length limits, options with hostile values, card data of any JSON shape.

Each goes through `TicketBot.on_turn` in process (invokes through the adapter's `to_incoming`
first), the real router, handlers and gateway, a real redis-server, and the Odoo double answering
XML-RPC without sockets (tests/support/inprocess.py: the whole run takes about 25 s of CPU, against
a minute over loopback HTTP). Every input must get exactly one clear answer that fits in a Teams
message, never the crash card nor an Odoo refusal (bad input is caught before it reaches Odoo),
and a refusal must leave Odoo untouched. After each batch, what the bot stored in Odoo holds
people's text as text: no markup but the bot's own. One run writes hostile text into the desk's Odoo
records first (tests/test_hostile_odoo.py's `spoil`: fake facts blocks, Unicode digits, HTML, huge,
control characters) and plays the commands that change a ticket, e-mail drafts included, over it.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import Awaitable, Callable
from html.parser import HTMLParser
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from bot import server
from bot.escalation.model import REFRESH, Answer
from bot.parsing import MAX_COMMAND_LENGTH
from bot.server import Runtime
from bot.turn import Outcome, Reply
from odoo_double.methods import READ_ONLY_METHODS
from tests.conftest import AGENT, LEAD, STRANGER, RunningSandbox
from tests.support.inprocess import InProcessTeams, SandboxWire
from tests.support.odoo_view import OdooView
from tests.support.teams import card_text

# inputs per test: 11,400 generated commands, forms and card clicks in all
TYPED, ON_OPEN, NEW, SUBMITTED, CLICKED, ON_SPOILED = 2_600, 2_000, 1_400, 2_200, 2_200, 1_000
BATCH = 100  # inputs per Hypothesis example: its cost per example (a few ms) is paid once per batch
TEAMS_MESSAGE_LIMIT = 28_000  # bytes: Teams refuses a bigger message, and the agent would see nothing
BROKEN = ("Sorry, something went wrong on my side", "Odoo did not accept this", "Odoo refused this",
          "Odoo is not answering")

# ---- the shapes people (and attackers) type ------------------------------------------------------------
HOSTILE = (
    "<script>alert(1)</script>", "<img src=x onerror=alert(1)>", '"><svg onload=alert(1)>', "<b>bold</b>",
    "<a href='javascript:alert(1)'>click</a>", "<at>Ticket Bot</at>", "&lt;p&gt;", "&amp;", "<!-- x -->",
    "**bold**", "_it_", "[click](https://evil.example)", "`code`", "```\nblock\n```", "# heading", "> quote",
    "('id','>',0)", "['|', ('id', '>', 0)]", "|", "&", "!", "%", "_", "\\", "%%", "\\%", "a%b_c",
    "' OR '1'='1", "'; DROP TABLE helpdesk_ticket; --", "{{7*7}}", "${7*7}", "{name}", "{0}", "%s", "%(x)s",
    "\x00", "\x0b", "\x1b[31m", "\u202e", "\ufeff", "\u200b", "🔥", "👩‍💻", "Không thể đăng nhập vào LMS",
    "Lớp JS-ADV-HN-2412", "ติดต่อ", "中文", "\"", "'", '"unbalanced', "it's", "\t", "\r\n", "key:value",
    "users:", "force:yes", "into", "me", "@Phạm Quốc Huy", "nobody@elsewhere.example", "/ticket", "ticket",
)
TEXT = st.characters(exclude_categories=("Cs",))  # what JSON carries (lone surrogates: tests/test_hostile_input.py)
PLAIN = ("42", "printer", "Lỗi", "video", "login", "teachers", "cannot", "since", "09:00", "ok", "the", "LMS")
WORD_POOL = (*HOSTILE, *PLAIN)
# Hypothesis costs about 0.1 ms a draw here: words come from pools in one draw, and free unicode text is one
# branch among others rather than every word.
WORD = st.one_of(st.sampled_from(WORD_POOL), st.text(TEXT, min_size=1, max_size=8))
WORDS = st.tuples(*[st.sampled_from(("", *WORD_POOL))] * 4).map(" ".join)
# long texts at the limits that matter: a title's 200 characters, a message's MAX_COMMAND_LENGTH, far beyond
LONG = st.builds(lambda text, length: (text * (length // len(text) + 1))[:length],
                 st.sampled_from(("x", "Lỗi ", "<b>", "%_", "a" * 50)),
                 st.sampled_from((199, 200, 201, 1_000, MAX_COMMAND_LENGTH - 60, MAX_COMMAND_LENGTH + 1, 30_000)))
FREE_TEXT = st.one_of(WORDS, WORDS.map(lambda words: f'"{words}"'), st.text(TEXT, max_size=12), LONG)
IDS = st.one_of(st.sampled_from((
    "1", "2", "3", "4", "5", "6", "7", "8", "#1", "#4", "HT00001", "ht00003", "0", "-1", "99999", "#99999", "HT99999",
    "999999999999", "1.5", "1e3", "0x1", "١", "４２", "#", "HT", "1,2", "1;2", "*", "%", "_", "1|2", "('id','>',0)",
    "HT00001'", "[1]")), WORD)
OPTION_VALUES = {
    "users": ("1", "5", "25", "26", "0", "-5", "lots", "1e9", "99999999999", "12+", "1,200", "٣", ""),
    "deadline": ("tomorrow@09:00", "17:00", "4h", "yesterday", "2020-01-01", "2025-13-45 25:99", "-4h", "0m",
                 "9999999d", "today 25:00", '"2025-02-01 09:00"'),
    "customer": ("nguyen.van.a@mindx.edu.vn", "%@mindx.edu.vn", "_@x.io", "a|b@x.com", "x@y", "<a@b.c>",
                 "mailto:teacher01@mindx.edu.vn", "%", "'@'.'", "new.person@example.com"),
    "type": ("incident", "bug", "request", "feature", "wish", "<b>"),
    "category": ("Login", "video", "Astrology", "%"),
    "team": ("Dev", "Support L1", "Nowhere", "_"),
    "assignee": ("me", "@Trần Thị Lan", "lan.tt@mindx.edu.vn", "Phạm Quốc Huy", "nobody", "%"),
    "force": ("yes", "no", "true", "", "YES"),
    "due": ("tomorrow@09:00", "17:00", "yesterday", "²", "9999999d"),
    "lang": ("en", "vi", "fr", "²", ""),
    "to": ("a@b.example", "x@y", "a@b.example,c@d.example", "%", ""),
}
OPTION_POOL = tuple(f"{key}:{value}" for key, values in OPTION_VALUES.items() for value in (*values, *HOSTILE[:12]))
OPTIONS = st.tuples(*[st.sampled_from(("",) * 40 + OPTION_POOL)] * 3).map(" ".join)
# `/ticket new`'s own options (another command's, `force:`, is refused before Odoo: tests/test_commands.py)
NEW_OPTION_POOL = tuple(option for option in OPTION_POOL if not option.startswith("force:"))
NEW_OPTIONS = st.tuples(*[st.sampled_from(("",) * 40 + NEW_OPTION_POOL)] * 3).map(" ".join)
PREFIXES = st.sampled_from(["/ticket ", "ticket ", "/TICKET ", "  /ticket   ", "Ticket "])
# every command but `trend` (a chart: tests/test_insights), aliases included, a few typos; `set` answers that the
# mindx process has no field to fill, `gitlab` that GitLab is not configured here (tests/test_gitlab.py fuzzes
# nothing, it plays each answer)
COMMANDS = ("new", "create", "show", "view", "list", "ls", "ack", "note", "diag", "update", "assign", "take",
            "class", "users", "hold", "block", "resume", "resolve", "confirm", "close", "cancel", "reopen",
            "merge", "escalate", "snooze", "postmortem", "channel", "channels", "time", "log", "help", "?", "shw",
            "notes", "set", "triage", "todo", "priority", "tag", "tags", "standby", "email", "draft", "summary",
            "digest", "gitlab", "")
# the ones that keep a ticket open, to exercise stored text on live tickets
ON_OPEN_TICKETS = ("ack", "note", "diag", "update", "hold", "block", "resume", "resolve", "reopen", "assign",
                   "snooze", "users", "class", "escalate", "postmortem", "triage", "todo", "priority", "tag",
                   "standby", "email", "set")
# the ones that change a ticket (or draft an e-mail about it), run over a desk whose Odoo records are spoiled: in the
# shapes that get carried out, on the seeded tickets, with some free text
CHANGING = ("note {id} {text}", "hold {id} {text}", "resume {id}", "resolve {id} {text}", "escalate {id} dev {text}",
            "standby {id} dev {text}", "ack {id} {text}", "update {id} {text}", "users {id} 12", "class {id} {text}",
            "priority {id} high", "tag {id} {word}", "triage {id} 2", "todo {id} me {text}", "diag {id} {text}",
            "email {id} {kind} {text}", "email {id} {kind} lang:{lang} {text}", "show {id}", "postmortem {id}")
EMAIL_KINDS = ("ack", "update", "resolution", "escalation", "management", "wish", "")
BODY = st.one_of(st.just(""), FREE_TEXT.map("\n".__add__))  # the lines after the first


def command(names: tuple[str, ...]) -> st.SearchStrategy[str]:
    return st.builds(lambda prefix, name, ref, text, options, lines: f"{prefix}{name} {ref} {text} {options}{lines}",
                     PREFIXES, st.sampled_from(names), IDS, FREE_TEXT, OPTIONS, BODY)


CHANGES_MADE = st.builds(
    lambda prefix, form, ref, text, word, kind, lang: prefix + form.format(id=ref, text=text, word=word, kind=kind,
                                                                           lang=lang),
    PREFIXES, st.sampled_from(CHANGING), st.sampled_from(("1", "2", "3", "4", "#2", "HT00003")),
    st.one_of(WORDS, WORDS, WORD, FREE_TEXT), WORD, st.sampled_from(EMAIL_KINDS),
    st.sampled_from(("en", "vi", "fr", "²")))
NEW_TICKETS = st.builds(lambda prefix, title, options, lines: f"{prefix}new {title} {options}{lines}",
                        PREFIXES, st.one_of(WORDS, WORD, LONG), NEW_OPTIONS, BODY)
SENDERS = st.sampled_from([AGENT, AGENT, AGENT, LEAD, STRANGER])

# ---- what a client can put in a card's data (Action.Submit values, Action.Execute invokes) ------------------
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.sampled_from(WORD_POOL))
JSON_VALUES = st.one_of(SCALARS, st.lists(SCALARS, max_size=2),
                        st.dictionaries(st.sampled_from(("a", "verb", "data", "0")), SCALARS, max_size=2))
CARD_FIELDS = ("verb", "ticket", "text", "title", "description", "users", "customer", "deadline", "type",
               "escalation", "info", "resolution", "why", "team", "force", "", "__proto__")
VERBS = (*(a.value for a in Answer), REFRESH, "escalation.", "ack", "new", "", "escalation.ack ", "ESCALATION.ACK")
FIELD_VALUES = st.one_of(st.sampled_from((*VERBS, "1", "5", "1-1", "999-1", "me", "yes")), IDS, FREE_TEXT,
                         JSON_VALUES)
FIELDS = st.dictionaries(st.sampled_from(CARD_FIELDS), FIELD_VALUES, max_size=4)
# forms send `command` (the new-ticket form, a reminder's Take it / Snooze / Post update): a typed command's twin
FORMS = st.builds(lambda name, fields: {"command": name, **fields},
                  st.one_of(st.sampled_from(COMMANDS), JSON_VALUES), FIELDS)
SUBMITS = st.one_of(FORMS, FORMS, FIELDS, JSON_VALUES)
INVOKES = st.one_of(
    st.builds(lambda verb, data: {"action": {"type": "Action.Execute", "verb": verb, "data": data},
                                  "trigger": "manual"},
              st.one_of(st.sampled_from(VERBS), WORD), st.one_of(FIELDS, FORMS, JSON_VALUES)),
    st.dictionaries(st.sampled_from(("action", "trigger", "verb", "data")), JSON_VALUES, max_size=3),
    JSON_VALUES,
)


# ---- checking each answer ---------------------------------------------------------------------------------
def is_refusal(reply: Reply) -> bool:
    """A problem card (its first line in the attention colour), or the hint for text that is not a command."""
    if reply.card is None:
        return "/ticket help" in reply.text
    body = reply.card.get("body") or []
    return bool(body) and body[0].get("color") == "attention" and not reply.card.get("actions")


class _Markup(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag + "".join(f" {name}" for name, _ in attrs))


def markup_in(html_text: str) -> set[str]:
    parser = _Markup()
    parser.feed(html_text or "")
    return parser.tags


BOTS_OWN_MARKUP = {"p", "b", "br"}  # what the bot writes around people's text (gateway._post, description_html)


def assert_no_live_markup_in_odoo(sandbox: RunningSandbox) -> None:
    """What the bot posted (comments) and the descriptions it wrote hold people's text as text."""
    for message in sandbox.odoo.records("mail.message"):
        if message["message_type"] == "comment":  # not Odoo's own mails (its templates have their markup)
            assert markup_in(message["body"]) <= BOTS_OWN_MARKUP, message["body"]
    for ticket in sandbox.odoo.records("helpdesk.ticket"):
        assert markup_in(ticket["description"]) <= BOTS_OWN_MARKUP, ticket["description"]


class Batch(list[Any]):
    """Inputs run one after the other; shown short in Hypothesis' reports (the failing one is in the message)."""

    def __repr__(self) -> str:
        return f"Batch(<{len(self)} inputs>)"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(repr(self))


class Spoils(list[Any]):
    """Hostile changes to the desk's records, shown short (a text can be 30,000 characters)."""

    def __repr__(self) -> str:
        return "Spoils(" + ", ".join(f"({what!r}, {tid}, {text[:40]!r}{'...' if len(text) > 40 else ''})"
                                     for what, tid, text in self) + ")"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(repr(self))


class Fuzz:
    """Runs Hypothesis over one kind of input, sends each one to the bot and checks its answer."""

    def __init__(self, teams: InProcessTeams, sandbox: RunningSandbox) -> None:
        self.teams = teams
        self.sandbox = sandbox
        self.sent = 0
        self.refused = 0
        self.odoo_writes = Counter[tuple[str, str]]()  # over the whole run
        self.spoiled = 0  # hostile changes written into the desk's records
        self._desk = sandbox.odoo.store.snapshot()  # the seeded desk, put back after each batch

    async def run(self, count: int, strategy: st.SearchStrategy[Any], send: Callable[[Any], Awaitable[Outcome]], *,
                  invoke: bool = False, spoils: st.SearchStrategy[list[Any]] | None = None) -> None:
        """Hypothesis in a worker thread, BATCH inputs an example; each batch runs on this event loop, where
        the bot lives, one input after the other. No shrinking: the bot's state moves on between runs, and
        the failure message already names the one input that failed. `spoils`: hostile text written into the
        desk's Odoo records before each batch (tests/test_hostile_odoo.py's `spoil`)."""
        loop = asyncio.get_running_loop()

        async def batch(values: list[Any], spoiled: list[Any]) -> None:
            for ticket_id in {change[1] for change in spoiled}:  # their write_date moves (before any field is
                self.sandbox.odoo.call(2, "helpdesk.ticket", "write", [[ticket_id], {"priority": "1"}], {})  # spoiled)
            self.spoil(spoiled)
            self.sandbox.odoo.calls.clear()  # the spoiling's own calls are not the bot's writes
            for value in values:
                await self.check(value, send, invoke=invoke)
            self._next_batch(check_markup=not spoiled)

        @settings(max_examples=count // BATCH, deadline=None, database=None, phases=[Phase.generate],
                  suppress_health_check=list(HealthCheck))
        @given(st.lists(strategy, min_size=BATCH, max_size=BATCH).map(Batch),
               (st.just([]) if spoils is None else spoils).map(Spoils))
        def example(values: list[Any], spoiled: list[Any]) -> None:
            asyncio.run_coroutine_threadsafe(batch(values, spoiled), loop).result(timeout=300)

        await asyncio.to_thread(example)

    def spoil(self, changes: list[tuple[str, int, str]]) -> None:
        from tests.test_hostile_odoo import spoil_all  # that module imports this one's BROKEN

        spoil_all(self.sandbox, OdooView(self.sandbox.odoo), changes)
        self.spoiled += len(changes)

    def _next_batch(self, *, check_markup: bool = True) -> None:
        """Everything the batch stored in Odoo is text (on a spoiled desk, Odoo's records hold others' markup:
        not checked); then the seeded desk comes back, so that every batch meets open tickets and the double's
        per-call cost does not grow with thousands of new records."""
        if check_markup:
            assert_no_live_markup_in_odoo(self.sandbox)
        self.odoo_writes += _writes(self.sandbox)
        self.sandbox.odoo.calls.clear()
        self.sandbox.odoo.store.restore(self._desk)
        self._desk = self.sandbox.odoo.store.snapshot()

    async def check(self, value: Any, send: Callable[[Any], Awaitable[Outcome]], *, invoke: bool) -> None:
        before = _writes(self.sandbox)
        outcome = await send(value)
        changed = _writes(self.sandbox) != before
        self.sent += 1
        if invoke:  # Action.Execute: the answer is the card that replaces the clicked one
            assert outcome.card is not None, f"no card answered {value!r}"
            replies = [Reply(card=outcome.card)]
        else:
            replies = list(outcome.replies)
        assert len(replies) == 1, f"{len(replies)} answers to {value!r}"
        [reply] = replies
        shown = card_text(reply.card) if reply.card else reply.text
        assert shown.strip(), f"an empty answer to {value!r}"
        for broken in BROKEN:
            assert broken not in shown, f"{value!r} was answered {shown!r}"
        size = len(json.dumps(reply.card if reply.card else reply.text, ensure_ascii=False).encode())
        assert size < TEAMS_MESSAGE_LIMIT, f"a {size}-byte answer to {value!r}"
        if is_refusal(reply):
            self.refused += 1
            assert not changed, f"{value!r} was refused ({shown!r}) but Odoo changed"


def _writes(sandbox: RunningSandbox) -> Counter[tuple[str, str]]:
    return Counter({key: n for key, n in sandbox.odoo.calls.items() if key[1] not in READ_ONLY_METHODS})


@pytest.fixture
def odoo_without_sockets(monkeypatch: pytest.MonkeyPatch, sandbox: RunningSandbox) -> None:
    """The bot's XML-RPC transport answered by the double in process (tests/support/inprocess.py)."""
    monkeypatch.setattr(server, "make_transport", lambda protocol, session, creds, **options: SandboxWire(
        sandbox.odoo, session, creds, timeout=options["timeout"]))


@pytest.fixture
def fuzz(odoo_without_sockets: None, runtime: Runtime, sandbox: RunningSandbox) -> Fuzz:
    return Fuzz(InProcessTeams(runtime.bot, {u.id: u for u in (AGENT, LEAD, STRANGER)}), sandbox)


# ---- the tests ----------------------------------------------------------------------------------------------
async def test_typed_commands_of_every_shape(fuzz: Fuzz) -> None:
    await fuzz.run(TYPED, st.tuples(st.one_of(command(COMMANDS), WORDS, LONG), SENDERS),
                   lambda example: fuzz.teams.say(*example))
    assert fuzz.sent >= TYPED
    assert sum(fuzz.odoo_writes.values()) > TYPED // 20  # enough were carried out to check refusals against


async def test_hostile_text_on_open_tickets_is_stored_as_text(fuzz: Fuzz) -> None:
    await fuzz.run(ON_OPEN, st.tuples(command(ON_OPEN_TICKETS), st.sampled_from([AGENT, LEAD])),
                   lambda example: fuzz.teams.say(*example))
    assert fuzz.sent >= ON_OPEN
    assert fuzz.odoo_writes[("helpdesk.ticket", "message_post")] > ON_OPEN // 10  # many reached the chatter


async def test_new_tickets_with_hostile_titles_and_options(fuzz: Fuzz) -> None:
    await fuzz.run(NEW, st.tuples(NEW_TICKETS, st.sampled_from([AGENT, LEAD])),
                   lambda example: fuzz.teams.say(*example))
    assert fuzz.sent >= NEW
    # many reached Odoo (about 1 in 20: most draws carry a bad option; the draws vary outside CI, hence 1 in 40)
    assert fuzz.odoo_writes[("helpdesk.ticket", "create")] > NEW // 40


async def test_ticket_changing_commands_on_a_spoiled_desk(fuzz: Fuzz) -> None:
    """What the bot reads back before it changes a ticket (its description's facts, name, stage, partner,
    chatter) written by anyone in Odoo: notes, holds, resolutions, escalations, e-mail drafts and the rest still
    get one clear answer, never the crash card."""
    from tests.test_hostile_odoo import FACT_VALUES, FAKE_FACTS, HOSTILE  # that module imports this one's BROKEN

    # drawn from fixed pools: a few bytes of Hypothesis' budget each (free text there left the commands bare)
    texts = (*HOSTILE, FAKE_FACTS, "<p>Attendance</p>" + FAKE_FACTS, "Lỗi <b>x</b> ²" * 3_000,
             *(f"<p><b>Support desk</b><br>{name}: {value}</p>" for name in ("Users affected", "Deadline", "Reported")
               for value in FACT_VALUES))
    spoils = st.lists(st.tuples(st.sampled_from(("description", "name", "partner", "stage", "category",
                                                 "customer wrote", "note")),
                                st.integers(1, 4), st.sampled_from(texts)), min_size=1, max_size=4)
    await fuzz.run(ON_SPOILED, st.tuples(CHANGES_MADE, st.sampled_from([AGENT, LEAD])),
                   lambda example: fuzz.teams.say(*example), spoils=spoils)
    assert fuzz.sent >= ON_SPOILED and fuzz.spoiled >= ON_SPOILED // BATCH
    assert fuzz.odoo_writes[("helpdesk.ticket", "message_post")] > ON_SPOILED // 20  # many reached the chatter


async def test_forms_with_tampered_data(fuzz: Fuzz) -> None:
    await fuzz.run(SUBMITTED, st.tuples(SUBMITS, SENDERS), lambda example: fuzz.teams.submit(*example))
    assert fuzz.sent >= SUBMITTED


async def test_card_clicks_with_tampered_data(fuzz: Fuzz) -> None:
    await fuzz.run(CLICKED, st.tuples(INVOKES, SENDERS), lambda example: fuzz.teams.invoke(*example), invoke=True)
    assert fuzz.sent >= CLICKED
