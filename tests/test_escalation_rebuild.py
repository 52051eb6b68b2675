"""Escalations given back from Odoo after Redis lost them (bot/escalation/rebuild.py), through the real bot: Redis
is flushed (what a restart without an append-only file leaves), the poller notices and rebuilds from the
tickets' chatter, and the timer worker posts the cards again.

The pure part first: how `bot.insights.timeline` reads an escalation's story (ids, answers, passing on)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from redis.asyncio import Redis

from bot.chatter_words import escalation_tag
from bot.escalation.model import Answer, Status
from bot.escalation.service import TIMER_KIND
from bot.escalation.store import EscalationStore
from bot.insights.model import ChatterEntry, TicketHistory
from bot.insights.timeline import escalations, events, passed_on
from bot.process import ClassOfService, Stage, load_profile
from bot.reminders.poller import rebuild_reminders
from bot.server import Runtime
from bot.tickets import OdooUser, Ticket, TicketFacts
from tests.conftest import AGENT, FakeClock, RunningSandbox
from tests.support.odoo_view import OdooView
from tests.support.teams import TeamsClient, card_text
from tests.test_escalation import DEV, DEVOPS, DUC, MANAGEMENT, SENIOR, escalation_id, priority_ticket, register

POSTED_AGAIN = "Posted again: I lost this escalation when my storage restarted"

# ---- the story in the chatter (pure) ----------------------------------------------------------------------------

T0 = datetime(2025, 1, 29, 8, 33, tzinfo=UTC)
PROFILE = load_profile("mindx")


def note(minutes: float, text: str, *ids: str, by: str = "Phạm Quốc Huy") -> ChatterEntry:
    return ChatterEntry(T0 + timedelta(minutes=minutes), by, True, False, text,
                        (escalation_tag(ids),) if ids else ())


def story(*chatter: ChatterEntry) -> TicketHistory:
    ticket = Ticket(id=5, number="HT00005", title="Attendance report times out", description="", stage="In Progress",
                    stage_key=Stage.IN_PROGRESS, priority="2", cos=ClassOfService.PRIORITY, created=T0, updated=T0,
                    facts=TicketFacts(users=16), owner=OdooUser(7, "Phạm Quốc Huy"), customer=None,
                    tags=("priority",), url="")
    return TicketHistory(ticket, None, chatter)


def test_notes_with_ids_go_with_their_escalation_whatever_the_order_of_the_teams() -> None:
    found = escalations(events(story(
        note(0, "Escalated to the Dev team, DevOps team: 16 teachers blocked", "5-a-dev", "5-a-devops"),
        note(4, "Đức (Dev team) acknowledged the escalation of HT00005.", "5-a-dev"),
        note(9, "Đức (Dev team) needs more information on the escalation of HT00005: which class?", "5-a-dev"),
        note(15, "Escalation not acknowledged in time by the DevOps team: passed on to the Senior engineers.",
             "5-a-devops", by="Support bot"),
        note(15, "Escalated to the Senior engineers: 16 teachers blocked", "5-b-senior"),
    )))
    dev, devops, senior = found
    assert (dev.id, dev.reason, dev.by) == ("5-a-dev", "16 teachers blocked", "Phạm Quốc Huy")
    assert [a.verb for a in dev.answers] == ["acknowledged", "needs more information on"]
    assert dev.answers[-1].text == "which class?" and dev.answered_at == T0 + timedelta(minutes=4)
    assert not dev.finished  # working on it
    assert devops.finished and devops.passed_to == "Senior engineers" and devops.answered_at is None
    assert senior.previous == "DevOps team" and not senior.finished and senior.answers == ()


def test_notes_without_ids_go_with_the_teams_latest_escalation_still_waiting() -> None:
    found = escalations(events(story(
        note(0, "Escalated to the Dev team: first"),
        note(3, "Đức (Dev team) acknowledged the escalation of HT00005."),
        note(5, "Đức (Dev team) resolved the escalation of HT00005: index added."),
        note(60, "Escalated to the Dev team: again"),
        note(61, "Escalation not acknowledged in time by the Dev team: nobody further up the chain to pass it to."),
    )))
    assert [(r.reason, r.finished, r.id) for r in found] == [("first", True, ""), ("again", True, "")]
    assert found[0].answers[-1].text == "index added." and found[1].passed_to == ""


def test_only_the_bots_pass_on_note_counts_as_passing_on() -> None:
    assert passed_on("Escalation not acknowledged in time by the Dev team: passed on to the Senior engineers.") \
        == ("Dev team", "Senior engineers")
    assert passed_on("Escalation not acknowledged in time by the Management: nobody further up the chain to pass it "
                     "to.") == ("Management", "")
    assert passed_on("Escalation not acknowledged in time by the Dev team: they were at lunch") is None
    assert passed_on("Escalated to the Dev team: slow") is None


# ---- through the bot ----------------------------------------------------------------------------------------------

async def redis_loses_everything(redis: Redis, runtime: Runtime, teams: TeamsClient | None = None,
                                 **channels: str) -> None:
    """What a restart without an append-only file leaves: nothing. Then `channels` registered again (none: not
    yet), and the poller's next look."""
    await redis.flushall()
    if teams is not None:
        await register(teams, **channels)
    await runtime.poller.poll_once()


