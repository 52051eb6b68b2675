"""Management's cards and the pure rules behind them: the incident summary of a ticket's story, the digest of the
desk and its schedule. Every card built here goes to Microsoft's `adaptivecards` library (schema 1.5, in one
Node run), like tests/test_cards.py.

The stories are chatter entries written the way the bot writes them (acknowledgment, escalation and the
team's answers, updates, resolution, confirmation), for the three shipped profiles, every phase, with and
without the optional fields, in English and in Vietnamese.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.chatter_words import escalation_tag
from bot.escalation.model import Answer
from bot.i18n import speaking, tr
from bot.insights.model import ChatterEntry, TicketHistory
from bot.insights.service_levels import Measure
from bot.insights.timeline import Waiting
from bot.management.digest import Window, build_digest, window_for
from bot.management.model import (
    Asked,
    Decision,
    DecisionKind,
    IncidentSummary,
    Phase,
    StepKind,
    Trigger,
    open_for_due,
    summarise,
    trigger,
)
from bot.process import ClassOfService, ProcessProfile, Stage, load_profile
from bot.process.management import DigestEvery, DigestSchedule
from bot.tickets import Customer, OdooUser, Ticket, TicketFacts
from cards.management import digest_card, incident_card
from tests.support.card_validator import validate_cards
from tests.support.teams import card_elements, card_text

REPORTED = datetime(2025, 1, 29, 8, 33, tzinfo=UTC)  # 15:33 in Vietnam, as scenario 3 starts
TZ = ZoneInfo("Asia/Ho_Chi_Minh")
PROFILES = ("mindx", "tmf", "odoo-ps")
AGENT = "Phạm Quốc Huy"
CUSTOMER = Customer(58, "Phòng Khảo thí (exam.office@mindx.edu.vn)", "exam.office@mindx.edu.vn")
DESCRIPTION = ("Final exams in WEB102-HN (20), DATA101-SG (18) and MOBILE201-HN (15) cannot be submitted.\n"
               "Call the exam office on 0912 345 678 or +84 28 3823 4567.\n"
               "Traceback (most recent call last):\n  File \"/srv/exam/submit.py\", line 88, in post\n"
               "KeyError: 'class_id'\nGrafana: https://grafana.mindx.local/d/exams")
REASON = "Final exams in progress: 53 students in 3 classes cannot submit. Exam office: exam.office@mindx.edu.vn"
SECRETS = ("exam.office@mindx.edu.vn", "0912 345 678", "3823 4567", "Traceback", "submit.py", "KeyError",
           "grafana", "NullPointerException", "db-2", "10.0.3.7")


def minutes(n: float) -> datetime:
    return REPORTED + timedelta(minutes=n)


def said(at: float, text: str) -> ChatterEntry:
    """A customer-visible message from the agent, through the bot."""
    return ChatterEntry(minutes(at), AGENT, True, True, text)


def noted(at: float, text: str, author: str = AGENT) -> ChatterEntry:
    """An internal note."""
    return ChatterEntry(minutes(at), author, True, False, text)


ACK = said(6, "We are on it; the dev team is alerted. Next update in 15 minutes.")
DIAGNOSIS = noted(2, "Diagnosis:\nSubmission API 500; NullPointerException in ExamSubmitHandler on db-2 (10.0.3.7)")
ESCALATED = noted(3, f"Escalated to the Dev team: {REASON}")
TAKEN = noted(5, "Võ Minh Đức (Dev team) acknowledged the escalation of HT00007.", "Võ Minh Đức")
DECISION = noted(8, "Decision needed: extend the exam window by one hour for the three classes? Ask 0912 345 678.")
UPDATE_1 = said(21, "Update: the fix is being deployed.")
UPDATE_2 = said(36, "Update: fix deployed, checking the three classes.")
FIXED = said(46, "Submission service restarted with the fixed build.\n\n"
                 "Could you please confirm that everything works for you now?")
CONFIRMED = noted(56, "Customer confirmed the resolution. “All three classes submitted”")
# The chain: nobody in the dev team took it within Expedite's 5 minutes, nor did the senior engineers.
TO_SENIOR = noted(9, "Escalation not acknowledged in time by the Dev team: passed on to the Senior engineers.",
                  "Support bot")
SENIOR = noted(9, f"Escalated to the Senior engineers: {REASON}")
TO_MANAGEMENT = noted(15, "Escalation not acknowledged in time by the Senior engineers: passed on to the Management.",
                      "Support bot")
ASKED_ID = "7-1a2b3c-management"
MANAGEMENT = ChatterEntry(minutes(15), AGENT, True, False, f"Escalated to the Management: {REASON}",
                          (escalation_tag([ASKED_ID]),))
MANAGER_TOOK = noted(17, "Trần Thu Hà (Management) acknowledged the escalation of HT00007.", "Trần Thu Hà")
NOBODY_LEFT = noted(21, "Escalation not acknowledged in time by the Management: nobody further up the chain to pass "
                        "it to.", "Support bot")


def ticket(profile: ProcessProfile, cos: ClassOfService = ClassOfService.EXPEDITE, stage: Stage = Stage.IN_PROGRESS,
           *, full: bool = True, title: str = "Student submission system down during final exams",
           users: int | None = 53) -> Ticket:
    closed = stage in (Stage.DONE, Stage.CANCELLED)
    if not full:
        return Ticket(id=7, number="", title=title, description="", stage=profile.stages[stage], stage_key=stage,
                      priority=profile.classes[cos].priority, cos=cos, created=REPORTED, updated=REPORTED,
                      closed=closed)
    return Ticket(id=7, number="HT00007", title=title, description=DESCRIPTION, stage=profile.stages[stage],
                  stage_key=stage, priority=profile.classes[cos].priority, cos=cos, created=REPORTED,
                  updated=REPORTED, facts=TicketFacts(users=users, reported=REPORTED, kind="bug", logged_by=AGENT),
                  owner=OdooUser(3, AGENT), customer=CUSTOMER, closed=closed, url="https://odoo.mindx.example/web#id=7")


def history(profile: ProcessProfile, stage: Stage, *entries: ChatterEntry, **changes: Any) -> TicketHistory:
    closing = max((e.date for e in entries), default=REPORTED) if stage in (Stage.DONE, Stage.CANCELLED) else None
    return TicketHistory(ticket(profile, stage=stage, **changes), closing, tuple(entries))


@dataclass(frozen=True)
class Case:
    name: str
    card: dict[str, Any]
    summary: IncidentSummary | None = None


def _stories(profile: ProcessProfile) -> Iterator[tuple[str, TicketHistory, datetime | None]]:
    """(name, story, next update) for every phase the card shows."""
    yield "reported", history(profile, Stage.NEW), minutes(30)
    yield "reported-bare", history(profile, Stage.NEW, full=False), None
    yield "handling", history(profile, Stage.IN_PROGRESS, DIAGNOSIS, ACK), minutes(21)
    yield "escalated", history(profile, Stage.IN_PROGRESS, DIAGNOSIS, ESCALATED), minutes(30)
    yield "team-working", history(profile, Stage.IN_PROGRESS, DIAGNOSIS, ESCALATED, TAKEN, ACK, DECISION,
                                  UPDATE_1, UPDATE_2), minutes(51)
    yield "overdue", history(profile, Stage.IN_PROGRESS, ESCALATED, TAKEN, ACK), minutes(21)
    yield "paused", history(profile, Stage.ON_HOLD, ACK, noted(9, "On hold: waiting for the vendor")), None
    yield "resolved", history(profile, Stage.RESOLVED, ESCALATED, TAKEN, ACK, UPDATE_1, FIXED), None
    yield "closed", history(profile, Stage.DONE, DIAGNOSIS, ESCALATED, TAKEN, ACK, DECISION, UPDATE_1, UPDATE_2,
                            FIXED, CONFIRMED), None
    yield "closed-late", history(profile, Stage.DONE, said(95, "Sorry for the wait, we are on it."),
                                 said(400, "Fixed.\n\nCould you please confirm that everything works for you now?"),
                                 noted(420, "Closed WITHOUT customer confirmation: nobody answered")), None
    yield "cancelled", history(profile, Stage.CANCELLED, noted(4, "Cancelled: logged twice")), None
    yield "declined", history(profile, Stage.IN_PROGRESS, ESCALATED,
                              noted(7, "Lê Thị Mai (Dev team) declined the escalation of HT00007: not ours")), None
    yield "long-title", history(profile, Stage.NEW, title="Exam portal down for every campus " * 12), None
    yield "passed-on", history(profile, Stage.IN_PROGRESS, ESCALATED, TO_SENIOR, SENIOR), None
    yield "asked", history(profile, Stage.IN_PROGRESS, ESCALATED, TO_SENIOR, SENIOR, TO_MANAGEMENT, MANAGEMENT), None
    yield "management-took-it", history(profile, Stage.IN_PROGRESS, ESCALATED, TO_SENIOR, SENIOR, TO_MANAGEMENT,
                                        MANAGEMENT, MANAGER_TOOK), None
    yield "nobody-left", history(profile, Stage.IN_PROGRESS, ESCALATED, TO_SENIOR, SENIOR, TO_MANAGEMENT,
                                 MANAGEMENT, NOBODY_LEFT), None


NOW = minutes(40)


def _cases() -> list[Case]:
    cases = []
    for profile_name in PROFILES:
        profile = load_profile(profile_name)
        for name, story, next_update in _stories(profile):
            why = trigger(story.ticket, profile, NOW)
            summary = summarise(story, profile, now=NOW, next_update=next_update, trigger=why)
            cases.append(Case(f"{profile_name}/incident/{name}", incident_card(summary, tz=TZ, now=NOW), summary))
            with speaking("vi-VN"):  # masked and shown in the reader's language
                vietnamese = summarise(story, profile, now=NOW, next_update=next_update, trigger=why)
                cases.append(Case(f"{profile_name}/incident/{name}/vi", incident_card(vietnamese, tz=TZ, now=NOW),
                                  vietnamese))
        for reason in (Trigger.USERS, Trigger.OPEN_FOR, None):
            story = history(profile, Stage.IN_PROGRESS, ACK, cos=ClassOfService.PRIORITY, users=21)
            summary = summarise(story, profile, now=NOW, next_update=minutes(45), trigger=reason)
            cases.append(Case(f"{profile_name}/incident/priority-{reason}", incident_card(summary, tz=TZ, now=NOW),
                              summary))
        stories = [story for _, story, _ in _stories(profile)]
        for window in (window_for("today", NOW, TZ), window_for("week", NOW, TZ),
                       Window("day", NOW - timedelta(days=1), NOW)):
            digest = build_digest(stories, profile, window, now=NOW, capped=window.name == "week")
            cases.append(Case(f"{profile_name}/digest/{window.name}", digest_card(digest, tz=TZ, now=NOW)))
        empty = build_digest([], profile, window_for("today", NOW, TZ), now=NOW)
        cases.append(Case(f"{profile_name}/digest/empty", digest_card(empty, tz=TZ, now=NOW)))
        with speaking("vi-VN"):
            cases.append(Case(f"{profile_name}/digest/vi", digest_card(
                build_digest(stories, profile, window_for("today", NOW, TZ), now=NOW), tz=TZ, now=NOW)))
    return cases


CASES = _cases()
BY_NAME = {case.name: case for case in CASES}


@pytest.fixture(scope="module")
def problems() -> dict[str, list[str]]:
    return dict(zip(BY_NAME, validate_cards([case.card for case in CASES]), strict=True))


@pytest.mark.parametrize("name", list(BY_NAME))
def test_library_finds_no_problem(name: str, problems: dict[str, list[str]]) -> None:
    assert problems[name] == []


@pytest.mark.parametrize("name", list(BY_NAME))
def test_card_is_1_5_wraps_and_links_to_no_internal_system(name: str) -> None:
    card = BY_NAME[name].card
    assert card["version"] == "1.5"
    if "/incident/asked" in name:
        assert [a["type"] for a in card["actions"]] == ["Action.Execute", "Action.ShowCard"]
    else:
        assert "actions" not in card  # the escalation's answers, when management itself is asked; nothing else
    blocks = [e for e in card_elements(card) if e["type"] == "TextBlock"]
    assert blocks and all(block["wrap"] is True for block in blocks)
    shown = card_text(card)
    assert not [secret for secret in SECRETS if secret in shown]
    assert "http" not in shown and "odoo.mindx.example" not in shown


def shown(name: str) -> str:
    return card_text(BY_NAME[name].card)



def test_the_alert_says_what_is_affected_how_many_since_when_and_what_next() -> None:
    alert = shown("mindx/incident/reported")
    for fact in ("Expedite incident · HT00007", "Student submission system down during final exams",
                 "Support is on it; the users have not had an answer yet.",
                 "What is affected: Final exams in WEB102-HN (20), DATA101-SG (18) and MOBILE201-HN (15) cannot be "
                 "submitted.", "Call the exam office on [phone hidden] or [phone hidden].",
                 "Users affected: 53", "Since: Wed 29 Jan 15:33", "Customer: Phòng Khảo thí ([e-mail hidden])",
                 f"Owner: {AGENT}", "Next update: overdue: it was due at 16:03",  # the first answer, at 16:13
                 "15:33 · Reported",
                 "No decision is needed from management now."):
        assert fact in alert, fact
    bare = shown("mindx/incident/reported-bare")
    assert "Users affected: not known yet" in bare and "Owner: nobody yet" in bare and "#7" in bare


def test_the_card_follows_the_incident() -> None:
    assert "Waiting for the Dev team to take it on." in shown("mindx/incident/escalated")
    assert "What is affected: Final exams in progress: 53 students in 3 classes cannot submit. Exam office: " \
           "[e-mail hidden]" in shown("mindx/incident/escalated")  # the owner's words for management
    working = shown("mindx/incident/team-working")
    for fact in ("The Dev team is working on it.", "15:36 · The Dev team was called in",
                 "15:38 · Võ Minh Đức (Dev team) took it on", "15:39 · The users were told we are on it",
                 "16:09 · Latest update to the users", "Next update: by 16:24",
                 "Decision needed: extend the exam window by one hour for the three classes? Ask [phone hidden]."):
        assert fact in working, fact
    assert "15:54" not in working  # only the latest update to the users is listed
    assert "Next update: overdue: it was due at 15:54" in shown("mindx/incident/overdue")
    assert "Paused: on hold, or waiting for the customer." in shown("mindx/incident/paused")
    resolved = shown("mindx/incident/resolved")
    assert "A fix is in place; waiting for the users to confirm it works." in resolved and "Next update" not in resolved
    assert "Cancelled: nothing more will be done." in shown("mindx/incident/cancelled")
    assert "Decision needed: the Dev team declined it; who should take it on?" in shown("mindx/incident/declined")


def test_the_closing_summary_measures_against_the_class_targets() -> None:
    closed = shown("mindx/incident/closed")
    for fact in ("Closed.", "Closing summary", "Time to acknowledge: 6m, within the 30m target",
                 "Time to resolve: 46m, within the 4h target", "Dev team answered: 2m, within the 5m target",
                 "Open for: 56m", "The users confirmed the fix.", "16:29 · The users confirmed it works"):
        assert fact in closed, fact
    assert "Decision needed" not in closed and "Next update" not in closed
    late = shown("mindx/incident/closed-late")
    assert "Time to acknowledge: 1h35m, over the 30m target" in late
    assert "Time to resolve: 6h40m, over the 4h target" in late
    assert "Closed without the users' confirmation." in late
    assert "Time to resolve: 46m (no target set)" in shown("tmf/incident/closed")  # TMF sets no resolve target


def test_why_management_hears_of_it_is_in_the_heading() -> None:
    assert "Priority ticket with many users affected · HT00007" in shown("mindx/incident/priority-users")
    assert "Priority ticket open for long · HT00007" in shown("mindx/incident/priority-open_for")
    assert "Priority incident · HT00007" in shown("mindx/incident/priority-None")  # asked for by hand


def test_the_card_speaks_vietnamese() -> None:
    vi = shown("mindx/incident/closed/vi")
    assert "Sự cố Expedite · HT00007" in vi and "Tổng kết khi đóng" in vi and "[e-mail hidden]" not in vi
    assert "Phạm vi ảnh hưởng: Final exams in progress" in vi  # the owner's words stay as written
    assert "Khách hàng: Phòng Khảo thí ([đã ẩn e-mail])" in vi
    assert "Tổng hợp bộ phận hỗ trợ" in shown("mindx/digest/vi")


# ---- the rules behind the card ------------------------------------------------------------------------

def test_who_deserves_a_card() -> None:
    profile = load_profile("mindx")
    expedite = ticket(profile)
    assert trigger(expedite, profile, REPORTED) is Trigger.CLASS
    priority = ticket(profile, ClassOfService.PRIORITY, users=19)
    assert trigger(priority, profile, REPORTED) is None
    assert trigger(replace(priority, facts=replace(priority.facts, users=20)), profile, REPORTED) is Trigger.USERS
    assert open_for_due(priority, profile) == REPORTED + timedelta(hours=4)
    assert trigger(priority, profile, REPORTED + timedelta(hours=4)) is Trigger.OPEN_FOR
    resolved = replace(priority, stage=profile.stages[Stage.RESOLVED], stage_key=Stage.RESOLVED)
    assert trigger(resolved, profile, REPORTED + timedelta(hours=5)) is None and open_for_due(resolved, profile) is None
    assert trigger(ticket(profile, ClassOfService.STANDARD, users=1), profile, REPORTED + timedelta(days=9)) is None
    tmf = load_profile("tmf")  # no priority_threshold: Expedite only
    assert trigger(ticket(tmf, ClassOfService.PRIORITY, users=25), tmf, REPORTED + timedelta(days=9)) is None


def test_the_phases_and_decisions() -> None:
    phases = {case.name.split("/")[2]: case.summary.phase for case in CASES
              if case.summary is not None and case.name.startswith("mindx/incident/") and not case.name.endswith("vi")}
    assert phases["reported"] is Phase.REPORTED and phases["handling"] is Phase.HANDLING
    assert phases["escalated"] is Phase.ESCALATED and phases["team-working"] is Phase.TEAM_WORKING
    assert phases["paused"] is Phase.PAUSED and phases["resolved"] is Phase.RESOLVED
    assert phases["closed"] is Phase.CLOSED and phases["cancelled"] is Phase.CANCELLED
    working = BY_NAME["mindx/incident/team-working"].summary
    assert working is not None and working.decision is not None and working.decision.kind is DecisionKind.ASKED
    assert [step.kind for step in working.steps] == [StepKind.REPORTED, StepKind.ESCALATED, StepKind.TEAM_TOOK,
                                                     StepKind.USERS_TOLD, StepKind.USERS_UPDATED]
    decided = summarise(history(load_profile("mindx"), Stage.IN_PROGRESS, DECISION, noted(9, "Decided: yes, +1h")),
                        load_profile("mindx"), now=NOW, next_update=None, trigger=Trigger.CLASS)
    assert decided.decision is None
    top = summarise(history(load_profile("mindx"), Stage.IN_PROGRESS, noted(3, "Escalated to the Management: help")),
                    load_profile("mindx"), now=NOW, next_update=None, trigger=Trigger.CLASS)
    assert top.decision == Decision(DecisionKind.TOP_OF_CHAIN)


def test_an_escalation_passed_on_waits_for_the_next_team() -> None:
    profile = load_profile("mindx")
    passed = BY_NAME["mindx/incident/passed-on"]
    assert passed.summary is not None and passed.summary.phase is Phase.ESCALATED
    assert passed.summary.teams == "Senior engineers"  # not the Dev team, which let it go
    assert [step.kind for step in passed.summary.steps] == [StepKind.REPORTED, StepKind.ESCALATED,
                                                            StepKind.PASSED_ON]  # the hand-over is one step
    shown = card_text(passed.card)
    assert "Waiting for the Senior engineers to take it on." in shown and "Dev team to take it on" not in shown
    assert "15:42 · The Dev team did not take it on in time: passed on to the Senior engineers" in shown
    assert "The Senior engineers was called in" not in shown
    alone = summarise(history(profile, Stage.IN_PROGRESS, ESCALATED, TO_SENIOR), profile, now=NOW, next_update=None,
                      trigger=Trigger.CLASS)  # the senior engineers' own escalation note is not written yet
    assert alone.phase is Phase.ESCALATED and alone.teams == "Senior engineers"

    later = minutes(60)
    digest = build_digest([history(profile, Stage.IN_PROGRESS, ESCALATED, TO_SENIOR, SENIOR)], profile,
                          window_for("today", later, TZ), now=later)
    assert digest.waiting_total == 1
    assert digest.waiting[0].waiting_for == (Waiting("Senior engineers", minutes(9), passed_on_by="Dev team"),)
    assert "Student submission system down during final exams · Senior engineers (passed on: the Dev team did not " \
           "answer in time), since Wed 29 Jan 15:42" in card_text(digest_card(digest, tz=TZ, now=later))
    answered = build_digest([history(profile, Stage.IN_PROGRESS, ESCALATED, TO_SENIOR, SENIOR,
                                     noted(11, "Nam (Senior engineers) acknowledged the escalation of HT00007."))],
                            profile, window_for("today", later, TZ), now=later)
    assert answered.waiting_total == 0  # the senior engineers took it: nobody is waited for any more


def test_management_asked_answers_on_the_incident_card() -> None:
    asked = BY_NAME["mindx/incident/asked"]
    assert asked.summary is not None
    assert asked.summary.asked == Asked(ASKED_ID, minutes(20))  # Expedite: 5 minutes to acknowledge
    assert asked.summary.decision == Decision(DecisionKind.TOP_OF_CHAIN)
    said = card_text(incident_card(asked.summary, tz=TZ, now=minutes(16)))  # a minute after it was asked
    for fact in ("Waiting for the Management to take it on.",
                 "15:48 · The Senior engineers did not take it on in time: passed on to the Management",
                 "Decision needed: the escalation has reached management; who takes it on, and how?",
                 "Acknowledge it by 15:53 to take it on, or decline it.", "[Acknowledge]", "[Decline]"):
        assert fact in said, fact
    acknowledge, decline = asked.card["actions"]
    assert (acknowledge["verb"], acknowledge["data"]) == (Answer.ACKNOWLEDGE.value, {"escalation": ASKED_ID})
    [send] = decline["card"]["actions"]
    assert (send["verb"], send["data"]) == (Answer.DECLINE.value, {"escalation": ASKED_ID})
    assert [i["id"] for i in card_elements(decline["card"]) if i["type"] == "Input.Text"] == ["why"]
    assert "Overdue: acknowledge it to take it on (it was due at 15:53), or decline it." in \
        shown("mindx/incident/asked")  # at 16:13

    took = BY_NAME["mindx/incident/management-took-it"]
    assert took.summary is not None and took.summary.asked is None and took.summary.decision is None
    assert "15:50 · Trần Thu Hà (Management) took it on" in card_text(took.card) and "actions" not in took.card
    nobody = BY_NAME["mindx/incident/nobody-left"]
    assert nobody.summary is not None and nobody.summary.asked is None
    assert nobody.summary.decision == Decision(DecisionKind.UNANSWERED, team="Management")
    left = card_text(nobody.card)
    assert "15:54 · The Management did not take it on in time, and nobody is left up the chain to pass it to" in left
    assert "Decision needed: nobody took it on in time (the Management was the last asked); who takes it on?" in left
    vi = shown("mindx/incident/asked/vi")  # the question and its buttons speak the reader's language
    with speaking("vi-VN"):
        overdue = tr("Overdue: acknowledge it to take it on (it was due at {time}), or decline it.", time="15:53")
        assert overdue in vi and f"[{tr('Acknowledge')}]" in vi and "[Acknowledge]" not in vi


# ---- the digest -----------------------------------------------------------------------------------------

def test_the_digest_counts_the_desk() -> None:
    profile = load_profile("mindx")
    other = replace(ticket(profile, ClassOfService.STANDARD, users=None), id=8, number="HT00008",
                    title="Mouse broken, call 0912 345 678", created=minutes(-3 * 24 * 60))
    done = history(profile, Stage.DONE, ACK, FIXED, CONFIRMED)
    done = TicketHistory(replace(done.ticket, id=9, number="HT00009"), done.closed_at, done.chatter)
    stories = [history(profile, Stage.IN_PROGRESS, ESCALATED), TicketHistory(other, None, ()), done,
               history(profile, Stage.CANCELLED)]
    later = minutes(60)  # 16:33: the closed one was fixed at 16:19 and confirmed at 16:29
    digest = build_digest(stories, profile, window_for("today", later, TZ), now=later)
    assert [(c.label, c.tickets, c.users) for c in digest.open_by_class] == [("Standard", 1, 0), ("Expedite", 1, 53)]
    assert (digest.open_total, digest.users_total, digest.users_unknown) == (2, 53, 1)
    assert (digest.logged, digest.resolved, digest.closed) == (2, 1, 1)  # the cancelled one is not counted
    assert digest.waiting_total == 1 and digest.waiting[0].waiting_for == (Waiting("Dev team", minutes(3)),)
    assert digest.waiting[0].since == minutes(3)
    missed = {listed.label: listed.missed for listed in digest.breaches}
    assert Measure.ACKNOWLEDGMENT in missed["HT00007"] and Measure.ESCALATION in missed["HT00007"]
    assert missed["HT00009"] == (Measure.UPDATES,)  # closed today, but the users went 40m without news
    assert [listed.label for listed in digest.oldest] == ["HT00008", "HT00007"]
    assert digest.oldest[0].title == "Mouse broken, call [phone hidden]"
    text = card_text(digest_card(digest, tz=TZ, now=later))
    for fact in ("Support desk digest: today until 16:33", "Open now: 2 tickets, 53 users affected",
                 "1 ticket without a count of users affected", "Standard: 1 ticket · 0 users",
                 "Expedite: 1 ticket · 53 users", "In this period: 2 logged, 1 fixed, 1 closed",
                 "Escalations waiting for an answer (1)",
                 "**HT00007** Student submission system down during final exams · Dev team, since Wed 29 Jan 15:36",
                 "**HT00008** Mouse broken, call [phone hidden] · Standard · In Progress · open for 3d1h"):
        assert fact in text, fact


def test_a_digest_of_an_empty_desk_says_so() -> None:
    text = shown("mindx/digest/empty")
    assert "Open now: 0 tickets, 0 users affected" in text and "Service levels missed (0)" in text
    assert "Oldest open tickets" not in text
    assert "these figures are a lower bound" in shown("mindx/digest/week")


def test_the_digest_schedule_keeps_the_wall_clock_time() -> None:
    daily = DigestSchedule(time(8, 30))
    assert daily.next_after(REPORTED, TZ) == datetime(2025, 1, 30, 8, 30, tzinfo=TZ)
    assert daily.next_after(datetime(2025, 1, 30, 8, 30, tzinfo=TZ), TZ) == datetime(2025, 1, 31, 8, 30, tzinfo=TZ)
    berlin = ZoneInfo("Europe/Berlin")  # the clocks go forward on Sunday 30 March 2025
    before = daily.next_after(datetime(2025, 3, 29, 9, 0, tzinfo=berlin), berlin)
    assert before == datetime(2025, 3, 30, 8, 30, tzinfo=berlin) and before.utcoffset() == timedelta(hours=2)
    weekly = DigestSchedule(time(8, 30), DigestEvery.WEEK, weekday=0)
    assert weekly.next_after(REPORTED, TZ) == datetime(2025, 2, 3, 8, 30, tzinfo=TZ)  # the next Monday
    assert weekly.period == timedelta(days=7) and daily.period == timedelta(days=1)
