"""Every Adaptive Card the bot builds, checked by Microsoft's `adaptivecards` library for Teams (schema 1.5).

The cards are built by the real builders from realistic tickets of the three shipped process profiles
(every class of service and stage, with and without owner, customer, deadline and description, overdue
and not, HTML- and markdown-looking text, very long titles, Vietnamese) and from the real command
registry; all of them go to the library in one Node run (tests/support/card_validator.py).
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.bot import build_router
from bot.escalation.model import TEXT_INPUT, Escalation, Status, TicketContext
from bot.lifecycle import Move, NotAllowed, check
from bot.process import ClassOfService, ProcessProfile, Stage, load_profile
from bot.reminders.policy import NextStep, next_step
from bot.tickets import Customer, OdooUser, Ticket, TicketFacts, split_description
from bot.timesheets import TimeLine
from cards.escalation import escalation_card, escalation_summary_card
from cards.forms import new_ticket_form
from cards.help import command_help_card, help_card
from cards.nag import nag_card
from cards.notices import problem_card
from cards.ticket import ticket_card, ticket_list_card
from cards.timesheets import SHOWN, own_time_card, ticket_time_card
from tests.support import card_validator
from tests.support.card_validator import CardValidatorUnavailable, validate_cards
from tests.support.teams import card_elements

NOW = datetime(2025, 1, 29, 8, 33, tzinfo=UTC)  # 15:33 in Vietnam
TZ = ZoneInfo("Asia/Ho_Chi_Minh")
PROFILES = ("mindx", "tmf", "odoo-ps")

AGENT = OdooUser(7, "Đỗ Doãn Tiến", "tien.dd@mindx.edu.vn", 31)
CUSTOMER = Customer(58, "Nguyễn Thị Hồng Nhung", "nhung.nth@mindx.edu.vn")

TITLES = {
    ClassOfService.STANDARD: "Cannot log in to LMS",
    ClassOfService.PRIORITY: "Máy chiếu phòng 302 không nhận tín hiệu HDMI",
    ClassOfService.EXPEDITE: "<b>All</b> campuses: payroll export fails & emails bounce <script>alert(1)</script>",
    ClassOfService.FIXED_DEADLINE: "**Exam portal** must be ready by _Friday_ [see plan](https://example.com/plan)",
}
LONG_TITLE = "Printer on floor 3 jams on every A3 job " * 14  # ~560 characters, past the form's 200 limit
DESCRIPTIONS = {
    ClassOfService.STANDARD: "User gets 'invalid password' after the reset e-mail.\nTried twice, cleared the cache.",
    ClassOfService.PRIORITY: "Giáo viên phải dạy bằng bảng trắng; 12 lớp bị ảnh hưởng từ 8 giờ sáng.\n"
                             "Đã thử cáp khác, vẫn lỗi.",
    ClassOfService.EXPEDITE: "# Outage\n- payroll `export.csv` is empty\n- SMTP 550 <relay denied>\n"
                             "> quoted reply from the vendor\n\n| a | b |\n|---|---|\n| 1 | 2 |\n" + "Log line. " * 80,
    ClassOfService.FIXED_DEADLINE: "1. Create 40 exam rooms\n2. Import candidates (see <a href='x'>sheet</a>)\n"
                                   "3. ${placeholder} {{mustache}} &amp; &lt;tags&gt;",
}


@dataclass(frozen=True)
class Case:
    name: str
    card: dict[str, Any]
    ticket: Ticket | None = None
    kind: str = ""  # "ticket", "list", "form", "help", "problem"


def _url(profile: ProcessProfile, ticket_id: int) -> str:
    return f"https://odoo.mindx.example/web#id={ticket_id}&model={profile.model.value}&view_type=form"


def _ticket(profile: ProcessProfile, ticket_id: int, cos: ClassOfService, stage: Stage, *, full: bool,
            age: timedelta, title: str | None = None) -> Ticket:
    """`full`: every optional field set (owner, customer, deadline, facts, description, url); else none."""
    created = NOW - age
    if not full:
        return Ticket(id=ticket_id, number="", title=title or TITLES[cos], description="", stage=profile.stages[stage],
                      stage_key=stage, priority=profile.classes[cos].priority, cos=cos, created=created,
                      updated=created, closed=stage in (Stage.DONE, Stage.CANCELLED))
    deadline = NOW + timedelta(days=2, hours=3) if cos is ClassOfService.FIXED_DEADLINE else None
    facts = TicketFacts(users={ClassOfService.STANDARD: 1, ClassOfService.PRIORITY: 12,
                               ClassOfService.EXPEDITE: 300, ClassOfService.FIXED_DEADLINE: 40}[cos],
                        deadline=deadline, reported=created - timedelta(minutes=20), kind=profile.ticket_types[0],
                        logged_by=AGENT.name)
    return Ticket(id=ticket_id, number=f"HT{ticket_id:05d}", title=title or TITLES[cos],
                  description=DESCRIPTIONS[cos], stage=profile.stages[stage], stage_key=stage,
                  priority=profile.classes[cos].priority, cos=cos, created=created, updated=created,
                  facts=facts, owner=AGENT, customer=CUSTOMER, tags=(profile.classes[cos].tag, "LMS", "Cơ sở Hà Nội"),
                  team="IT Support – Hà Nội", category="Hardware & <Network>",
                  closed=stage in (Stage.DONE, Stage.CANCELLED), url=_url(profile, ticket_id))


def _tickets(profile: ProcessProfile) -> Iterator[tuple[str, Ticket]]:
    ticket_id = 40
    for cos in ClassOfService:
        for full in (True, False):
            for overdue in (True, False):
                ticket_id += 1
                age = timedelta(days=3) if overdue else timedelta(minutes=1)
                stage = Stage.IN_PROGRESS if full else Stage.NEW
                name = f"{cos.value}-{'full' if full else 'bare'}-{'overdue' if overdue else 'on-time'}"
                yield name, _ticket(profile, ticket_id, cos, stage, full=full, age=age)
    for stage in Stage:
        ticket_id += 1
        yield f"stage-{stage.value}", _ticket(profile, ticket_id, ClassOfService.PRIORITY, stage, full=True,
                                              age=timedelta(hours=5))
    yield "long-title", _ticket(profile, 99, ClassOfService.STANDARD, Stage.IN_PROGRESS, full=True,
                                age=timedelta(hours=1), title=LONG_TITLE)
    yield "no-stage-key", _ticket(profile, 100, ClassOfService.STANDARD, Stage.NEW, full=False,
                                  age=timedelta(hours=2)).with_changes(stage="Triage", stage_key=None)
    # As read back from Odoo: html description with the facts block the bot writes.
    text, facts = split_description("<p>Mạng Wi-Fi chập chờn &amp; chậm</p><p><b>Support desk</b><br>"
                                    "Users affected: 3<br>Reported: 2025-01-29 07:10 UTC<br>Type: incident</p>")
    yield "from-odoo-html", _ticket(profile, 101, ClassOfService.STANDARD, Stage.IN_PROGRESS, full=True,
                                    age=timedelta(hours=1)).with_changes(description=text, facts=facts)


def _problem_messages(profile: ProcessProfile) -> Iterator[tuple[str, str, str]]:
    """(message, hint, reference) as the bot sends them: real refusals of the lifecycle rules, usage errors."""
    closed = _ticket(profile, 7, ClassOfService.STANDARD, Stage.DONE, full=True, age=timedelta(days=1))
    fresh = _ticket(profile, 8, ClassOfService.EXPEDITE, Stage.NEW, full=False, age=timedelta(minutes=3))
    for ticket, move in ((closed, Move.UPDATE), (fresh, Move.CONFIRM), (fresh, Move.RESUME), (fresh, Move.REOPEN)):
        try:
            check(ticket, move)
        except NotAllowed as refusal:
            yield str(refusal), "", ""
    yield ("Odoo did not answer in time.", "Try again in a minute; nothing was changed.",
           "c0ffee12-3456-4789-abcd-ef0123456789")
    yield ("Không tìm thấy phiếu `#4242`.", "Dùng `/ticket list` để xem các phiếu đang mở. <b>not bold</b>", "")
    yield ("There is no command `frobnicate`. These exist: " + ", ".join(c.name for c in _commands()) + ".",
           "Usage: `/ticket new <title> [users:<n>]` " * 20, "turn 0f3a · " * 10)


FINDINGS = ("Slow query log: SELECT * FROM attendance WHERE class_id = 302 -- 38.2 s, seq scan on 1.9M rows",
            "p95 of /report went from 1.8 s to 41 s at 08:05; CPU of db-2 at 97 %. Restarted the app pods: no change.",
            "Lỗi 504 Gateway Time-out <nginx> khi mở báo cáo điểm danh " + "log line " * 60)


def _escalations(profile: ProcessProfile, ticket: Ticket) -> Iterator[tuple[str, Escalation]]:
    team = next(iter(profile.escalation_teams.values()))
    context = TicketContext(
        ticket_id=ticket.id, label=ticket.label, title=ticket.title, service_class=profile.classes[ticket.cos].label,
        users=ticket.facts.users, customer=ticket.customer.name if ticket.customer else "not set",
        owner=ticket.owner.name if ticket.owner else "nobody yet", owner_id=ticket.owner.id if ticket.owner else None,
        stage=ticket.stage, url=ticket.url, deadline=ticket.facts.deadline, description=ticket.description[:600],
        findings=FINDINGS if ticket.url else ())
    base = Escalation(id=f"{ticket.id}-1", team=team.key, team_label=team.label, ticket=context,
                      reason="16 teachers cannot open attendance reports; the parents' meeting is at 17:00.",
                      escalated_by=AGENT.name, posted_at=NOW - timedelta(minutes=9), ack_due=NOW + timedelta(minutes=6),
                      conversation_id="19:dev@thread.tacv2", activity_id="msg-1")
    acked = replace(base, status=Status.ACKNOWLEDGED, acknowledged_by="Võ Minh Đức", acknowledged_at=NOW,
                    answered_by="Võ Minh Đức", answered_at=NOW)
    yield "open", base
    yield "open-overdue", replace(base, ack_due=NOW - timedelta(minutes=1), reason="")
    yield "acknowledged", acked
    yield "need-info", replace(acked, status=Status.NEED_INFO, answer="Which campus? Send the request id.")
    yield "resolved", replace(acked, status=Status.RESOLVED, answer="Added an index on attendance.class_id.")
    yield "declined", replace(base, status=Status.DECLINED, answered_by="Võ Minh Đức", answer="Content issue.")
    yield "passed-on", replace(base, status=Status.PASSED_ON, passed_to="Senior engineers")
    yield "taken-over", replace(base, previous=team.label, team_label="Senior engineers")


def _escalation_cases(profile_name: str, profile: ProcessProfile, tickets: list[Ticket]) -> list[Case]:
    cases = []
    for ticket in (tickets[0], tickets[2]):  # one with everything, one bare
        for name, escalation in _escalations(profile, ticket):
            cases.append(Case(f"{profile_name}/escalation/{ticket.id}-{name}",
                              escalation_card(escalation, tz=TZ, now=NOW), ticket, "escalation"))
        escalation = next(e for _, e in _escalations(profile, ticket))
        cases.append(Case(f"{profile_name}/escalation/{ticket.id}-notice", escalation_card(
            escalation, tz=TZ, now=NOW, notice="Trần Thị Lan has already acknowledged it."), ticket, "escalation"))
        cases.append(Case(f"{profile_name}/escalation/{ticket.id}-summary",
                          escalation_summary_card([escalation, escalation], tz=TZ, now=NOW), ticket, "summary"))
    return cases


def _time_cases(ticket: Ticket) -> list[Case]:
    """Time spent: more lines than a ticket's card shows, people's text that looks like markup, a line on a project
    only, a day Odoo's answer did not say."""
    lines = [TimeLine(None if i == 3 else NOW.date() - timedelta(days=i % 6), AGENT.name, timedelta(minutes=15 * i + 5),
                      DESCRIPTIONS[ClassOfService.EXPEDITE][:60 + i], None if i == 2 else ticket.id,
                      "Support" if i == 2 else ticket.title) for i in range(SHOWN + 5)]
    return [Case("time/ticket", ticket_time_card(ticket, lines, headline="Logged 1h30m in your timesheet."), ticket,
                 "time"),
            Case("time/ticket-empty", ticket_time_card(ticket, []), ticket, "time"),
            Case("time/mine", own_time_card("Your time this week (Mon 27 Jan to Wed 29 Jan)", lines), kind="time"),
            Case("time/mine-empty", own_time_card("Your time today (Wed 29 Jan)", []), kind="time")]