async def click(teams: TeamsClient, answer: Answer, card: dict[str, Any], channel: str, **inputs: str) -> str:
    status, body = await teams.invoke(answer.value, {"escalation": escalation_id(card), **inputs}, channel=channel,
                                      sender=DUC)
    assert status == 200
    return card_text(body["value"])


def notes_saying(odoo: OdooView, tid: int, text: str) -> int:
    return sum(text in message["body"] for message in odoo.messages(tid, subtype="Note"))


async def test_an_unanswered_escalation_comes_back_with_one_new_card_that_works(
        teams: TeamsClient, odoo: OdooView, runtime: Runtime, redis: Redis, clock: FakeClock) -> None:
    """Figures: 1 card posted again (none while the channel was not registered again, none more after two
    more rebuilds, one of them on two replicas at once); Acknowledge on it recorded once; no passing on after."""
    await register(teams, dev=DEV, senior=SENIOR)
    tid = await priority_ticket(teams, odoo)
    await teams.card(f"/ticket escalate {tid} dev 16 teachers blocked")  # 15:33, due by 15:48
    [first] = teams.connector.cards_in(DEV)
    clock.advance(minutes=5)

    await redis_loses_everything(redis, runtime)
    assert await EscalationStore(runtime.services.store).get(escalation_id(first.card or {})) is not None  # given back
    await runtime.worker.run_once()
    assert teams.connector.cards_in(DEV) == [first]  # its channel is not registered again yet: it waits

    await register(teams, dev=DEV, senior=SENIOR)
    clock.advance(minutes=1)  # it looks for the channel again a minute later
    await runtime.worker.run_once()
    [_, again] = teams.connector.cards_in(DEV)
    shown = card_text(again.card or {})
    for expected in (POSTED_AGAIN, "Escalation to the Dev team", "16 teachers blocked", "SlowQueryWarning 28-32s",
                     "Escalated by: Phạm Quốc Huy, 15:33", "waiting for the Dev team to acknowledge, by 15:48",
                     "[Acknowledge]"):
        assert expected in shown, expected
    assert escalation_id(again.card or {}) == escalation_id(first.card or {})  # the old card's clicks work too

    await rebuild_reminders(runtime.services)  # a replica starting
    await asyncio.gather(rebuild_reminders(runtime.services), rebuild_reminders(runtime.services))  # two at once
    for _ in range(3):
        await runtime.worker.run_once()
    assert len(teams.connector.cards_in(DEV)) == 2

    clock.advance(minutes=2)
    shown = await click(teams, Answer.ACKNOWLEDGE, again.card or {}, DEV)
    assert "Acknowledged by Võ Minh Đức" in shown and "(8m after it was posted)" in shown
    [redrawn] = [u for u in teams.connector.updated if u.id == again.id]  # the new card, redrawn in place
    assert "Acknowledged by Võ Minh Đức" in card_text(redrawn.card or {})
    assert notes_saying(odoo, tid, "Võ Minh Đức (Dev team) acknowledged the escalation") == 1
    clock.advance(hours=1)
    await runtime.worker.run_once()
    assert teams.connector.cards_in(SENIOR) == []  # acknowledged: nothing passed on


