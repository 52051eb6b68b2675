"""Management sees business impact: one card per incident in the management channel, updated in place up
to its closing summary; a digest of the desk posted by the timers; `/ticket summary` on demand.

The bot runs for real (HTTP, Redis, the Odoo double, the Bot Connector stub); the tests move the clock
and run the timer worker and the poller by hand, then read what landed in the management channel.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from redis.asyncio import Redis

from bot.drafts.model import DraftAction
from bot.escalation.model import Answer, Status
from bot.escalation.store import EscalationStore
from bot.management import service as management
from bot.process import PROFILES_DIR, ProfileError, load_profile
from bot.process.management import DigestEvery
from bot.server import RUNTIME, Runtime, create_app
from bot.timers import Timer
from bot.turn import SendFailed
from tests.conftest import AGENT, MANAGER, STRANGER, FakeClock, RunningSandbox, bot_settings
from tests.support.connector import ConnectorStub, Posted
from tests.support.drafts import draft_id, filled_in
from tests.support.odoo_view import OdooView
from tests.support.teams import TeamsClient, card_text
from tests.test_escalation import DEV, DUC, MANAGEMENT, SENIOR, register

# Scenario 3 of the seeds, as the agent logs it: the report names the three classes and, as reports do,
# how to reach the exam office (personal data management must not see) and the technical error.
SCENARIO_3 = ("/ticket new Student submission system down during final exams users:53 type:bug "
              "customer:coordinator.ha@mindx.edu.vn\n"
              "Final exams in WEB102-HN (20 students), DATA101-SG (18) and MOBILE201-HN (15) cannot be submitted. "
              "Exam office: exam.office@mindx.edu.vn, 0912 345 678.\n"
              "2025-01-29 08:31:55 ERROR submit-api-7.mindx.local POST /api/exams/submit -> 500")
PERSONAL_OR_TECHNICAL = ("exam.office@mindx.edu.vn", "coordinator.ha@", "0912 345 678", "NullPointerException",
                         "ExamSubmitHandler", "2.14.3", "submit-api-7", "/api/exams", "ERROR", "http")


def management_cards(teams: TeamsClient) -> list[Posted]:
    return teams.connector.cards_in(MANAGEMENT)


def latest(teams: TeamsClient, posted: Posted) -> str:
    """The card as the channel shows it now: its last update in place, else as it was posted."""
    updates = [u for u in teams.connector.updated if u.id == posted.id]
    return card_text((updates[-1] if updates else posted).card or {})


def updates_of(teams: TeamsClient, posted: Posted) -> int:
    return sum(u.id == posted.id for u in teams.connector.updated)


def everything_management_saw(teams: TeamsClient) -> str:
    cards = [p.card for p in teams.connector.posted if p.conversation_id.startswith(MANAGEMENT)]
    cards += [u.card for u in teams.connector.updated if u.conversation_id.startswith(MANAGEMENT)]
    return "\n".join(card_text(card or {}) for card in cards)


async def new_ticket(teams: TeamsClient, odoo: OdooView, text: str) -> int:
    await teams.card(text)
    return int(odoo.newest_ticket()["id"])


# ---- the incident card, scenario 3 end to end -------------------------------------------------------

async def test_scenario_3_manager_summary_from_alert_to_closing(teams: TeamsClient, odoo: OdooView,
                                                                 clock: FakeClock) -> None:
    await register(teams, dev=DEV, management=MANAGEMENT)
    tid = await new_ticket(teams, odoo, SCENARIO_3)  # 15:33: immediate stakeholder alert
    [card] = management_cards(teams)
    alert = card_text(card.card or {})
    for fact in ("Expedite incident", "Student submission system down during final exams",
                 "Support is on it; the users have not had an answer yet.", "Users affected: 53",
                 "Since: Wed 29 Jan 15:33", "Customer: Coordinator Hà", f"Owner: {AGENT.name}",
                 "Next update: by 16:03",  # the first answer is due within 30 minutes
                 "WEB102-HN (20 students), DATA101-SG (18) and MOBILE201-HN (15) cannot be submitted",
                 "Exam office: [e-mail hidden], [phone hidden].", "15:33 · Reported"):
        assert fact in alert, fact

    clock.advance(minutes=2)
    await teams.card(f"/ticket diag {tid} Submission API returns 500; NullPointerException in ExamSubmitHandler "
                     "since deploy 2.14.3")
    assert updates_of(teams, card) == 0  # a diagnosis note changes nothing management sees

    clock.advance(minutes=1)  # 15:36: escalated to the dev team within 15 minutes
    await teams.card(f"/ticket escalate {tid} dev Final exams in progress: 53 students in 3 classes cannot submit.")
    escalated = latest(teams, card)
    assert "Waiting for the Dev team to take it on." in escalated
    assert "What is affected: Final exams in progress: 53 students in 3 classes cannot submit." in escalated
    assert "15:36 · The Dev team was called in" in escalated

    clock.advance(minutes=2)  # 15:38: the dev team acknowledges from its card
    [heads_up, dev_card] = teams.connector.cards_in(DEV)  # put on standby as it was logged, then the escalation
    assert "Heads-up for the Dev team: on standby" in card_text(heads_up.card or {})  # "alert the Dev team at once"
    status, _ = await teams.invoke(Answer.ACKNOWLEDGE.value, (dev_card.card or {})["refresh"]["action"]["data"],
                                   channel=DEV, sender=DUC)
    assert status == 200
    taken = latest(teams, card)
    assert "The Dev team is working on it." in taken and "15:38 · Võ Minh Đức (Dev team) took it on" in taken

    clock.advance(minutes=1)  # 15:39: the users are told
    await teams.card(f"/ticket ack {tid} We are on it; the dev team is alerted. Next update in 15 minutes.")
    told = latest(teams, card)
    assert "15:39 · The users were told we are on it" in told and "Next update: by 15:54" in told

    await teams.card(f"/ticket note {tid} Decision needed: extend the exam window by one hour for the three classes?")
    assert "Decision needed: extend the exam window by one hour for the three classes?" in latest(teams, card)

    clock.advance(minutes=40)  # 16:19: fixed and verified across the classes
    await teams.card(f"/ticket resolve {tid} Submission service restarted with the fixed build; verified in three "
                     "classes.")
    fixed = latest(teams, card)
    assert "A fix is in place; waiting for the users to confirm it works." in fixed and "Next update" not in fixed
    assert "restarted" not in fixed  # the fix's technical words stay with the dev team

    clock.advance(minutes=10)  # 16:29: confirmed and closed
    await teams.card(f"/ticket confirm {tid} All three classes submitted")
    closed = latest(teams, card)
    for fact in ("Closed.", "16:29 · The users confirmed it works", "Closing summary",
                 "Time to acknowledge: 6m, within the 30m target",  # logged 15:33, first answer 15:39
                 "Time to resolve: 46m, within the 4h target",  # reported 15:33, fixed 16:19
                 "Dev team answered: 2m, within the 5m target",  # called in 15:36, acknowledged 15:38
                 "Open for: 56m", "The users confirmed the fix."):
        assert fact in closed, fact
    assert "Decision needed" not in closed

    assert management_cards(teams) == [card]  # ONE card, from the alert to the closing summary
    assert updates_of(teams, card) == 6  # escalated, taken, told, decision, fixed, closed
    saw = everything_management_saw(teams)
    assert not [secret for secret in PERSONAL_OR_TECHNICAL if secret in saw]
    assert "Open in Odoo" not in saw and "[Acknowledge]" not in saw


async def test_the_card_is_posted_when_the_channel_is_registered_late(teams: TeamsClient, odoo: OdooView) -> None:
    tid = await new_ticket(teams, odoo, "/ticket new Exam portal down users:40")
    assert management_cards(teams) == []  # nowhere to post yet: nothing is lost, nothing fails
    await register(teams, management=MANAGEMENT)
    await teams.card(f"/ticket ack {tid}")
    [card] = management_cards(teams)
    assert "The users were told we are on it" in card_text(card.card or {})


async def test_becoming_expedite_and_priority_thresholds_bring_a_card(teams: TeamsClient, odoo: OdooView,
                                                                      runtime: Runtime, clock: FakeClock) -> None:
    await register(teams, management=MANAGEMENT)
    reclassified = await new_ticket(teams, odoo, "/ticket new Projector in room 302 has no signal users:2")
    growing = await new_ticket(teams, odoo, "/ticket new Lesson videos buffer for a class users:12")
    reported = clock.now()
    slow = await new_ticket(teams, odoo, "/ticket new Attendance report is slow users:8")
    assert management_cards(teams) == []  # Standard and Priority below the profile's thresholds

    await teams.card(f"/ticket class {reclassified} expedite")
    [first] = management_cards(teams)
    assert "Expedite incident" in card_text(first.card or {})

    await teams.card(f"/ticket users {growing} 21")  # management.priority_threshold.users: 20
    [_, second] = management_cards(teams)
    assert "Priority ticket with many users affected" in card_text(second.card or {})
    assert "Users affected: 21" in card_text(second.card or {})

    pending = await runtime.services.timers.get(management.TIMER_KIND, str(slow))
    assert pending is not None and pending.due == reported + timedelta(hours=4)
    clock.advance(hours=3, minutes=59)
    await runtime.worker.run_once()
    assert len(management_cards(teams)) == 2
    clock.advance(minutes=2)  # open_for: 4h, still not resolved
    await runtime.worker.run_once()
    [*_, third] = management_cards(teams)
    assert "Priority ticket open for long" in card_text(third.card or {})
    assert "Attendance report is slow" in card_text(third.card or {})


async def test_a_missed_update_shows_on_the_same_card_not_a_second_one(teams: TeamsClient, odoo: OdooView,
                                                                       runtime: Runtime, clock: FakeClock) -> None:
    await register(teams, management=MANAGEMENT)
    await teams.card("/ticket help")  # the owner's 1:1 chat is known: the reminder goes there
    tid = await new_ticket(teams, odoo, "/ticket new Payment page down for all campuses users:120")
    await teams.card(f"/ticket ack {tid}")
    [card] = management_cards(teams)
    assert "Next update: by 15:48" in latest(teams, card)
    clock.advance(minutes=16)  # Expedite: an update every 15 minutes; the owner missed it
    await runtime.worker.run_once()
    assert management_cards(teams) == [card]
    assert "Next update: overdue: it was due at 15:48" in latest(teams, card)
    assert any(p.conversation_id.startswith(f"personal-{AGENT.id}") and "due an update" in card_text(p.card or {})
               for p in teams.connector.posted)  # the owner is nagged, as before


async def test_work_done_in_odoo_moves_the_card(teams: TeamsClient, odoo: OdooView, runtime: Runtime,
                                                clock: FakeClock) -> None:
    await register(teams, management=MANAGEMENT)
    await runtime.poller.poll_once()  # the first poll sets the cursors
    tid = await new_ticket(teams, odoo, "/ticket new LMS down for everyone users:300")
    [card] = management_cards(teams)
    clock.advance(minutes=5)
    [solved] = odoo.call("helpdesk.ticket.stage", "search", [["name", "=", "Solved"]])
    odoo.call("helpdesk.ticket", "write", [tid], {"stage_id": solved})  # someone resolves it in Odoo's UI
    await runtime.poller.poll_once()
    assert "A fix is in place; waiting for the users to confirm it works." in latest(teams, card)
    assert management_cards(teams) == [card]


async def test_a_declined_escalation_asks_management_to_decide(teams: TeamsClient, odoo: OdooView) -> None:
    await register(teams, dev=DEV, management=MANAGEMENT)
    tid = await new_ticket(teams, odoo, "/ticket new Certificates not generated for graduates users:80")
    await teams.card(f"/ticket escalate {tid} dev Graduation ceremony tomorrow")
    [_, dev_card] = teams.connector.cards_in(DEV)  # the heads-up as it was logged, then the escalation
    data = {**(dev_card.card or {})["refresh"]["action"]["data"], "why": "Content issue, not code"}
    status, _ = await teams.invoke(Answer.DECLINE.value, data, channel=DEV, sender=DUC)
    assert status == 200
    [card] = management_cards(teams)
    shown = latest(teams, card)
    assert "Decision needed: the Dev team declined it; who should take it on?" in shown
    assert "Content issue" not in shown  # the team's own words stay on its card


async def test_scenario_3_escalated_up_to_management_is_answered_on_the_one_incident_card(
        teams: TeamsClient, odoo: OdooView, runtime: Runtime, clock: FakeClock) -> None:
    await register(teams, dev=DEV, senior=SENIOR, management=MANAGEMENT)
    await teams.card("/ticket help")  # the owner's 1:1 chat is known: the owner is told there
    tid = await new_ticket(teams, odoo, SCENARIO_3)  # 15:33: the incident card
    [card] = management_cards(teams)
    await teams.card(f"/ticket diag {tid} NullPointerException in ExamSubmitHandler on submit-api-7.mindx.local")
    await teams.card(f"/ticket escalate {tid} dev Exams blocked; call the exam office on 0912 345 678")

    clock.advance(minutes=6)  # 15:39: Expedite gives the dev team 5 minutes; nobody took it
    await runtime.worker.run_once()
    passed = latest(teams, card)
    assert "15:39 · The Dev team did not take it on in time: passed on to the Senior engineers" in passed
    assert "Waiting for the Senior engineers to take it on." in passed and "Dev team to take it on" not in passed
    waiting = card_text(await teams.card("/ticket summary"))
    assert "Escalations waiting for an answer (1)" in waiting
    assert "Senior engineers (passed on: the Dev team did not answer in time), since Wed 29 Jan 15:39" in waiting

    clock.advance(minutes=6)  # 15:45: nor did the senior engineers: management itself is asked
    await runtime.worker.run_once()
    assert management_cards(teams) == [card]  # no escalation card beside the incident card
    asked = latest(teams, card)
    for fact in ("Waiting for the Management to take it on.",
                 "15:45 · The Senior engineers did not take it on in time: passed on to the Management",
                 "Decision needed: the escalation has reached management; who takes it on, and how?",
                 "Acknowledge it by 15:50 to take it on, or decline it.", "[Acknowledge]", "[Decline]"):
        assert fact in asked, fact
    [redrawn] = [u for u in teams.connector.updated if u.id == card.id][-1:]
    acknowledge = (redrawn.card or {})["actions"][0]
    escalation_id = acknowledge["data"]["escalation"]
    escalation = await EscalationStore(runtime.services.store).get(escalation_id)  # the very escalation the chain made
    assert escalation is not None and escalation.team == "management" and escalation.status is Status.OPEN
    assert "Management (passed on: the Senior engineers did not answer in time)" in \
        card_text(await teams.card("/ticket summary"))

    clock.advance(minutes=2)  # 15:47: a manager takes it on, from the card in the management channel
    before = len(teams.connector.posted)
    status, body = await teams.invoke(acknowledge["verb"], acknowledge["data"], channel=MANAGEMENT, sender=MANAGER)
    assert status == 200
    answered = card_text(body["value"])  # the incident card, as it stands now
    assert f"15:47 · {MANAGER.name} (Management) took it on" in answered and "[Acknowledge]" not in answered
    assert "The Management is working on it." in latest(teams, card) and "[Decline]" not in latest(teams, card)
    taken = await EscalationStore(runtime.services.store).get(escalation_id)
    assert taken is not None and taken.status is Status.ACKNOWLEDGED and taken.acknowledged_by == MANAGER.name
    assert f"{MANAGER.name} (Management) acknowledged the escalation" in odoo.messages(tid, subtype="Note")[-1]["body"]
    [told] = [p for p in teams.connector.posted[before:] if p.conversation_id.startswith(f"personal-{AGENT.id}")]
    assert f"{MANAGER.name} (Management) acknowledged the escalation" in card_text(told.card or {})

    status, body = await teams.invoke(acknowledge["verb"], acknowledge["data"], channel=MANAGEMENT, sender=DUC)
    assert f"{MANAGER.name} has already acknowledged it." in card_text(body["value"])  # one outcome: the first
    assert sum("acknowledged the escalation" in n["body"] for n in odoo.messages(tid, subtype="Note")) == 1
    clock.advance(minutes=10)  # past its deadline: acknowledged, so nothing is passed on
    await runtime.worker.run_once()
    assert not any("nobody further up the chain" in n["body"] for n in odoo.messages(tid, subtype="Note"))

    assert management_cards(teams) == [card]
    saw = everything_management_saw(teams)
    assert "Escalation to the" not in saw and "Open in Odoo" not in saw
    assert not [secret for secret in PERSONAL_OR_TECHNICAL if secret in saw]


async def test_a_priority_ticket_escalated_to_management_gets_the_one_card_to_answer(
        teams: TeamsClient, odoo: OdooView, runtime: Runtime) -> None:
    await register(teams, management=MANAGEMENT)
    tid = await new_ticket(teams, odoo, "/ticket new Attendance report times out users:8")
    assert management_cards(teams) == []  # Priority, below management.priority_threshold
    await teams.card(f"/ticket escalate {tid} management Teachers cannot take attendance; buy the vendor's fix?")
    [card] = management_cards(teams)  # the incident card, and no escalation card: the only card
    shown = card_text(card.card or {})
    assert "Priority ticket escalated to management" in shown and "[Acknowledge]" in shown and "[Decline]" in shown
    assert "What is affected: Teachers cannot take attendance; buy the vendor's fix?" in shown
    decline = (card.card or {})["actions"][1]["card"]["actions"][0]

    status, body = await teams.invoke(decline["verb"], decline["data"], channel=MANAGEMENT, sender=MANAGER)
    assert status == 200 and "Please write why before sending." in card_text(body["value"])  # on the same card
    assert not any("declined the escalation" in n["body"] for n in odoo.messages(tid, subtype="Note"))
    status, body = await teams.invoke(decline["verb"], {**decline["data"], "why": "Not worth it: wait for 2.15"},
                                      channel=MANAGEMENT, sender=MANAGER)
    assert f"{MANAGER.name} (Management) declined the escalation" in odoo.messages(tid, subtype="Note")[-1]["body"]
    declined = latest(teams, card)
    assert "The Management declined it" in declined and "actions" not in (teams.connector.updated[-1].card or {})
    assert management_cards(teams) == [card]
    escalation = await EscalationStore(runtime.services.store).get(decline["data"]["escalation"])
    assert escalation is not None and escalation.status is Status.DECLINED


async def test_a_management_e_mail_draft_is_masked_like_the_cards(teams: TeamsClient, odoo: OdooView) -> None:
    await register(teams, management=MANAGEMENT)
    tid = await new_ticket(teams, odoo, SCENARIO_3)
    draft = await teams.card(f"/ticket email {tid} management lang:en")  # the seeds' "To Management" template
    status, _ = await teams.invoke(DraftAction.POST_EDITED.value, {"draft": draft_id(draft), **filled_in(draft)})
    assert status == 200
    [summary] = [p for p in management_cards(teams) if "sent by" in card_text(p.card or {})]
    shown = card_text(summary.card or {})
    assert "Business impact" in shown and "Exam office: [e-mail hidden], [phone hidden]." in shown
    assert "actions" not in (summary.card or {})  # no link into Odoo
    assert not [secret for secret in PERSONAL_OR_TECHNICAL if secret in everything_management_saw(teams)]


async def test_management_cards_never_fail_a_command(teams: TeamsClient, odoo: OdooView) -> None:
    await register(teams, management=MANAGEMENT)
    teams.connector.failures.append((403, {}))  # Teams refuses the management card (the first post of the turn)
    answer = card_text(await teams.card("/ticket new Wi-Fi down in the whole building users:60"))
    assert "Logged as Expedite." in answer  # the agent's command went through
    tid = int(odoo.newest_ticket()["id"])
    assert management_cards(teams) == []
    await teams.card(f"/ticket ack {tid}")  # the next change posts it
    [card] = management_cards(teams)
    assert "The users were told we are on it" in card_text(card.card or {})


# ---- Odoo calls stay bounded -----------------------------------------------------------------------

async def test_a_card_costs_two_odoo_reads_and_nothing_for_other_tickets(teams: TeamsClient, odoo: OdooView,
                                                                         sandbox: RunningSandbox) -> None:
    await register(teams, management=MANAGEMENT)
    standard = await new_ticket(teams, odoo, "/ticket new Mouse broken users:1")
    expedite = await new_ticket(teams, odoo, "/ticket new Exams cannot be submitted users:53")
    sandbox.odoo.calls.clear()
    await teams.card(f"/ticket note {standard} Sent a new mouse")
    plain = dict(sandbox.odoo.calls)
    sandbox.odoo.calls.clear()
    await teams.card(f"/ticket note {expedite} Dev team paged")
    with_card = dict(sandbox.odoo.calls)
    extra = {call: with_card.get(call, 0) - plain.get(call, 0) for call in set(with_card) | set(plain)}
    assert {call: n for call, n in extra.items() if n} == {("helpdesk.ticket", "read"): 1,
                                                           ("mail.message", "search_read"): 1}


async def test_summary_reads_odoo_twice_however_many_tickets(teams: TeamsClient, odoo: OdooView,
                                                             sandbox: RunningSandbox) -> None:
    for n in range(30):
        await teams.card(f"/ticket new Printer {n} jams users:1")
    tid = int(odoo.newest_ticket()["id"])
    sandbox.odoo.calls.clear()
    shown = card_text(await teams.card("/ticket summary week"))
    assert "Open now: 34 tickets" in shown  # the 4 seeded open tickets and the 30 new ones
    assert sandbox.odoo.calls == {("helpdesk.ticket", "search_read"): 1, ("mail.message", "search_read"): 1}
    sandbox.odoo.calls.clear()
    await teams.card(f"/ticket summary {tid}")
    assert sandbox.odoo.calls == {("helpdesk.ticket", "read"): 1, ("mail.message", "search_read"): 1}


# ---- /ticket summary ------------------------------------------------------------------------------

async def test_summary_today_week_and_one_ticket(teams: TeamsClient, odoo: OdooView, clock: FakeClock) -> None:
    await register(teams, dev=DEV)
    tid = await new_ticket(teams, odoo, SCENARIO_3)
    await teams.card(f"/ticket escalate {tid} dev Final exams in progress")
    clock.advance(minutes=45)  # nobody answered the users, nor did the dev team take it

    today = card_text(await teams.card("/ticket summary"))  # today is the default
    # the demo desk: two Priority video tickets (12 users each), a Standard and a Fixed Deadline one (1 user
    # each), all logged today at 15:33 like this one; and scenario 3's 53 students
    for fact in ("Support desk digest: today until 16:18", "Open now: 5 tickets, 79 users affected",
                 "Expedite: 1 ticket · 53 users", "Priority: 2 tickets · 24 users", "Standard: 1 ticket · 1 user",
                 "Fixed Deadline: 1 ticket · 1 user", "In this period: 5 logged, 0 fixed, 0 closed",
                 "Service levels missed (",
                 "first answer", "escalation answer", "Escalations waiting for an answer (1)",
                 "Student submission system down during final exams · Dev team, since Wed 29 Jan 15:33",
                 "Oldest open tickets"):
        assert fact in today, fact
    week = card_text(await teams.card("/ticket summary week"))
    assert "Support desk digest: the last 7 days" in week and "Open now: 5 tickets" in week

    one = card_text(await teams.card(f"/ticket summary #{tid}"))
    assert "Expedite incident" in one and "Waiting for the Dev team to take it on." in one
    assert "Next update: overdue: it was due at 16:03" in one
    number = odoo.ticket(tid)["number"]
    assert card_text(await teams.card(f"/ticket summary {number}")) == one
    assert not [secret for secret in PERSONAL_OR_TECHNICAL if secret in today + week + one]


async def test_agents_leads_and_managers_may_ask_and_are_answered_where_they_typed(teams: TeamsClient) -> None:
    replies = await teams.say_in_channel("/ticket summary today", MANAGEMENT)
    [answer] = [r for r in replies if r.card]
    assert answer.conversation_id.startswith(MANAGEMENT)
    assert "Support desk digest" in card_text(answer.card or {})
    stranger = card_text(await teams.card("/ticket summary week", sender=STRANGER))  # no Odoo user: refused (issue 15)
    assert "reading the desk's summaries is for: agent, lead, manager (you are: no Odoo user)" in stranger
    assert "Support desk digest" not in stranger


@pytest.mark.parametrize(("typed", "said"), [
    ("/ticket summary yesterday", "I can summarise `today`, the last `week`, or one ticket: `/ticket summary 42`."),
    ("/ticket summary today week", "I can summarise `today`, the last `week`, or one ticket"),
    ("/ticket summary 99999", "There is no ticket #99999 in Odoo."),
])
async def test_bad_summary_requests_are_answered_kindly_and_change_nothing(
        teams: TeamsClient, sandbox: RunningSandbox, typed: str, said: str) -> None:
    sandbox.odoo.calls.clear()
    before = len(teams.connector.posted)
    answer = card_text(await teams.card(typed))
    assert said in answer
    assert "Usage: `/ticket summary [today|week|<id>]`" in answer or "no ticket" in answer
    writes = {call for call in sandbox.odoo.calls if call[1] in ("create", "write", "message_post")}
    assert writes == set() and len(teams.connector.posted) == before + 1  # only the answer


# ---- the digest, fired by the timers --------------------------------------------------------------

async def test_the_digest_is_posted_by_the_timer_worker_every_morning(teams: TeamsClient, odoo: OdooView,
                                                                       runtime: Runtime, clock: FakeClock) -> None:
    await register(teams, management=MANAGEMENT)
    engine = runtime.services.timers
    pending = await engine.get(management.DIGEST_KIND, management.DIGEST_KEY)
    assert pending is not None  # scheduled at start-up: 08:30 in the team's time zone (Asia/Ho_Chi_Minh)
    assert pending.due.astimezone(runtime.services.timezone).strftime("%a %H:%M") == "Thu 08:30"
    await new_ticket(teams, odoo, "/ticket new Exams cannot be submitted users:53")

    clock.current = pending.due - timedelta(seconds=1)
    await runtime.worker.run_once()
    assert [p for p in management_cards(teams) if "digest" in card_text(p.card or {})] == []
    clock.current = pending.due
    await runtime.worker.run_once()
    [digest] = [p for p in management_cards(teams) if "digest" in card_text(p.card or {})]
    shown = card_text(digest.card or {})
    assert "Support desk digest: the day to Thu 30 Jan 08:30" in shown
    assert "Open now: 5 tickets" in shown and "Expedite: 1 ticket · 53 users" in shown
    assert "Service levels missed (" in shown  # the Expedite ticket was never answered

    await runtime.worker.run_once()  # once
    assert len([p for p in management_cards(teams) if "digest" in card_text(p.card or {})]) == 1
    following = await engine.get(management.DIGEST_KIND, management.DIGEST_KEY)
    assert following is not None and following.due == pending.due + timedelta(days=1)  # it rescheduled itself


async def test_the_digest_comes_back_after_redis_lost_its_data(runtime: Runtime, redis: Redis) -> None:
    engine = runtime.services.timers
    pending = await engine.get(management.DIGEST_KIND, management.DIGEST_KEY)
    assert pending is not None
    await redis.flushall()  # a restart without persistence
    assert await engine.get(management.DIGEST_KIND, management.DIGEST_KEY) is None
    await runtime.poller.poll_once()  # notices the reminders are gone and rebuilds them
    assert await engine.get(management.DIGEST_KIND, management.DIGEST_KEY) == pending


async def test_a_digest_delivered_twice_is_posted_once(teams: TeamsClient, runtime: Runtime,
                                                       clock: FakeClock) -> None:
    await register(teams, management=MANAGEMENT)
    due = clock.now()
    timer = Timer(management.DIGEST_KIND, management.DIGEST_KEY, due, token="claim-1", attempt=1)
    again = Timer(management.DIGEST_KIND, management.DIGEST_KEY, due, token="claim-2", attempt=2)  # after a lease
    await management.on_digest(runtime.services, timer)
    await management.on_digest(runtime.services, again)
    assert len(management_cards(teams)) == 1


async def test_a_digest_that_could_not_be_posted_is_tried_again(teams: TeamsClient, runtime: Runtime,
                                                                clock: FakeClock) -> None:
    await register(teams, management=MANAGEMENT)
    timer = Timer(management.DIGEST_KIND, management.DIGEST_KEY, clock.now(), token="claim-1", attempt=1)
    teams.connector.failures.append((403, {}))  # refused: nothing was posted
    with pytest.raises(SendFailed):
        await management.on_digest(runtime.services, timer)
    assert management_cards(teams) == []
    await management.on_digest(runtime.services, Timer(timer.kind, timer.key, timer.due, token="claim-2", attempt=2))
    assert len(management_cards(teams)) == 1


async def test_a_digest_maybe_posted_is_not_posted_again(teams: TeamsClient, runtime: Runtime,
                                                         clock: FakeClock) -> None:
    await register(teams, management=MANAGEMENT)
    timer = Timer(management.DIGEST_KIND, management.DIGEST_KEY, clock.now(), token="claim-1", attempt=1)
    teams.connector.failures.append((502, {}))  # a gateway error: Teams may have taken it
    await management.on_digest(runtime.services, timer)  # done with: no retry
    await management.on_digest(runtime.services, Timer(timer.kind, timer.key, timer.due, token="claim-2", attempt=2))
    assert management_cards(teams) == []
    following = await runtime.services.timers.get(management.DIGEST_KIND, management.DIGEST_KEY)
    assert following is not None and following.due > timer.due  # the next one is planned all the same


@pytest.fixture
async def replicas(redis: Redis, redis_url: str, sandbox: RunningSandbox, clock: FakeClock
                   ) -> AsyncIterator[list[TestServer]]:
    """Three bot replicas sharing one Redis and one Odoo, as behind a load balancer."""
    servers = []
    for _ in range(3):
        server = TestServer(create_app(bot_settings(redis_url, sandbox.url), clock=clock.now), host="127.0.0.1")
        await server.start_server()
        servers.append(server)
    yield servers
    for server in servers:
        await server.close()


async def test_three_replicas_post_one_digest(replicas: list[TestServer], connector: tuple[ConnectorStub, str],
                                              clock: FakeClock) -> None:
    stub, connector_url = connector
    async with aiohttp.ClientSession() as session:
        teams = TeamsClient(str(replicas[0].make_url("/api/messages")), connector_url, stub, session, AGENT)
        await register(teams, management=MANAGEMENT)
    runtimes = [server.app[RUNTIME] for server in replicas]
    engines = [runtime.services.timers for runtime in runtimes]
    pending = [await engine.get(management.DIGEST_KIND, management.DIGEST_KEY) for engine in engines]
    assert pending[0] is not None and all(timer == pending[0] for timer in pending)  # one digest, kept by each
    clock.current = pending[0].due
    for _ in range(3):
        await asyncio.gather(*(runtime.worker.run_once() for runtime in runtimes))
    digests = [p for p in stub.cards_in(MANAGEMENT) if "digest" in card_text(p.card or {})]
    assert len(digests) == 1


# ---- the profile's management section --------------------------------------------------------------

def test_the_shipped_profiles_say_when_management_hears(tmp_path: Any) -> None:
    mindx = load_profile("mindx")
    assert mindx.management.priority_users == 20 and mindx.management.priority_open_for == timedelta(hours=4)
    assert mindx.management.digest is not None and mindx.management.digest.describe() == "08:30 every day"
    assert mindx.classes["expedite"].resolve_within == timedelta(hours=4)  # type: ignore[index]
    weekly = load_profile("odoo-ps").management.digest
    assert weekly is not None and weekly.every is DigestEvery.WEEK and weekly.describe() == "08:30 every monday"


@pytest.mark.parametrize(("section", "error"), [
    ("management:\n  priority_threshold:\n    users: 30\n",
     "management.priority_threshold.users: must be a Priority ticket's number of users, from "
     "thresholds.priority_min_users (5) to 25, got 30"),
    ("management:\n  priority_threshold:\n    open_for: 4 hours\n",
     "management.priority_threshold.open_for: '4 hours' is not a duration"),
    ("management:\n  priority_threshold: {}\n", "management.priority_threshold: give `users`, `open_for` or both"),
    ("management:\n  digest:\n    at: 8:30\n",
     'management.digest.at: expected a time of day in quotes, such as "08:30"'),
    ("management:\n  digest:\n    at: \"25:00\"\n", "management.digest.at: '25:00' is not a time of day"),
    ("management:\n  digest:\n    at: \"08:30\"\n    every: month\n",
     "management.digest.every: 'month' is not how often (use 'day' or 'week')"),
    ("management:\n  digest:\n    at: \"08:30\"\n    on: monday\n",
     "management.digest.on: only a weekly digest (`every: week`) has a day"),
    ("management:\n  digest:\n    at: \"08:30\"\n    every: week\n    on: funday\n",
     "management.digest.on: 'funday' is not a day of the week"),
    ("management:\n  digest:\n    time: \"08:30\"\n",
     "management.digest.time: unknown key (expected 'at', 'every' or 'on')"),
])
def test_a_wrong_management_section_names_its_line_and_key(tmp_path: Any, section: str, error: str) -> None:
    text = (PROFILES_DIR / "mindx.yaml").read_text(encoding="utf-8")
    written = text.split("\nmanagement:\n")[0] + "\n" + section
    path = tmp_path / "team.yaml"
    path.write_text(written, encoding="utf-8")
    with pytest.raises(ProfileError) as raised:
        load_profile(path)
    line = len(written.splitlines())  # each mistake is on the section's last line
    assert str(raised.value).startswith(f"{path}:{line}: {error}")