def _commands() -> list[Any]:
    return list(build_router().commands.values())


def _build_cases() -> list[Case]:
    cases: list[Case] = []
    for profile_name in PROFILES:
        profile = load_profile(profile_name)
        rows: list[tuple[Ticket, NextStep | None]] = []
        for name, ticket in _tickets(profile):
            step = next_step(ticket, profile, NOW)
            rows.append((ticket, step))
            cases.append(Case(f"{profile_name}/ticket/{name}", ticket_card(ticket, profile, tz=TZ, now=NOW, step=step),
                              ticket, "ticket"))
        first = rows[0][0]
        cases.append(Case(f"{profile_name}/ticket/with-headline", ticket_card(
            first, profile, tz=TZ, now=NOW, step=NextStep("Send the customer an update", NOW - timedelta(minutes=5)),
            headline=f"Logged {first.label} as {profile.classes[first.cos].label}. Đã ghi nhận."), first, "ticket"))
        cases.append(Case(f"{profile_name}/ticket/no-step", ticket_card(first, profile, tz=TZ, now=NOW, step=None),
                          first, "ticket"))
        cases.append(Case(f"{profile_name}/list/all", ticket_list_card(
            f"Open tickets ({len(rows)})", rows, profile, tz=TZ, now=NOW), kind="list"))
        cases.append(Case(f"{profile_name}/list/one", ticket_list_card(
            "Overdue (1)", rows[:1], profile, tz=TZ, now=NOW), kind="list"))
        cases.append(Case(f"{profile_name}/list/empty", ticket_list_card(
            "Mine (0)", [], profile, tz=TZ, now=NOW), kind="list"))
        cases.append(Case(f"{profile_name}/form/new", new_ticket_form(profile), kind="form"))
        for name, ticket in list(_tickets(profile))[:4]:
            cases.append(Case(f"{profile_name}/nag/{name}", nag_card(
                ticket, profile, reason=f"The customer of {ticket.label} is due an update (reminder 2).", tz=TZ,
                now=NOW, step=next_step(ticket, profile, NOW)), ticket, "nag"))
        cases.append(Case(f"{profile_name}/nag/take-it", nag_card(
            first, profile, reason=f"{first.label} came in 20 min ago and is not logged yet.", tz=TZ, now=NOW,
            step=next_step(first, profile, NOW), take_it=True), first, "take-it"))
        cases += _escalation_cases(profile_name, profile, [ticket for _, ticket in _tickets(profile)])
        for index, (message, hint, reference) in enumerate(_problem_messages(profile)):
            cases.append(Case(f"{profile_name}/problem/{index}", problem_card(message, hint=hint, reference=reference),
                              kind="problem"))
    cases += _time_cases(next(ticket for _, ticket in _tickets(load_profile("odoo-ps"))))
    commands = _commands()
    cases.append(Case("help/all", help_card([(c.usage, c.summary) for c in commands]), kind="help"))
    for command in commands:
        cases.append(Case(f"help/{command.name}", command_help_card(command.usage, command.doc), kind="help"))
    return cases