async def test_one_past_its_deadline_is_posted_again_and_passed_on_once(
        teams: TeamsClient, odoo: OdooView, runtime: Runtime, redis: Redis, clock: FakeClock) -> None:
    """Figures: the deadline passed while Redis was empty: 1 card posted again (showing it passed on), 1 card for
    the senior engineers, 1 pass-on note and 1 "Escalated to the Senior engineers" note, the owner told once;
    0 more after another rebuild and further rounds of the timer worker."""
    await register(teams, dev=DEV, senior=SENIOR)
    await teams.card("/ticket list mine")  # the owner's 1:1 chat is known (lost with Redis, found again below)
    tid = await priority_ticket(teams, odoo)
    await teams.card(f"/ticket escalate {tid} dev 16 teachers blocked")
    clock.advance(minutes=20)  # 5 minutes past the deadline

    await redis.flushall()
    await register(teams, dev=DEV, senior=SENIOR)
    await teams.card("/ticket list mine")
    await runtime.poller.poll_once()
    told_before = len(teams.connector.posted)
    await runtime.worker.run_once()
    [_, again] = teams.connector.cards_in(DEV)
    [redrawn] = [u for u in teams.connector.updated if u.id == again.id]
    assert "passed on to the Senior engineers" in card_text(redrawn.card or {})
    [senior] = teams.connector.cards_in(SENIOR)
    assert "The Dev team did not acknowledge it in time: it is yours now." in card_text(senior.card or {})

    await rebuild_reminders(runtime.services)
    clock.advance(minutes=1)
    for _ in range(3):
        await runtime.worker.run_once()
    assert len(teams.connector.cards_in(DEV)) == 2 and len(teams.connector.cards_in(SENIOR)) == 1
    assert notes_saying(odoo, tid, "Escalation not acknowledged in time by the Dev team: passed on to the Senior "
                                   "engineers.") == 1
    assert notes_saying(odoo, tid, "Escalated to the Senior engineers: 16 teachers blocked") == 1
    told = [p for p in teams.connector.posted[told_before:] if p.conversation_id.startswith(f"personal-{AGENT.id}")]
    assert len(told) == 1 and "passed on to the Senior engineers" in card_text(told[0].card or {})


async def test_answered_escalations_are_not_posted_again_and_an_acknowledged_card_still_works(
        teams: TeamsClient, odoo: OdooView, runtime: Runtime, redis: Redis, clock: FakeClock) -> None:
    """Figures: one escalation acknowledged, one declined, then Redis lost both: 0 cards posted again, 0 timers
    armed; the acknowledged one is back as acknowledged, so Resolved on its old card is recorded once; the
    declined one is not known any more."""
    await register(teams, dev=DEV, devops=DEVOPS)
    tid = await priority_ticket(teams, odoo)
    await teams.card(f"/ticket escalate {tid} dev,devops 16 teachers blocked")
    [dev_card], [devops_card] = teams.connector.cards_in(DEV), teams.connector.cards_in(DEVOPS)
    clock.advance(minutes=3)
    assert "Acknowledged by" in await click(teams, Answer.ACKNOWLEDGE, dev_card.card or {}, DEV)
    assert "Declined by" in await click(teams, Answer.DECLINE, devops_card.card or {}, DEVOPS, why="Not ours")

    await redis_loses_everything(redis, runtime, teams, dev=DEV, devops=DEVOPS)
    clock.advance(hours=1)
    await runtime.worker.run_once()
    assert len(teams.connector.cards_in(DEV)) == 1 and len(teams.connector.cards_in(DEVOPS)) == 1
    assert await runtime.services.timers.pending(TIMER_KIND) == []

    back = await EscalationStore(runtime.services.store).get(escalation_id(dev_card.card or {}))
    assert back is not None and back.status is Status.ACKNOWLEDGED and back.acknowledged_by == DUC.name
    shown = await click(teams, Answer.RESOLVED, dev_card.card or {}, DEV, resolution="Index added")
    assert "Resolved by Võ Minh Đức" in shown and "Acknowledged by Võ Minh Đức" in shown
    assert notes_saying(odoo, tid, "(Dev team) resolved the escalation") == 1
    gone = await click(teams, Answer.ACKNOWLEDGE, devops_card.card or {}, DEVOPS)
    assert "This escalation is not known (any more)" in gone


