"""Hostile input through the real bot over HTTP: very long texts, HTML and script, Odoo domain
injection, and tampered card payloads. Each gets a clear answer, and what reaches Odoo (recorded at
the double as Odoo received it) is text, never markup or domain structure.

The matrix of tampered card payloads (Action.Execute and its Action.Submit fallback, and the forms)
is here in one place; tests/test_escalation.py tests the escalation's own answers.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from bot.escalation.model import REFRESH, Answer
from bot.odoo.gateway import like_literal
from bot.parsing import MAX_COMMAND_LENGTH
from tests.conftest import AGENT, LEAD, STRANGER, RunningSandbox
from tests.support.markdown import card_constructs, card_visible
from tests.support.odoo_view import OdooView
from tests.support.teams import TeamsClient, TeamsUser, card_text
from tests.test_escalation import DEV, DUC, escalation_id, priority_ticket, register
from tests.test_fuzz_commands import BOTS_OWN_MARKUP, BROKEN, markup_in


@dataclass(frozen=True)
class OdooCall:
    model: str
    method: str
    args: list[Any]
    kwargs: dict[str, Any]

    @property
    def domain(self) -> list[Any] | None:
        if self.method in ("search", "search_read", "search_count", "read_group"):
            return list(self.args[0] if self.args else self.kwargs.get("domain") or [])
        return None


@pytest.fixture
def received(sandbox: RunningSandbox, monkeypatch: pytest.MonkeyPatch) -> list[OdooCall]:
    """Every call the Odoo double receives, as Odoo gets it (after the wire)."""
    calls: list[OdooCall] = []
    real = sandbox.odoo.call

    def recording(uid: int, model: str, method: str, args: Any = (), kwargs: dict[str, Any] | None = None) -> Any:
        calls.append(OdooCall(model, method, list(args), dict(kwargs or {})))
        return real(uid, model, method, args, kwargs)

    monkeypatch.setattr(sandbox.odoo, "call", recording)
    return calls


def writes(calls: list[OdooCall]) -> list[OdooCall]:
    return [c for c in calls if c.domain is None and c.method not in ("read", "fields_get", "name_search")]


def state(odoo: OdooView) -> tuple[int, int, int]:
    """Tickets, chatter messages and partners: what a refused command must leave as it was."""
    return (odoo.call("helpdesk.ticket", "search_count", []), odoo.call("mail.message", "search_count", []),
            odoo.call("res.partner", "search_count", []))


def refusal(card: dict[str, Any]) -> str:
    """The card's text, checked to be a refusal (its first line in the attention colour)."""
    assert card["body"][0].get("color") == "attention", card_text(card)
    return card_text(card)


# ---- very long texts ---------------------------------------------------------------------------------------
async def test_a_note_over_the_limit_is_refused_saying_the_limit(teams: TeamsClient, odoo: OdooView) -> None:
    before = state(odoo)
    typed = "/ticket note 1" + "\nlog line 42: timeout" * 500
    text = refusal(await teams.card(typed))
    assert f"This message is {len(typed):,} characters long; I take at most {MAX_COMMAND_LENGTH:,}" in text
    assert "/ticket note <id>" in text  # how to do it instead
    assert state(odoo) == before


async def test_a_long_note_under_the_limit_lands_whole(teams: TeamsClient, odoo: OdooView) -> None:
    lines = [f"{n:04d} GET /api/report 504 after 30001 ms" for n in range(180)]  # about 7,500 characters
    card = await teams.card("/ticket note 1 Gateway log excerpt\n" + "\n".join(lines))
    assert "Note added." in card_text(card)
    body = odoo.messages(1, subtype="Note")[-1]["body"]
    assert lines[0] in body and lines[-1] in body


async def test_a_long_title_is_refused_saying_the_limit(teams: TeamsClient, odoo: OdooView) -> None:
    before = state(odoo)
    text = refusal(await teams.card("/ticket new " + "Video không load được " * 10))
    assert "keep it under 200" in text and "description" in text
    [form_answer] = await teams.submit({"command": "new", "title": "x" * 300, "users": "1"})
    assert "keep it under 200" in refusal(form_answer.card or {})
    assert state(odoo) == before