CASES = _build_cases()
BY_NAME = {case.name: case for case in CASES}


@pytest.fixture(scope="module")
def problems() -> dict[str, list[str]]:
    """What the library says about every card, from one Node run."""
    return dict(zip(BY_NAME, validate_cards([case.card for case in CASES]), strict=True))




def _texts(card: dict[str, Any]) -> list[str]:
    return [e["text"] for e in card_elements(card) if e["type"] == "TextBlock"]


@pytest.mark.parametrize("name", list(BY_NAME))
def test_library_finds_no_problem(name: str, problems: dict[str, list[str]]) -> None:
    assert problems[name] == []


@pytest.mark.parametrize("name", list(BY_NAME))
def test_card_is_1_5_and_every_text_block_wraps(name: str) -> None:
    card = BY_NAME[name].card
    assert card["type"] == "AdaptiveCard"
    assert card["version"] == "1.5"
    blocks = [e for e in card_elements(card) if e["type"] == "TextBlock"]
    assert blocks
    assert all(block["wrap"] is True for block in blocks), [b["text"][:40] for b in blocks if b.get("wrap") is not True]


def test_the_data_covers_what_it_claims() -> None:
    tickets = [case.ticket for case in CASES if case.kind == "ticket" and case.ticket is not None]
    texts = [text for case in CASES if case.kind == "ticket" for text in _texts(case.card)]
    assert {t.cos for t in tickets} == set(ClassOfService)
    assert {t.stage_key for t in tickets} == {*Stage, None}
    assert any(text.startswith("Overdue: ") for text in texts)
    assert any(text.startswith("Next: ") for text in texts)
    assert any(t.owner is None and t.customer is None and not t.description and not t.url for t in tickets)
    assert any(len(t.description) > 400 for t in tickets)  # the excerpt is cut
    assert any(t.facts.deadline is not None for t in tickets)
    assert {name.split("/")[0] for name in BY_NAME} >= set(PROFILES)


