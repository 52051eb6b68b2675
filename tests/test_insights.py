"""Step 7: trends and post-mortems.

The pure parts (findings, timeline, service levels, trends, post-mortem, charts) on hand-made ticket
histories; the cards checked by Microsoft's adaptivecards library; and both commands through the
real bot against the Odoo double (scenario 3's and scenario 6's post-mortems, a week's trend).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.i18n import speaking, tr
from bot.insights.findings import error_texts, normalized, root_cause
from bot.insights.model import ChatterEntry, TicketHistory
from bot.insights.postmortem import build_postmortem, postmortem_markdown, stamps
from bot.insights.service_levels import Measure, checks, rounded
from bot.insights.timeline import EventKind, escalated_teams, escalations, events, longest_silence, milestones
from bot.insights.trends import KB_CANDIDATE, analyse, spread, trend_period
from bot.odoo.models import HELPDESK_MGMT
from bot.process import ClassOfService, Stage, load_profile
from bot.tickets import Customer, OdooUser, Ticket, TicketFacts
from bot.wording import day
from cards.insights import postmortem_card, trend_card
from tests.conftest import LEAD, START, FakeClock, RunningSandbox
from tests.support.card_validator import validate_cards
from tests.support.markdown import constructs, mobile_constructs, visible
from tests.support.odoo_view import OdooView
from tests.support.teams import TeamsClient, TeamsUser, card_elements, card_text

PROFILE = load_profile("mindx")
TZ = ZoneInfo("Asia/Ho_Chi_Minh")
T0 = datetime(2025, 1, 29, 8, 33, tzinfo=UTC)  # 15:33 in Vietnam
AGENT_NAME = "Phạm Quốc Huy"
TEAMS_MESSAGE_LIMIT = 28_000  # bytes: Teams refuses bigger bot messages


# ---- hand-made histories ---------------------------------------------------------------------------

def make_ticket(ticket_id: int = 5, cos: ClassOfService = ClassOfService.EXPEDITE, *, users: int | None = 53,
                stage: Stage = Stage.DONE, created: datetime = T0, reported: datetime | None = None,
                deadline: datetime | None = None, category: str = "", kind: str = "bug",
                tags: tuple[str, ...] = (), description: str = "", title: str = "Submission system down") -> Ticket:
    return Ticket(
        id=ticket_id, number=f"HT{ticket_id:05d}", title=title, description=description,
        stage=PROFILE.stages[stage], stage_key=stage, priority=PROFILE.classes[cos].priority, cos=cos,
        priority_label=HELPDESK_MGMT.priority_label(PROFILE.classes[cos].priority), created=created, updated=created,
        facts=TicketFacts(users=users, deadline=deadline, reported=reported or created, kind=kind,
                          logged_by=AGENT_NAME),
        owner=OdooUser(7, AGENT_NAME), customer=Customer(58, "Coordinator Hà"),
        tags=(PROFILE.classes[cos].tag, *tags), category=category,
        closed=stage in (Stage.DONE, Stage.CANCELLED), url=f"https://odoo.example/web#id={ticket_id}")


def note(minutes: float, text: str, *, by: str = AGENT_NAME, start: datetime = T0) -> ChatterEntry:
    return ChatterEntry(start + timedelta(minutes=minutes), by, True, False, text)


def to_customer(minutes: float, text: str, *, by: str = AGENT_NAME, start: datetime = T0) -> ChatterEntry:
    return ChatterEntry(start + timedelta(minutes=minutes), by, True, True, text)


def from_customer(minutes: float, text: str, *, start: datetime = T0) -> ChatterEntry:
    return ChatterEntry(start + timedelta(minutes=minutes), "Coordinator Hà", False, True, text)


def resolution(minutes: float, text: str, *, start: datetime = T0) -> ChatterEntry:
    return to_customer(minutes, f"{text}\n\nCould you please confirm that everything works for you now?",
                       start=start)


EXPEDITE_CHATTER = (
    to_customer(4, "We are on it; the dev team is alerted."),
    note(8, "Diagnosis:\nSubmission API returns 500; NullPointerException in ExamSubmitHandler.\n"
            "Root cause: deploy 2.14.3 broke ExamSubmitHandler."),
    note(10, "Escalated to the Dev team: Final exams in progress: 53 students cannot submit."),
    note(12, "Võ Minh Đức (Dev team) acknowledged the escalation of HT00005.", by="Võ Minh Đức"),
    note(13, "Reminders snoozed for 15m."),
    resolution(50, "Submission service restarted with the fixed build."),
    note(55, "Customer confirmed the resolution. \u201cAll three classes submitted\u201d"),
)


def expedite_history(**changes: Any) -> TicketHistory:
    return TicketHistory(make_ticket(**changes), T0 + timedelta(minutes=55), EXPEDITE_CHATTER)


# ---- findings ---------------------------------------------------------------------------------------

@pytest.mark.parametrize(("notes", "expected"), [
    (["Account active; 3 failed attempts in 10 min. Root cause: password."], "password"),
    (["Root cause identified: 403 Forbidden (signed URL expired)\nEscalating"], "403 Forbidden (signed URL expired)"),
    (["root cause - v2.14.3 broke the handler. Next: rollback"], "v2.14.3 broke the handler"),
    (["Root cause: first guess", "Root Cause: the real one."], "the real one"),
    (["Checked the logs, nothing yet"], ""),
])
def test_root_cause_is_read_from_the_notes(notes: list[str], expected: str) -> None:
    assert root_cause(notes) == expected


def test_error_texts_are_exception_names_http_errors_and_quoted_messages() -> None:
    found = error_texts('Submission API returns 500; NullPointerException since 2.14.3; users see '
                        '"System error - please contact administrator". CDN: 403 Forbidden, 25 users, Error.')
    assert found == {"http 500": "HTTP 500", "nullpointerexception": "NullPointerException",
                     "system error - please contact administrator": "System error - please contact administrator",
                     "http 403": "HTTP 403"}
    assert error_texts("GET /api/video -> 404; SlowQueryWarning 28-32s") == {
        "http 404": "HTTP 404", "slowquerywarning": "SlowQueryWarning"}
    assert error_texts("Nothing broken, 500 students happy") == {}


def test_texts_compare_without_case_spacing_or_final_dot() -> None:
    assert normalized("  Expired   signed URL. ") == normalized("expired signed url") == "expired signed url"


# ---- timeline and service levels ---------------------------------------------------------------------

def test_the_chatter_becomes_a_timeline_in_order() -> None:
    timeline = events(expedite_history())
    assert [e.kind for e in timeline] == [
        EventKind.LOGGED, EventKind.ACKNOWLEDGED, EventKind.DIAGNOSIS, EventKind.ESCALATED,
        EventKind.ESCALATION_ANSWER, EventKind.SNOOZED, EventKind.RESOLVED, EventKind.CONFIRMED]
    assert timeline[2].text.startswith("Submission API returns 500")  # without the "Diagnosis:" heading
    assert timeline[6].text == "Submission service restarted with the fixed build."  # without the question
    assert timeline[4].who == "Võ Minh Đức"


def test_milestones_of_a_confirmed_ticket() -> None:
    history = expedite_history()
    moments = milestones(history, events(history))
    assert moments.to_acknowledge == timedelta(minutes=4)
    assert moments.to_resolve == timedelta(minutes=50)
    assert moments.closed == T0 + timedelta(minutes=55) and moments.confirmed


def test_a_report_older_than_the_ticket_opens_the_timeline_and_is_measured() -> None:
    history = expedite_history(reported=T0 - timedelta(minutes=25))
    timeline = events(history)
    assert [e.kind for e in timeline[:2]] == [EventKind.REPORTED, EventKind.LOGGED]
    moments = milestones(history, timeline)
    assert moments.to_resolve == timedelta(minutes=75)  # from the report
    [reception] = [c for c in checks(history, timeline, moments, PROFILE, T0) if c.measure is Measure.RECEPTION]
    assert not reception.met and reception.text == "Logged in Odoo 25m after the report (target 15m)"


def test_expedite_checks_against_the_profile() -> None:
    history = expedite_history()
    timeline = events(history)
    found = {c.measure: c for c in checks(history, timeline, milestones(history, timeline), PROFILE, T0)}
    assert found[Measure.ACKNOWLEDGMENT].met
    assert found[Measure.ACKNOWLEDGMENT].text == "Acknowledged 4m after it was logged (target 30m)"
    assert not found[Measure.UPDATES].met
    assert found[Measure.UPDATES].text == "The customer went 46m without an update (Expedite: every 15m)"
    assert found[Measure.ESCALATION].met
    assert "Dev team answered the escalation 2m after it was sent" in found[Measure.ESCALATION].text
    assert Measure.RECEPTION not in found and Measure.DEADLINE not in found


def test_a_reply_typed_in_odoo_acknowledges_but_the_bots_automatic_message_does_not() -> None:
    chatter = (to_customer(5, "Your request is due tomorrow 09:00.", by="Support bot"),
               to_customer(40, "Hello, we are looking into it.", by="Đỗ Doãn Tiến"))
    history = TicketHistory(make_ticket(stage=Stage.IN_PROGRESS, cos=ClassOfService.STANDARD, users=1), None, chatter)
    timeline = events(history)
    assert [e.kind for e in timeline] == [EventKind.LOGGED, EventKind.CUSTOMER_UPDATE, EventKind.ACKNOWLEDGED]
    moments = milestones(history, timeline)
    assert moments.to_acknowledge == timedelta(minutes=40)
    [ack] = [c for c in checks(history, timeline, moments, PROFILE, T0 + timedelta(hours=1))
             if c.measure is Measure.ACKNOWLEDGMENT]
    assert not ack.met


def test_an_unacknowledged_ticket_is_late_only_once_the_target_has_passed() -> None:
    history = TicketHistory(make_ticket(stage=Stage.NEW), None, (from_customer(3, "Any news?"),))
    timeline = events(history)
    moments = milestones(history, timeline)
    assert checks(history, timeline, moments, PROFILE, T0 + timedelta(minutes=20)) == []
    [late] = checks(history, timeline, moments, PROFILE, T0 + timedelta(minutes=45))
    assert not late.met and late.text == "Not acknowledged yet, 45m after it was logged (target 30m)"


def test_time_on_hold_does_not_count_as_silence() -> None:
    chatter = (to_customer(0, "Acknowledged"), note(10, "On hold: waiting for the vendor"),
               note(100, "Resumed (was On Hold)."), to_customer(110, "Vendor answered"),
               resolution(120, "Fixed"))
    timeline = events(TicketHistory(make_ticket(cos=ClassOfService.PRIORITY, stage=Stage.RESOLVED), None, chatter))
    assert longest_silence(timeline, T0, T0 + timedelta(minutes=120)) == timedelta(minutes=10)
    still_on_hold = longest_silence(timeline, T0, T0 + timedelta(minutes=90))
    assert still_on_hold == timedelta(minutes=10)


def test_resolution_falls_back_to_the_close_date_and_a_reopened_ticket_is_not_resolved() -> None:
    closed_in_odoo = TicketHistory(make_ticket(), T0 + timedelta(hours=2), (to_customer(3, "On it"),))
    timeline = events(closed_in_odoo)
    assert timeline[-1].kind is EventKind.CLOSED and timeline[-1].text == "in Odoo (Done)"
    assert milestones(closed_in_odoo, timeline).to_resolve == timedelta(hours=2)
    reopened = TicketHistory(make_ticket(stage=Stage.IN_PROGRESS), None,
                             (to_customer(3, "On it"), resolution(30, "Fixed"), note(60, "Reopened: it is back")))
    assert milestones(reopened, events(reopened)).resolved is None


def test_escalations_pair_each_team_with_its_first_answer() -> None:
    timeline = events(TicketHistory(make_ticket(), None, (
        note(1, "Escalated to the DevOps team, Content Ops team: 12 students cannot watch lesson 3"),
        note(3, "Võ Minh Đức (DevOps team) acknowledged the escalation of HT00005."),
        note(9, "Lan (Content Ops team) needs more information on the escalation of HT00005: which lesson?"),
    )))
    found = {r.team: r for r in escalations(timeline)}
    assert found["DevOps team"].answered_at == T0 + timedelta(minutes=3)
    assert found["Content Ops team"].answer == "needs more information on"
    assert escalated_teams("to the Dev team.") == ["Dev team"]


def test_fixed_deadline_met_or_missed() -> None:
    deadline = T0 + timedelta(hours=15)
    delivered = TicketHistory(make_ticket(cos=ClassOfService.FIXED_DEADLINE, users=1, deadline=deadline), None,
                              (to_customer(7, "Which period?"), resolution(14 * 60, "Report delivered")))
    timeline = events(delivered)
    [met] = [c for c in checks(delivered, timeline, milestones(delivered, timeline), PROFILE, T0)
             if c.measure is Measure.DEADLINE]
    assert met.met and met.text == "Delivered 1h before the deadline"
    late = TicketHistory(make_ticket(cos=ClassOfService.FIXED_DEADLINE, users=1, deadline=deadline,
                                     stage=Stage.IN_PROGRESS), None, (to_customer(7, "Which period?"),))
    timeline = events(late)
    [missed] = [c for c in checks(late, timeline, milestones(late, timeline), PROFILE, deadline + timedelta(hours=2))
                if c.measure is Measure.DEADLINE]
    assert not missed.met and missed.text == "The deadline passed 2h ago without a resolution"


def test_a_cancelled_ticket_is_not_measured() -> None:
    history = TicketHistory(make_ticket(stage=Stage.CANCELLED), T0 + timedelta(hours=3), ())
    timeline = events(history)
    assert checks(history, timeline, milestones(history, timeline), PROFILE, T0 + timedelta(days=1)) == []
    assert milestones(history, timeline).resolved is None


def test_durations_are_rounded_to_the_minute() -> None:
    assert rounded(timedelta(minutes=4, seconds=31)) == "5m"
    assert rounded(timedelta(seconds=42)) == "42s"
    assert rounded(timedelta(hours=25)) == "1d1h"


# ---- post-mortem -------------------------------------------------------------------------------------

def test_the_postmortem_of_an_expedite_incident() -> None:
    review = build_postmortem(expedite_history(), PROFILE, now=T0 + timedelta(hours=1))
    assert review.impact == "53 users affected · Expedite"
    assert review.root_cause == "deploy 2.14.3 broke ExamSubmitHandler"
    assert "Acknowledged 4m after it was logged (target 30m)" in review.went_well
    assert "The customer confirmed the fix before the ticket was closed" in review.went_well
    assert review.to_improve == ("The customer went 46m without an update (Expedite: every 15m)",)
    assert review.action_items[0].startswith("Agree who keeps the customer updated")
    assert "Prevent a recurrence of: deploy 2.14.3 broke ExamSubmitHandler" in review.action_items
    assert not review.draft


def test_the_postmortem_as_markdown() -> None:
    review = build_postmortem(expedite_history(), PROFILE, now=T0 + timedelta(hours=1))
    markdown = postmortem_markdown(review, tz=TZ)
    lines = markdown.splitlines()
    assert lines[0] == "# Post-mortem: HT00005 · Submission system down"
    assert "- Class of service: Expedite (Urgent priority)" in lines and "- Users affected: 53" in lines
    assert "53 users affected · Expedite. Reported Wed 29 Jan 15:33; resolved 16:23, 50m after the report." in lines
    timeline = lines[lines.index("## Timeline (Asia/Ho_Chi_Minh)") + 1:lines.index("## Root cause")]
    assert [line.split(" · ")[1].split(" (")[0] for line in timeline if line] == [
        "Logged in Odoo", "Acknowledged", "Diagnosis", "Escalated", "Escalation answered", "Reminders snoozed",
        "Resolved", "Confirmed"]
    assert timeline[0].startswith("- Wed 29 Jan 15:33 · ") and timeline[1].startswith("- 15:37 · ")
    assert "  Root cause: deploy 2.14.3 broke ExamSubmitHandler." in lines  # the note's later lines, indented
    assert lines[-1] == "- [ ] ___ (owner: ___, due: ___)"


def test_a_postmortem_of_an_open_ticket_is_a_draft_and_says_what_is_missing() -> None:
    history = TicketHistory(make_ticket(stage=Stage.IN_PROGRESS, users=None), None, (
        note(2, "Reminders snoozed for 15m."), note(20, "Reminders snoozed for 15m.")))
    review = build_postmortem(history, PROFILE, now=T0 + timedelta(hours=1))
    assert review.draft and review.impact == "Users affected not recorded · Expedite"
    assert review.to_improve == ("Not acknowledged yet, 1h after it was logged (target 30m)",
                                 "No root cause recorded in the diagnosis notes", "Reminders were snoozed 2 times")
    markdown = postmortem_markdown(review, tz=TZ)
    assert "Draft: the ticket is still open (In Progress)." in markdown and "not resolved yet" in markdown
    assert "Record the root cause (`/ticket diag 5 Root cause: ...`)" in markdown


def test_a_postmortem_leaves_earlier_postmortems_out_of_the_timeline() -> None:
    chatter = (*EXPEDITE_CHATTER, note(70, "# Post-mortem: HT00005 · Submission system down\n..."))
    review = build_postmortem(TicketHistory(make_ticket(), T0, chatter), PROFILE, now=T0 + timedelta(hours=2))
    assert all(not e.text.startswith("# Post-mortem") for e in review.timeline)


def test_stamps_show_the_date_once_a_day() -> None:
    moments = [T0, T0 + timedelta(minutes=5), T0 + timedelta(hours=20)]
    assert stamps(moments, TZ) == ["Wed 29 Jan 15:33", "15:38", "Thu 30 Jan 11:33"]


# ---- trends ------------------------------------------------------------------------------------------

def test_median_and_p90() -> None:
    minutes = [timedelta(minutes=m) for m in range(1, 11)]
    assert spread(minutes) == spread(list(reversed(minutes)))
    found = spread(minutes)
    assert (found.count, found.median, found.p90) == (10, timedelta(minutes=5, seconds=30), timedelta(minutes=9))
    assert spread([timedelta(minutes=3)]).p90 == timedelta(minutes=3)
    assert spread([]).median is None


def login_ticket(ticket_id: int, minutes_later: int, ack_after: int, cause: str = "expired password") -> TicketHistory:
    start = T0 + timedelta(minutes=minutes_later)
    ticket = make_ticket(ticket_id, ClassOfService.STANDARD, users=1, created=start, category="Login",
                         kind="incident", tags=("lms",), title="Cannot log in",
                         description='Teacher gets "Invalid username or password"')
    chatter = (to_customer(ack_after, "On it", start=start),
               note(ack_after + 2, f"Diagnosis:\nAccount active. Root cause: {cause}.", start=start),
               resolution(ack_after + 10, "Password reset", start=start),
               note(ack_after + 12, "Customer confirmed the resolution.", start=start))
    return TicketHistory(ticket, start + timedelta(minutes=ack_after + 12), chatter)


def a_week() -> list[TicketHistory]:
    duplicate = TicketHistory(make_ticket(9, ClassOfService.PRIORITY, users=5, stage=Stage.CANCELLED,
                                          created=T0 + timedelta(hours=3), category="Login"), None, ())
    return [expedite_history(), login_ticket(6, 60, 5), login_ticket(7, 24 * 60, 45),
            login_ticket(8, 48 * 60, 10, cause="Expired password"), duplicate]


def test_a_weeks_trend() -> None:
    now = T0 + timedelta(days=3)
    trend = analyse(a_week(), PROFILE, trend_period("week", now), now=now, tz=TZ)
    assert (trend.logged, trend.still_open, trend.cancelled) == (4, 0, 1)
    assert trend.by_class == (("Standard", 3), ("Expedite", 1))
    assert trend.by_category == (("Login", 3), ("none", 1))
    assert trend.by_type == (("incident", 3), ("bug", 1))
    assert trend.by_tag == (("lms", 3),)  # the class tags are counted as classes
    assert trend.by_root_cause == (("expired password", 3), ("deploy 2.14.3 broke ExamSubmitHandler", 1))
    standard = next(t for t in trend.times if t.cos is ClassOfService.STANDARD)
    assert (standard.acknowledge.median, standard.acknowledge.p90) == (timedelta(minutes=10), timedelta(minutes=45))
    assert standard.resolve.median == timedelta(minutes=20)
    assert [(b.ticket, b.measure) for b in trend.breaches] == [
        ("HT00005", Measure.UPDATES), ("HT00007", Measure.ACKNOWLEDGMENT)]
    assert [(p.kind, p.text, p.tickets) for p in trend.kb_candidates] == [
        ("category", "Login", ("HT00006", "HT00007", "HT00008")),
        ("error", "Invalid username or password", ("HT00006", "HT00007", "HT00008")),
        ("root cause", "expired password", ("HT00006", "HT00007", "HT00008"))]
    assert all(len(p.tickets) >= KB_CANDIDATE for p in trend.kb_candidates)
    assert len(trend.per_day) == 8 and sum(sum(counts) for _, counts in trend.per_day) == 4


def test_a_pattern_needs_two_tickets() -> None:
    now = T0 + timedelta(days=1)
    trend = analyse([expedite_history(), login_ticket(6, 60, 5)], PROFILE, trend_period("week", now), now=now, tz=TZ)
    assert trend.patterns == ()


def test_tickets_outside_the_period_are_left_out() -> None:
    now = T0 + timedelta(days=9)
    trend = analyse(a_week(), PROFILE, trend_period("week", now), now=now, tz=TZ)
    assert trend.logged == 1  # only HT00008, logged two days after the others
    assert trend_period("month", now).label == "last 30 days"


# ---- cards -------------------------------------------------------------------------------------------

def _card_cases() -> Iterator[tuple[str, dict[str, Any]]]:
    now = T0 + timedelta(days=3)
    week = analyse(a_week(), PROFILE, trend_period("week", now), now=now, tz=TZ)
    yield "trend/week", trend_card(week, tz=TZ)
    yield "trend/capped", trend_card(replace(week, capped=True), tz=TZ)
    empty = analyse([], PROFILE, trend_period("month", now), now=now, tz=TZ)
    yield "trend/empty", trend_card(empty, tz=TZ)
    for name, history in [("expedite", expedite_history()),
                          ("draft", TicketHistory(make_ticket(stage=Stage.NEW, users=None), None, ())),
                          ("long", TicketHistory(make_ticket(), None, tuple(
                              note(m, f"Diagnosis:\nCheck {m}: " + "log line " * 60) for m in range(80))))]:
        review = build_postmortem(history, PROFILE, now=now)
        yield f"postmortem/{name}", postmortem_card(review, postmortem_markdown(review, tz=TZ), tz=TZ)


CARDS = dict(_card_cases())


def test_the_library_finds_no_problem_in_any_insights_card() -> None:
    problems = validate_cards(list(CARDS.values()))
    assert {name: found for name, found in zip(CARDS, problems, strict=True) if found} == {}


@pytest.mark.parametrize("name", list(CARDS))
def test_each_card_fits_in_a_teams_message_and_wraps(name: str) -> None:
    card = CARDS[name]
    assert card["version"] == "1.5"
    assert len(json.dumps(card, ensure_ascii=False).encode()) < TEAMS_MESSAGE_LIMIT
    blocks = [e for e in card_elements(card) if e.get("type") == "TextBlock"]
    assert blocks and all(b["wrap"] is True for b in blocks)


def test_the_postmortem_card_offers_the_markdown_in_monospace() -> None:
    card = CARDS["postmortem/expedite"]
    [show] = [a for a in card["actions"] if a["type"] == "Action.ShowCard"]
    assert show["title"] == "Markdown"
    [block] = show["card"]["body"]
    assert block["fontType"] == "Monospace"
    # its source, as it is posted to Odoo: headings and lists read as typed, not rendered
    assert visible(block["text"]).startswith("# Post-mortem: HT00005 · ") and "- [ ] ___ (owner: ___" in visible(
        block["text"])
    assert constructs(block["text"], code_spans=True) == [] and mobile_constructs(block["text"]) == []
    long = CARDS["postmortem/long"]
    assert "more in the Markdown" in card_text(long)




# ---- through the bot ---------------------------------------------------------------------------------

DEVELOPER = TeamsUser("29:dev-duc", "Võ Minh Đức", "duc.vm@mindx.edu.vn")
DEV_CHANNEL = "19:dev@thread.tacv2"


async def test_scenario_3_postmortem(teams: TeamsClient, odoo: OdooView, sandbox: RunningSandbox,
                                     clock: FakeClock) -> None:
    await teams.card("/ticket new Student submission system down during final exams users:53 type:bug\n"
                     "WEB102-HN (20), DATA101-SG (18), MOBILE201-HN (15): \"System error - please contact "
                     "administrator\"")
    tid = odoo.newest_ticket()["id"]
    clock.advance(minutes=3)
    await teams.card(f"/ticket ack {tid} We are on it; the dev team is alerted. Next update in 15 minutes.")
    clock.advance(minutes=4)
    await teams.card(f"/ticket diag {tid} Submission API returns 500; NullPointerException in ExamSubmitHandler.\n"
                     "Root cause: deploy 2.14.3 broke ExamSubmitHandler.")
    await teams.say_in_channel("/ticket channel dev", DEV_CHANNEL, sender=LEAD)
    clock.advance(minutes=2)
    await teams.card(f"/ticket escalate {tid} dev 53 students cannot submit")
    [dev_card] = teams.connector.cards_in(DEV_CHANNEL)
    clock.advance(minutes=2)
    status, _ = await teams.invoke("escalation.ack", (dev_card.card or {})["refresh"]["action"]["data"],
                                   channel=DEV_CHANNEL, sender=DEVELOPER)
    assert status == 200
    clock.advance(minutes=10)
    await teams.card(f"/ticket update {tid} The dev team is rolling back 2.14.3.")
    clock.advance(minutes=30)
    await teams.card(f"/ticket resolve {tid} Rolled back to 2.14.2; verified in the three classes.")
    clock.advance(minutes=5)
    await teams.card(f"/ticket confirm {tid} All three classes submitted")

    sandbox.odoo.calls.clear()
    card = await teams.card(f"/ticket postmortem {tid}")
    assert sandbox.odoo.calls == {("helpdesk.ticket", "read"): 1, ("mail.message", "search_read"): 1,
                                  ("helpdesk.ticket", "message_post"): 1}
    shown = card_text(card)
    assert "53 users affected · Expedite" in shown
    assert "Root cause\ndeploy 2.14.3 broke ExamSubmitHandler" in shown
    assert "Acknowledged 3m after it was logged (target 30m)" in shown
    assert "The Dev team answered the escalation 2m after it was sent (Võ Minh Đức acknowledged it; target 5m)" \
        in shown
    assert "The customer went 30m without an update (Expedite: every 15m)" in shown
    kinds = [m.group(1) for m in re.finditer(r"^(?:Wed 29 Jan )?\d\d:\d\d: ([^(:]+) \(", shown, re.MULTILINE)]
    assert kinds == ["Logged in Odoo", "Acknowledged", "Diagnosis", "Escalated", "Escalation answered",
                     "Customer update", "Resolved", "Confirmed"]

    [posted] = [m for m in odoo.messages(tid, subtype="Note") if "# Post-mortem" in m["body"]]
    [show] = [a for a in card["actions"] if a["type"] == "Action.ShowCard"]
    markdown = visible(show["card"]["body"][0]["text"])  # as the reader sees it: the Markdown's source
    assert markdown.startswith(f"# Post-mortem: {odoo.ticket(tid)['number']} · Student submission system down")
    assert "&lt;" not in markdown and "- Users affected: 53" in markdown
    for line in ("## Timeline (Asia/Ho_Chi_Minh)", "- Users affected: 53", "## Action items"):
        assert line in posted["body"]
    assert AGENT_NAME in posted["body"]

    again = card_text(await teams.card(f"/ticket postmortem {tid}"))
    assert again.count("Resolved (") == 1 and "Note (" not in again  # the first post-mortem is not an event


async def test_scenario_6_postmortem_notes(teams: TeamsClient, odoo: OdooView, clock: FakeClock) -> None:
    clock.advance(hours=2, minutes=29)  # 18:02 local; due 09:00 the next morning
    await teams.card("/ticket new Enrollment report for the Director deadline:tomorrow@09:00 "
                     "users:1 customer:director@mindx.edu.vn type:request category:Reporting\n"
                     "Filter by location + program + period; breakdown by course.")
    tid = odoo.newest_ticket()["id"]
    clock.advance(minutes=7)
    await teams.card(f"/ticket ack {tid} To meet 09:00 we propose an MVP: which period, fields and format?")
    clock.advance(minutes=4)
    await teams.card(f"/ticket diag {tid} Query on enrollments is heavy (3 min). Root cause: request needs an "
                     "export the LMS does not have.")
    clock.advance(hours=3)
    await teams.card(f"/ticket update {tid} Data extracted; draft by 17:00.")
    clock.advance(hours=11)  # 08:13: delivered before 09:00
    await teams.card(f"/ticket resolve {tid} Final report delivered: Enrollment_Report_Final.xlsx")
    clock.advance(minutes=2)
    await teams.card(f"/ticket confirm {tid} No additional changes needed")
    shown = card_text(await teams.card(f"/ticket postmortem {tid}"))
    assert "1 user affected · Fixed Deadline" in shown
    assert "Delivered 47m before the deadline" in shown
    assert "Acknowledged 7m after it was logged (target 30m)" in shown
    assert "Thu 30 Jan 08:13: Resolved" in shown  # the day changed during the night
    assert "request needs an export the LMS does not have" in shown
    note_body = odoo.messages(tid, subtype="Note")[-1]["body"]
    assert "# Post-mortem" in note_body and "Customer update" in note_body and "Reporting" in note_body


async def test_postmortem_of_an_unknown_ticket(teams: TeamsClient) -> None:
    assert "There is no ticket #99999" in card_text(await teams.card("/ticket postmortem 99999"))


async def test_trend_of_a_week_through_the_bot(teams: TeamsClient, odoo: OdooView, sandbox: RunningSandbox,
                                               clock: FakeClock) -> None:
    # The sandbox starts with 4 open tickets of the scenarios, two of them "Video" ones reporting "Cannot load media".
    for n, ack_after in enumerate((5, 45, 10)):
        await teams.card(f"/ticket new LMS login fails for teacher {n} users:1 category:Login type:incident\n"
                         "Teacher gets \"Invalid username or password\"")
        tid = odoo.newest_ticket()["id"]
        clock.advance(minutes=ack_after)
        await teams.card(f"/ticket ack {tid}")
        await teams.card(f"/ticket diag {tid} Account active. Root cause: expired password.")
        await teams.card(f"/ticket resolve {tid} Password reset")
        clock.advance(hours=3)
    await teams.card("/ticket new Exam portal down users:40 type:bug")

    sandbox.odoo.calls.clear()
    card = await teams.card("/ticket trend week")
    assert sandbox.odoo.calls == {("helpdesk.ticket", "search_read"): 1, ("mail.message", "search_read"): 1}
    shown = card_text(card)
    assert "8 tickets logged, 8 still open." in shown
    assert "Class of service: Standard 4 · Priority 2 · Expedite 1 · Fixed Deadline 1" in shown
    assert "Category: Login 3 · Video 2 · Feature Request 1 · none 1 · Reporting 1" in shown
    assert "Root cause: not recorded 5 · expired password 3" in shown
    assert "- HT00006: Acknowledged 45m after it was logged (target 30m)" in shown
    candidates, others = shown.split("Knowledge-base candidates (seen 3 times or more)")[1].split(
        "Other recurring patterns")
    assert "Category \u201cLogin\u201d: 3 tickets" in candidates
    assert "Error \u201cInvalid username or password\u201d: 3 tickets" in candidates
    assert "Root cause \u201cexpired password\u201d: 3 tickets" in candidates
    assert "Category \u201cVideo\u201d: 2 tickets (HT00001, HT00002)" in others
    assert "Error \u201cCannot load media\u201d: 2 tickets (HT00001, HT00002)" in others
    # The charts Teams draws say the same as Odoo: the tickets logged each local day, by class.
    per_day, acknowledge = charts(card).values()
    assert (per_day["type"], per_day["stacked"], acknowledge["type"]) == ("Chart.VerticalBar.Grouped", True,
                                                                        "Chart.VerticalBar.Grouped")
    drawn = bars(per_day)
    assert list(drawn) == ["Standard (4)", "Priority (2)", "Expedite (1)", "Fixed Deadline (1)"]
    today = clock.now().astimezone(TZ).date()
    days = [day(today + timedelta(days=n)) for n in range(-7, 1)]
    assert all(list(counts) == days for counts in drawn.values())  # the same 8 days in each series, in order
    logged = Counter(day(created.astimezone(TZ).date()) for created in created_dates(odoo))
    assert {d: sum(counts[d] for counts in drawn.values()) for d in days} == {d: logged[d] for d in days}
    assert sum(logged.values()) == 8
    # Where they are not drawn: a row per day with tickets, the same counts.
    header, *rows = table_rows(per_day)
    assert header == ["Day", "Tickets"]
    assert [d for d, _ in rows] == [d for d in days if logged[d]]
    assert all(sum(int(n) for n in re.findall(r" (\d+)(?: ·|$)", counts)) == logged[d] for d, counts in rows)
    # Minutes to acknowledge: the three login tickets were acknowledged 5, 45 and 10 minutes after logging.
    assert bars(acknowledge)["median"]["Standard"] == 10 and bars(acknowledge)["p90"]["Standard"] == 45
    assert bars(acknowledge)["target"]["Standard"] == 30  # MindX: Standard acknowledged within 30 min
    assert ["Standard", "10", "45", "30"] in table_rows(acknowledge)
    assert table_rows(acknowledge)[0] == ["Class of service", "median", "p90", "target"]
    assert [e["type"] for e in card["body"]].count("Image") == 0  # no picture drawn any more
    assert validate_cards([card]) == [[]]


async def test_trend_of_a_month_and_a_wrong_period(teams: TeamsClient, clock: FakeClock) -> None:
    clock.advance(days=10)  # the seeded tickets are 10 days old: in the month, not in the week
    empty = await teams.card("/ticket trend")
    assert "No tickets were logged in the last 7 days." in card_text(empty)
    assert charts(empty, titles=()) == {} and validate_cards([empty]) == [[]]
    month = await teams.card("/ticket trend month")
    assert "4 tickets logged" in card_text(month)
    per_day = charts(month, titles=("Tickets logged per day",))["Tickets logged per day"]  # none acknowledged yet
    assert [len(counts) for counts in bars(per_day).values()] == [31] * len(per_day["data"])
    assert next(iter(bars(per_day).values())).keys() >= {"19 Jan", "29 Jan", "08 Feb"}  # a month's days, named short
    assert sum(sum(counts.values()) for counts in bars(per_day).values()) == 4
    assert validate_cards([month]) == [[]]
    refused = card_text(await teams.card("/ticket trend year"))
    assert "`week` or a `month`" in refused and "Usage: `/ticket trend [week|month]`" in refused


async def test_a_vietnamese_trend_has_its_charts_in_vietnamese(teams: TeamsClient, odoo: OdooView,
                                                              clock: FakeClock) -> None:
    teams.locale = "vi-VN"
    await teams.card("/ticket new Không thể đăng nhập vào LMS users:1 category:Login type:incident")
    tid = odoo.newest_ticket()["id"]
    clock.advance(minutes=12)
    await teams.card(f"/ticket ack {tid}")
    card = await teams.card("/ticket trend")
    assert vi("Trends: the {period}", period=vi("last {days} days", days=7)) in card_text(card)
    per_day, acknowledge = charts(card, titles=(vi("Tickets logged per day"), vi("Minutes to acknowledge"))).values()
    assert per_day["yAxisTitle"] == vi("Tickets") and acknowledge["yAxisTitle"] == vi("Minutes")
    today = START.astimezone(TZ).date()
    assert vi("{weekday} {day} {month}", weekday=vi("Wed"), day="29", month=vi("Jan")) == day_in_vietnamese(today)
    assert day_in_vietnamese(today) in bars(per_day)["Standard (2)"]
    assert list(bars(acknowledge)) == [vi("median"), "p90", vi("target")]
    assert bars(acknowledge)[vi("target")]["Standard"] == 30
    assert table_rows(per_day)[0] == [vi("Day"), vi("Tickets")]
    assert table_rows(acknowledge)[0] == [vi("Class of service"), vi("median"), "p90", vi("target")]
    assert "Tickets logged per day" not in json.dumps(card) and "Minutes to acknowledge" not in json.dumps(card)
    assert validate_cards([card]) == [[]]


async def test_a_week_of_hostile_tickets_still_draws_valid_charts(teams: TeamsClient, odoo: OdooView,
                                                                 clock: FakeClock) -> None:
    # Titles and error texts written to hurt a card (Markdown links, mentions, a long one); none is acknowledged.
    for title in ("[Reset your password](https://evil.example)", "x" * 199, "- 1. # > `code` <at>Test Bot</at>"):
        logged = card_text(await teams.card(f"/ticket new {title} users:1 category:Login type:incident\n"
                                            'Teacher gets "**[click](https://evil.example)**" \u202e'))
        assert "Logged as Standard." in logged, logged
        clock.advance(hours=2)
    card = await teams.card("/ticket trend week")
    assert "7 tickets logged" in card_text(card)
    found = charts(card, titles=("Tickets logged per day",))  # no acknowledgment yet: nothing to draw of it
    assert sum(sum(counts.values()) for counts in bars(found["Tickets logged per day"]).values()) == 7
    assert "https://evil.example" not in json.dumps(found, ensure_ascii=False)  # charts carry counts, not titles
    assert validate_cards([card]) == [[]]
    assert len(json.dumps(card, ensure_ascii=False).encode()) < TEAMS_MESSAGE_LIMIT


def test_a_thousand_tickets_a_month_still_fit_in_a_teams_message() -> None:
    """The most a trend reads (the handler's cap): every day of the month has tickets of every class."""
    now = T0 + timedelta(days=30)
    histories = [login_ticket(1000 + n, n * 43, 5 + n % 50) for n in range(1000)]
    classes = list(ClassOfService)
    histories = [replace(h, ticket=replace(h.ticket, cos=classes[n % 4], category=f"Category {n % 40}",
                                           tags=(PROFILE.classes[classes[n % 4]].tag,)))
                 for n, h in enumerate(histories)]
    trend = analyse(histories, PROFILE, trend_period("month", now), now=now, tz=TZ, capped=True)
    assert trend.logged > 900 and all(all(counts) for _, counts in trend.per_day[1:-1])
    card = trend_card(trend, tz=TZ)
    per_day = charts(card)["Tickets logged per day"]
    assert [len(s["values"]) for s in per_day["data"]] == [31] * 4
    assert re.search(r": \d{3,4} tickets \(HT\d+(, HT\d+){7}, … and \d+ more\)", card_text(card))  # not a 1000
    assert len(json.dumps(card, ensure_ascii=False).encode()) < TEAMS_MESSAGE_LIMIT
    assert validate_cards([card]) == [[]]


def test_an_empty_period_has_no_chart() -> None:
    now = T0 + timedelta(days=3)
    card = trend_card(analyse([], PROFILE, trend_period("week", now), now=now, tz=TZ), tz=TZ)
    assert charts(card, titles=()) == {}
    assert "No tickets were logged in the last 7 days." in card_text(card)


def charts(card: dict[str, Any], titles: tuple[str, ...] = ("Tickets logged per day", "Minutes to acknowledge")
           ) -> dict[str, dict[str, Any]]:
    """The card's charts by title (in this order), each under a heading of its title, with a table to fall back to
    for hosts that draw none."""
    body = card["body"]
    found = {e["title"]: e for e in body if e["type"].startswith("Chart.")}
    assert list(found) == list(titles)
    for chart in found.values():
        heading = body[body.index(chart) - 1]
        assert (heading["type"], heading["text"], chart["fallback"]["type"]) == ("TextBlock", chart["title"], "Table")
        assert "showTitle" not in chart  # the heading says it, in every host
    return found


def bars(chart: dict[str, Any]) -> dict[str, dict[str, float]]:
    """A grouped bar chart's series: legend -> {x: y}, in the chart's order."""
    return {s["legend"]: {v["x"]: v["y"] for v in s["values"]} for s in chart["data"]}


def table_rows(chart: dict[str, Any]) -> list[list[str]]:
    """The text of each row of a chart's fallback table, its header first."""
    table = chart["fallback"]
    assert table["firstRowAsHeader"] is True
    return [[cell["items"][0]["text"] for cell in row["cells"]] for row in table["rows"]]


def created_dates(odoo: OdooView) -> list[datetime]:
    return [datetime.fromisoformat(t["create_date"]).replace(tzinfo=UTC)
            for t in odoo.call("helpdesk.ticket", "search_read", [], fields=["create_date"])]


def day_in_vietnamese(value: date) -> str:
    with speaking("vi-VN"):
        return day(value)


def vi(sentence: str, **values: object) -> str:
    with speaking("vi-VN"):
        return tr(sentence, **values)


def test_start_is_the_seed_clock() -> None:
    assert START == T0  # the hand-made histories and the bot tests share the scenario's clock