async def test_oversized_card_data_is_refused(teams: TeamsClient, odoo: OdooView) -> None:
    before = state(odoo)
    [answer] = await teams.submit({"command": "note", "ticket": "1", "text": "y" * (MAX_COMMAND_LENGTH + 1)})
    assert f"I take at most {MAX_COMMAND_LENGTH:,}" in refusal(answer.card or {})
    assert state(odoo) == before


# ---- Markdown ---------------------------------------------------------------------------------------------------
TYPED = "**[reset](https://evil.example)**_now_"  # one word, lower case: the bot quotes it back when it cannot use it


@pytest.mark.parametrize("command", [f"show {TYPED}", f"list {TYPED}", f"snooze 1 {TYPED}", f"users 1 {TYPED}",
                                     f"assign 1 {TYPED}", f"help {TYPED}", f"class 1 deadline deadline:{TYPED}",
                                     f"email 1 {TYPED}", f"email 1 ack lang:{TYPED}", f"new x team:{TYPED}",
                                     f"new x category:{TYPED}", f"escalate 1 {TYPED}", TYPED])
async def test_what_someone_typed_is_quoted_back_literally(teams: TeamsClient, command: str) -> None:
    card = await teams.card(f"/ticket {command}")
    rendered = card_constructs(card)
    assert not {"link_open", "strong_open", "em_open", "mobile link"} & set(rendered), rendered
    assert TYPED in card_visible(card)


# ---- HTML and script -----------------------------------------------------------------------------------------
SCRIPT = "<script>alert(1)</script><img src=x onerror=alert(1)><b>bold</b>"


async def test_markup_in_a_title_and_description_reaches_odoo_as_text(
        teams: TeamsClient, odoo: OdooView, received: list[OdooCall]) -> None:
    card = await teams.card(f"/ticket new {SCRIPT} users:1\n<iframe src=//evil></iframe> since 9am")
    [create] = [c for c in received if c.model == "helpdesk.ticket" and c.method == "create"]
    sent = create.args[0]
    assert sent["name"] == SCRIPT  # a char field: Odoo shows it escaped, as it shows any title
    assert markup_in(sent["description"]) <= BOTS_OWN_MARKUP  # an html field: escaped by the bot
    assert "&lt;iframe src=//evil&gt;&lt;/iframe&gt; since 9am" in sent["description"]
    assert odoo.newest_ticket()["name"] == SCRIPT
    assert f"· {SCRIPT}" in card_visible(card)  # the card shows it as typed (rendered: nothing of it is markup)


@pytest.mark.parametrize("command", ["note", "diag", "update", "ack", "hold", "resolve"])
async def test_markup_in_chatter_text_is_escaped_in_what_odoo_gets(
        teams: TeamsClient, odoo: OdooView, received: list[OdooCall], command: str) -> None:
    await teams.card(f"/ticket {command} 1 {SCRIPT}\n<a href='javascript:alert(1)'>link</a>")
    [post] = [c for c in received if c.method == "message_post"]
    body = post.kwargs["body"]
    # The recorded contract: with body_is_html=True Odoo keeps the body's markup (only without the flag
    # does it escape), so the bot must escape people's text itself.
    assert post.kwargs["body_is_html"] is True
    assert markup_in(body) <= BOTS_OWN_MARKUP, body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;" in body
    assert "&lt;a href=&#x27;javascript:alert(1)&#x27;&gt;link&lt;/a&gt;" in body
    stored = [m["body"] for m in odoo.messages(1) if "alert" in m["body"]]
    assert stored and all(markup_in(b) <= BOTS_OWN_MARKUP for b in stored)


async def test_control_characters_are_dropped_before_anything_reads_them(
        teams: TeamsClient, odoo: OdooView) -> None:
    card = await teams.card("/ticket note 1 pasted\x00 from\x0b Word\x1b[0m \ud83d with a lone surrogate")
    assert "Note added." in card_text(card)
    body = odoo.messages(1, subtype="Note")[-1]["body"]
    assert "pasted from Word[0m with a lone surrogate" in body