@pytest.mark.parametrize("name", [case.name for case in CASES if case.kind == "ticket"])
def test_ticket_card_opens_the_ticket_in_odoo(name: str) -> None:
    case = BY_NAME[name]
    assert case.ticket is not None
    if case.ticket.url:
        assert case.card["actions"] == [{"type": "Action.OpenUrl", "title": "Open in Odoo", "url": case.ticket.url}]
    else:
        assert "actions" not in case.card
    assert _texts(case.card)[0].startswith(case.ticket.label)


@pytest.mark.parametrize("name", [case.name for case in CASES if case.kind == "nag"])
def test_a_nag_offers_update_snooze_and_odoo(name: str) -> None:
    case = BY_NAME[name]
    assert case.ticket is not None
    titles = [a["title"] for a in case.card["actions"]]
    assert titles[:2] == ["Post update", "Snooze 15 min"]
    assert _texts(case.card)[0].startswith("The customer of")
    update_form = case.card["actions"][0]["card"]
    assert update_form["actions"][0]["data"] == {"command": "update", "ticket": str(case.ticket.id)}
    assert case.card["actions"][1]["data"] == {"command": "snooze", "ticket": str(case.ticket.id), "text": "15m"}


def test_list_rows_open_their_ticket() -> None:
    card = BY_NAME["mindx/list/all"].card
    rows = [e for e in card["body"] if e["type"] == "Container"]
    tickets = [case.ticket for case in CASES if case.name.startswith("mindx/ticket/") and case.ticket is not None]
    listed = tickets[: len(rows)]
    assert len(rows) == len(listed) > 0
    for row, ticket in zip(rows, listed, strict=True):
        if ticket.url:
            assert row["selectAction"] == {"type": "Action.OpenUrl", "title": "Open", "url": ticket.url}
        else:
            assert "selectAction" not in row
        assert ticket.label in row["items"][0]["text"]