async def test_an_escalation_noted_before_ids_were_kept_comes_back_with_a_card_of_its_own(
        teams: TeamsClient, odoo: OdooView, runtime: Runtime, redis: Redis, clock: FakeClock) -> None:
    """Notes written by an older bot carry no id, so the card already in the channel cannot be matched: an
    acknowledged escalation gets a new card (one that works), given back as acknowledged. Figures: 1 card, 0
    timers, its Resolved recorded once; 1 card after a second rebuild."""
    await register(teams, dev=DEV)
    tid = await priority_ticket(teams, odoo)
    number = odoo.ticket(tid)["number"]
    for said in ("Escalated to the Dev team: 16 teachers blocked", f"Đức (Dev team) acknowledged the escalation of "
                                                                    f"{number}."):
        odoo.call("helpdesk.ticket", "message_post", [tid], body=f"<p><b>Phạm Quốc Huy</b> (via Teams):<br>{said}</p>",
                  message_type="comment", subtype_xmlid="mail.mt_note", body_is_html=True)
    clock.advance(minutes=30)

    await redis_loses_everything(redis, runtime, teams, dev=DEV)
    await runtime.worker.run_once()
    await rebuild_reminders(runtime.services)
    await runtime.worker.run_once()
    [card] = teams.connector.cards_in(DEV)
    shown = card_text(card.card or {})
    assert POSTED_AGAIN in shown and "Acknowledged by Đức" in shown and "[Acknowledge]" not in shown
    assert await runtime.services.timers.pending(TIMER_KIND) == []
    assert "Resolved by Võ Minh Đức" in await click(teams, Answer.RESOLVED, card.card or {}, DEV, resolution="Done")
    assert notes_saying(odoo, tid, "(Dev team) resolved the escalation") == 1


async def test_managements_escalation_comes_back_on_an_incident_card_whose_buttons_answer_it(
        teams: TeamsClient, odoo: OdooView, runtime: Runtime, redis: Redis, clock: FakeClock) -> None:
    """The management team answers on the incident card (no escalation card of its own). Figures: Redis lost the
    escalation and the card's place: 1 incident card posted again, carrying the same escalation, 0 escalation
    cards, 1 after another rebuild; Acknowledge on the old card recorded once."""
    await register(teams, management=MANAGEMENT)
    tid = await priority_ticket(teams, odoo)  # Priority, 16 users: no incident card until management is asked
    await teams.card(f"/ticket escalate {tid} management Teachers blocked: pay for the vendor's fix?")
    [first] = teams.connector.cards_in(MANAGEMENT)
    asked = (first.card or {})["actions"][0]["data"]["escalation"]
    clock.advance(minutes=5)

    await redis_loses_everything(redis, runtime, teams, management=MANAGEMENT)
    await runtime.worker.run_once()
    await rebuild_reminders(runtime.services)
    await runtime.worker.run_once()
    [_, again] = teams.connector.cards_in(MANAGEMENT)
    shown = card_text(again.card or {})
    assert "Priority ticket escalated to management" in shown and "Acknowledge it by 15:48" in shown
    assert (again.card or {})["actions"][0]["data"]["escalation"] == asked
    assert "Escalation to the" not in shown + card_text(first.card or {})

    clock.advance(minutes=1)
    status, body = await teams.invoke(Answer.ACKNOWLEDGE.value, {"escalation": asked}, channel=MANAGEMENT,
                                      sender=DUC)
    assert status == 200 and f"{DUC.name} (Management) took it on" in card_text(body["value"])
    assert notes_saying(odoo, tid, f"{DUC.name} (Management) acknowledged the escalation") == 1
    back = await EscalationStore(runtime.services.store).get(asked)
    assert back is not None and back.status is Status.ACKNOWLEDGED


async def test_the_rebuild_reads_the_chatter_of_a_page_of_tickets_in_one_call(
        teams: TeamsClient, odoo: OdooView, runtime: Runtime, redis: Redis, sandbox: RunningSandbox) -> None:
    """Figures: 3 tickets escalated, among the desk's open ones: the rebuild reads chatter once (one page), not
    once per ticket, and gives the 3 back."""
    await register(teams, dev=DEV)
    for _ in range(3):
        tid = await priority_ticket(teams, odoo)
        await teams.card(f"/ticket escalate {tid} dev 16 teachers blocked")
    await redis.flushall()
    before = sandbox.odoo.calls.copy()
    await rebuild_reminders(runtime.services)
    read = sandbox.odoo.calls - before
    assert read[("mail.message", "search_read")] == 1
    assert len(await runtime.services.timers.pending(TIMER_KIND)) == 3