# ---- Odoo domain injection ---------------------------------------------------------------------------------
INJECTIONS = ("('id','>',0)", "['|', ('id', '>', 0)]", "|", "&", "!", "%", "_", "\\", "%%", "' OR '1'='1",
              "a%b_c\\d", "x') or ('a'='a")
DOMAIN_FIELDS = {"id", "stage_id", "user_id", "tag_ids", "number", "email", "share", "groups_id", "module", "name",
                 "model", "res_id", "body", "message_type", "create_date", "write_date", "description", "login"}
DOMAIN_OPERATORS = {"=", "!=", "in", "not in", "=ilike", "ilike", ">", ">=", "<"}


def leaves(domain: list[Any]) -> Iterator[tuple[Any, ...]]:
    for term in domain:
        assert isinstance(term, list | tuple), f"a domain operator {term!r} (the bot's domains have none)"
        yield tuple(term)


def assert_literal_everywhere(calls: list[OdooCall], payload: str) -> None:
    """Every domain Odoo received is made of the bot's own leaves; the payload is at most a value."""
    for call in calls:
        for field, operator, value in leaves(call.domain or []):
            assert field in DOMAIN_FIELDS and operator in DOMAIN_OPERATORS, (call, payload)
            if isinstance(value, str) and payload in value and "like" in operator:
                assert like_literal(payload) in value, f"{payload!r} reached {operator} unescaped: {call}"


@pytest.mark.parametrize("template", [
    "/ticket list {p}", "/ticket show {p}", "/ticket show HT{p}", "/ticket assign 1 {p}", "/ticket escalate 1 {p}",
    "/ticket merge {p} into 1", "/ticket new Broken team:{p}", "/ticket new Broken category:{p}",
    "/ticket new Broken assignee:{p}", "/ticket new Broken type:{p}", "/ticket class 1 {p}", "/ticket users 1 {p}",
    "/ticket trend {p}", "/ticket postmortem {p}", "/ticket help {p}",
])
async def test_injection_in_search_terms_is_refused_and_reaches_odoo_as_no_structure(
        teams: TeamsClient, odoo: OdooView, received: list[OdooCall], template: str) -> None:
    before = state(odoo)
    for payload in INJECTIONS:
        received.clear()
        answer = card_text(await teams.card(template.format(p=payload)))
        assert not any(broken in answer for broken in BROKEN), (payload, answer)
        assert writes(received) == [], payload  # none of these is a valid command: nothing changed
        assert_literal_everywhere(received, payload)
    assert state(odoo) == before


@pytest.mark.parametrize(("typed", "existing"), [
    ("%@mindx.edu.vn", None),  # a wildcard would give the ticket to the first MindX customer
    ("nguyen_van_a@mindx.edu.vn", "nguyen.van.a@mindx.edu.vn"),  # `_` matches the dots of another customer
    ("teacher%@mindx.edu.vn", "teacher01@mindx.edu.vn"),
    ("a|b@x.com", None), ("('id','=',1)@x.com", None), ("o'brien@x.com", None),
])
async def test_a_customer_email_is_looked_up_as_typed(teams: TeamsClient, odoo: OdooView,
                                                      received: list[OdooCall], typed: str,
                                                      existing: str | None) -> None:
    await teams.card(f'/ticket new Cannot log in users:1 "customer:{typed}"')
    [lookup] = [c for c in received if c.model == "res.partner" and c.domain is not None]
    assert lookup.domain == [["email", "=ilike", like_literal(typed)]]  # one leaf, the address as one value
    ticket = odoo.newest_ticket()
    [partner] = odoo.call("res.partner", "read", [ticket["partner_id"][0]], fields=["email"])
    assert partner["email"] == typed  # a new customer with exactly this address, not someone else's
    if existing:
        assert odoo.partner_id(existing) != ticket["partner_id"][0]


async def test_an_existing_customer_is_still_found(teams: TeamsClient, odoo: OdooView) -> None:
    partners = odoo.call("res.partner", "search_count", [])
    await teams.card("/ticket new Cannot log in users:1 customer:Nguyen.Van.A@mindx.edu.vn")
    assert odoo.newest_ticket()["partner_id"][0] == odoo.partner_id("nguyen.van.a@mindx.edu.vn")
    assert odoo.call("res.partner", "search_count", []) == partners