def test_a_tickets_time_shows_the_newest_lines_and_counts_them_all() -> None:
    texts = _texts(BY_NAME["time/ticket"].card)
    assert texts[2] == f"Total: 77h5m ({SHOWN + 5} lines)"  # 5 + 20 + ... + 365 minutes
    assert texts[-1] == "5 earlier lines are in Odoo."
    assert "?" in texts[3 + 2 * 3]  # the line whose day Odoo did not say
    assert "No time logged on this ticket yet." in _texts(BY_NAME["time/ticket-empty"].card)
    assert _texts(BY_NAME["time/mine"].card)[3].endswith(" · Support")  # time on the project, not a ticket


def test_empty_list_says_so() -> None:
    assert "No tickets." in _texts(BY_NAME["mindx/list/empty"].card)


@pytest.mark.parametrize("profile_name", PROFILES)
def test_new_ticket_form_inputs_reach_the_new_command(profile_name: str) -> None:
    card = BY_NAME[f"{profile_name}/form/new"].card
    ids = [e["id"] for e in card_elements(card) if e["type"].startswith("Input.")]
    assert len(ids) == len(set(ids))
    new = next(c for c in _commands() if c.name == "new")
    # Title and description are the command's words and body; the other inputs are its options.
    assert set(ids) - {"title", "description"} <= new.options
    assert {"title", "description"} <= set(ids)
    [action] = card["actions"]
    assert action["type"] == "Action.Submit" and action["data"] == {"command": "new"}
    for element in card_elements(card):
        if element["type"].startswith("Input."):
            assert element["label"]