# ---- tampered card payloads --------------------------------------------------------------------------------
OTHER_CHANNEL = "19:support@thread.tacv2"


@dataclass
class Escalated:
    ticket: int
    id: str
    card: dict[str, Any]


@pytest.fixture
async def escalated(teams: TeamsClient, odoo: OdooView) -> Escalated:
    await register(teams, dev=DEV, support=OTHER_CHANNEL)
    tid = await priority_ticket(teams, odoo)
    await teams.card(f"/ticket escalate {tid} dev Teachers blocked")
    [posted] = teams.connector.cards_in(DEV)
    return Escalated(tid, escalation_id(posted.card or {}), posted.card or {})


async def click(teams: TeamsClient, how: str, verb: str, data: Any, *, channel: str = DEV,
                sender: TeamsUser = DUC) -> str:
    """Action.Execute (an invoke) or its Action.Submit fallback (a message carrying `verb`), as a client
    could send it: the text of the card answered."""
    if how == "execute":
        status, body = await teams.invoke(verb, data, channel=channel, sender=sender)
        assert status == 200
        return card_text(body["value"])
    value = {**data, "verb": verb} if isinstance(data, dict) else data
    activity = {**teams._in_channel(channel, sender), "type": "message", "value": value}
    [answer] = [r for r in await teams.send(activity) if r.conversation_id.startswith(channel)]  # not the owner's
    return card_text(answer.card or {}) if answer.card else answer.text


TAMPERED: list[tuple[str, str, Any, str]] = [  # (case, verb, data, what the answer says)
    ("unknown escalation", Answer.ACKNOWLEDGE, {"escalation": "999-1"}, "This escalation is not known"),
    ("no escalation", Answer.ACKNOWLEDGE, {}, "This escalation is not known"),
    ("escalation as a list", Answer.ACKNOWLEDGE, {"escalation": ["{id}"]}, "This escalation is not known"),
    ("escalation as an object", Answer.ACKNOWLEDGE, {"escalation": {"id": "{id}"}}, "This escalation is not known"),
    ("escalation with a wildcard", Answer.ACKNOWLEDGE, {"escalation": "*"}, "This escalation is not known"),
    ("escalation as a path", Answer.ACKNOWLEDGE, {"escalation": "../{id}"}, "This escalation is not known"),
    ("unknown verb", "escalation.delete", {"escalation": "{id}"}, "is not something I can do"),
    ("a command as the verb", "cancel", {"escalation": "{id}", "text": "gone"}, "is not something I can do"),
    ("verb in capitals", "ESCALATION.ACK", {"escalation": "{id}"}, "is not something I can do"),
    ("decline without a reason", Answer.DECLINE, {"escalation": "{id}"}, "Please write why before sending"),
    ("need info, blank", Answer.NEED_INFO, {"escalation": "{id}", "info": "   "}, "Please write what you need"),
    ("reason as a list", Answer.DECLINE, {"escalation": "{id}", "why": ["not ours"]}, "Please write why before"),
    ("resolution as an object", Answer.RESOLVED, {"escalation": "{id}", "resolution": {"text": "x"}},
     "Please write what was done"),
    ("reason over the limit", Answer.DECLINE, {"escalation": "{id}", "why": "n" * (MAX_COMMAND_LENGTH + 1)},
     f"I take at most {MAX_COMMAND_LENGTH:,}"),
]


@pytest.mark.parametrize("how", ["execute", "submit"])
async def test_a_tampered_escalation_click_is_refused_and_changes_nothing(
        teams: TeamsClient, odoo: OdooView, escalated: Escalated, how: str) -> None:
    before = state(odoo)
    for case, verb, data, says in TAMPERED:
        answer = await click(teams, how, str(verb), json.loads(json.dumps(data).replace("{id}", escalated.id)))
        assert says in answer, (case, answer)
        assert state(odoo) == before and teams.connector.updated == [], case
    current = await click(teams, "execute", REFRESH, {"escalation": escalated.id})
    assert "waiting for the Dev team to acknowledge" in current  # still open for the team


@pytest.mark.parametrize("how", ["execute", "submit"])
async def test_a_click_copied_to_another_channel_is_refused(teams: TeamsClient, odoo: OdooView,
                                                            escalated: Escalated, how: str) -> None:
    before = state(odoo)
    data = {"escalation": escalated.id, "team": "support", "channel": OTHER_CHANNEL}  # extra fields claim it
    answer = await click(teams, how, Answer.ACKNOWLEDGE, data, channel=OTHER_CHANNEL, sender=STRANGER)
    assert "Only the Dev team's channel can answer this escalation; elsewhere only a team lead or a manager" in answer
    assert state(odoo) == before and teams.connector.updated == []


@pytest.mark.parametrize("how", ["execute", "submit"])
async def test_extra_fields_cannot_redirect_a_click(teams: TeamsClient, odoo: OdooView, escalated: Escalated,
                                                    how: str) -> None:
    other = await priority_ticket(teams, odoo)
    data = {"escalation": escalated.id, "ticket": other, "ticket_id": other, "team": "management",
            "status": "resolved", "by": "Trần Thị Lan"}
    answer = await click(teams, how, Answer.ACKNOWLEDGE, data)
    assert "Acknowledged by Võ Minh Đức" in answer  # the escalation the id names, by who clicked
    assert "acknowledged the escalation" in odoo.messages(escalated.ticket, subtype="Note")[-1]["body"]
    assert not any("acknowledged the escalation" in m["body"] for m in odoo.messages(other))


FORMS: list[tuple[str, dict[str, Any], TeamsUser, str]] = [  # (case, Action.Submit data, who, what the answer says)
    ("unknown ticket", {"command": "note", "ticket": "999999", "text": "x"}, AGENT, "There is no ticket #999999"),
    ("ticket as words", {"command": "note", "ticket": "('id','>',0)", "text": "x"}, AGENT, "is not a ticket id"),
    ("ticket as a list", {"command": "note", "ticket": [1, 2], "text": "x"}, AGENT, "is not a ticket id"),
    ("unknown command", {"command": "drop", "ticket": "1"}, AGENT, "/ticket help"),
    ("command as a list", {"command": ["cancel"], "ticket": "1", "text": "x"}, AGENT, "/ticket help"),
    ("lead-only close", {"command": "close", "ticket": "4", "force": "yes", "text": "x"}, AGENT,
     "closing without the customer's confirmation is for: lead"),
    ("no Odoo user", {"command": "cancel", "ticket": "1", "text": "x"}, STRANGER, "can't find an Odoo user"),
    ("snooze too long", {"command": "snooze", "ticket": "1", "text": "9999h"}, AGENT, "Snooze for at most"),
    ("update without text", {"command": "update", "ticket": "1"}, AGENT, "Please add the update"),
    ("new with bad values", {"command": "new", "title": "Broken", "users": "-5", "type": "<script>",
                             "deadline": "yesterday", "extra": {"x": 1}}, AGENT, "is not a number of users"),
    ("new with a wildcard customer", {"command": "new", "title": "Broken", "customer": "%"}, AGENT,
     "is not an email address"),
]


async def test_a_tampered_form_is_refused_like_the_typed_command(teams: TeamsClient, odoo: OdooView) -> None:
    before = state(odoo)
    for case, value, who, says in FORMS:
        activity = {**teams._base(teams.personal(who), sender=who), "type": "message", "value": value}
        [answer] = await teams.send(activity)
        shown = card_text(answer.card) if answer.card else answer.text
        assert says in shown, (case, shown)
        assert state(odoo) == before, case


async def test_a_form_is_a_typed_command_with_the_same_checks(teams: TeamsClient, odoo: OdooView) -> None:
    """The reminder's Take it button sends `assign <id> me`; changing `text` is no more than typing
    `/ticket assign 1 <someone>`, which the same role check allows an agent."""
    [answer] = await teams.submit({"command": "assign", "ticket": "1", "text": "Trần Thị Lan"})
    assert "Assigned to Trần Thị Lan" in card_text(answer.card or {})
    assert odoo.ticket(1)["user_id"][0] == odoo.user_id(LEAD.email)