def test_help_lists_every_command() -> None:
    texts = _texts(BY_NAME["help/all"].card)
    assert all(f"`{command.usage}`" in texts for command in _commands())


def test_validator_catches_broken_cards() -> None:
    good = BY_NAME["mindx/ticket/standard-full-overdue"].card
    misspelt = copy.deepcopy(good)
    misspelt["body"][0]["type"] = "TextBlok"
    bad_fact_set = copy.deepcopy(good)
    next(e for e in bad_fact_set["body"] if e["type"] == "FactSet")["spacing"] = "Huge"
    too_new = copy.deepcopy(good)
    too_new["body"].append({"type": "Icon", "name": "Calendar"})  # schema 1.6: not in Teams
    duplicate = copy.deepcopy(BY_NAME["mindx/form/new"].card)
    duplicate["body"][3]["id"] = "title"

    found = validate_cards([good, misspelt, bad_fact_set, too_new, duplicate])

    assert found[0] == []
    assert len(found[1]) == 1 and 'Unknown element type "TextBlok"' in found[1][0]
    assert len(found[2]) == 1 and "FactSet" in found[2][0] and '"Huge"' in found[2][0]
    assert len(found[3]) == 1 and 'Unknown element type "Icon"' in found[3][0]
    assert len(found[4]) == 1 and 'Duplicate Id "title"' in found[4][0]


def test_missing_node_modules_says_how_to_install(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    monkeypatch.setattr(card_validator, "CARDS_DIR", tmp_path)
    with pytest.raises(CardValidatorUnavailable, match="make test"):
        validate_cards([{"type": "AdaptiveCard", "version": "1.5", "body": [], "id": str(tmp_path)}])


@pytest.mark.parametrize("name", [case.name for case in CASES if case.kind == "escalation"])
def test_an_escalation_card_answers_in_place(name: str) -> None:
    card = BY_NAME[name].card
    escalation_id = f"{BY_NAME[name].ticket.id}-1"  # type: ignore[union-attr]
    assert card["refresh"]["action"] == {"type": "Action.Execute", "verb": "escalation.refresh",
                                         "data": {"escalation": escalation_id}}
    executes = [e for e in card_elements(card) if e["type"] == "Action.Execute" and e is not card["refresh"]["action"]]
    for action in executes:  # each answer works on clients without Universal Actions too
        assert action["data"] == {"escalation": escalation_id}
        assert action["fallback"] == {"type": "Action.Submit", "title": action["title"],
                                      "data": {"escalation": escalation_id, "verb": action["verb"]}}
    titles = [a["title"] for a in card.get("actions", [])]
    finished = name.endswith(("resolved", "declined", "passed-on"))
    assert ("Acknowledge" in titles) == name.endswith(("open", "open-overdue", "need-info", "taken-over", "notice"))
    assert ("Resolved" in titles) != finished
    for showcard in (a for a in card.get("actions", []) if a["type"] == "Action.ShowCard"):
        [box] = [e for e in card_elements(showcard["card"]) if e["type"] == "Input.Text"]
        assert box["id"] in TEXT_INPUT.values() and box.get("isRequired") is True
