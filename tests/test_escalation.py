"""Escalation (step 4) through the real bot: the card in the team's channel, answers from it
(Action.Execute invokes over HTTP), refusals, concurrent clicks, and passing it up the chain.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from bot.escalation.model import Answer
from bot.handlers import escalation as escalation_handlers
from bot.server import Runtime
from tests.conftest import AGENT, LEAD, STRANGER, FakeClock, RunningSandbox
from tests.support.markdown import card_constructs, card_visible
from tests.support.odoo_view import OdooView
from tests.support.teams import TeamsClient, TeamsUser, card_elements, card_text

DEV = "19:dev@thread.tacv2"
SENIOR = "19:senior@thread.tacv2"
MANAGEMENT = "19:management@thread.tacv2"
DEVOPS = "19:devops@thread.tacv2"
CONTENT = "19:content@thread.tacv2"
DUC = TeamsUser("29:dev-duc", "Võ Minh Đức", "duc.vm@mindx.edu.vn")
MARKED = "**[Mai](https://evil.example)**_now_"  # a display name, or an answer, written in Markdown
MAI = TeamsUser("29:dev-mai", "Lê Thị Mai", "mai.lt@mindx.edu.vn")  # a developer with no Odoo user


async def register(teams: TeamsClient, **channels: str) -> None:
    for name, conversation in channels.items():
        await teams.say_in_channel(f"/ticket channel {name.replace('_', '-')}", conversation, sender=LEAD)


def escalation_id(card: dict[str, Any]) -> str:
    return str(card["refresh"]["action"]["data"]["escalation"])


async def priority_ticket(teams: TeamsClient, odoo: OdooView) -> int:
    await teams.card("/ticket new WEB101 attendance report times out users:16 customer:coordinator.ha@mindx.edu.vn\n"
                     "Teachers cannot open the attendance report since 14:00.")
    tid = int(odoo.newest_ticket()["id"])
    await teams.card(f"/ticket diag {tid} App Insights: /report p95 2s -> 35s since 14:00\n"
                     "SlowQueryWarning 28-32s on attendance; DB pool 85/100")
    return tid


async def click(teams: TeamsClient, answer: Answer, card: dict[str, Any], *, by: TeamsUser = DUC,
                channel: str = DEV, **inputs: str) -> dict[str, Any]:
    status, body = await teams.invoke(answer.value, {"escalation": escalation_id(card), **inputs}, channel=channel,
                                      sender=by)
    assert status == 200
    assert body["type"] == "application/vnd.microsoft.card.adaptive"
    return dict(body["value"])


async def test_an_escalation_card_carries_the_full_context(teams: TeamsClient, odoo: OdooView) -> None:
    await register(teams, dev=DEV)
    tid = await priority_ticket(teams, odoo)
    number = odoo.ticket(tid)["number"]
    answer = card_text(await teams.card(f"/ticket escalate {tid} dev 16 teachers blocked; parents' meeting at "
                                        "17:00"))
    assert f"{number} escalated" in answer and "Dev team: must acknowledge by 15:48" in answer  # Priority: 15 min

    [posted] = teams.connector.cards_in(DEV)
    text = card_text(posted.card or {})
    for expected in ("Escalation to the Dev team", f"{number} · WEB101 attendance report times out",
                     "Class of service: Priority", "Users affected: 16", "Owner: Phạm Quốc Huy",
                     "16 teachers blocked; parents' meeting at 17:00", "SlowQueryWarning 28-32s",
                     "Teachers cannot open the attendance report", "waiting for the Dev team to acknowledge",
                     "[Acknowledge]", "[Need info]", "[Resolved]", "[Decline]", "[Open in Odoo]"):
        assert expected in text, expected
    note = odoo.messages(tid, subtype="Note")[-1]["body"]
    assert "Escalated to the Dev team: 16 teachers blocked" in note and AGENT.name in note


async def test_escalating_needs_a_known_team_and_its_channel(teams: TeamsClient, odoo: OdooView) -> None:
    tid = await priority_ticket(teams, odoo)
    notes = len(odoo.messages(tid))
    refused = card_text(await teams.card(f"/ticket escalate {tid} dev"))
    assert "No channel is registered for dev" in refused and "/ticket channel dev" in refused
    refused = card_text(await teams.card(f"/ticket escalate {tid} plumbers"))
    assert "`plumbers` is not an escalation team" in refused and "devops" in refused
    assert len(odoo.messages(tid)) == notes  # nothing was written
    assert teams.connector.cards_in(DEV) == []


async def test_a_member_acknowledges_and_everyone_sees_it(teams: TeamsClient, odoo: OdooView,
                                                          clock: FakeClock) -> None:
    await register(teams, dev=DEV)
    tid = await priority_ticket(teams, odoo)
    await teams.card(f"/ticket escalate {tid} dev Teachers blocked")
    [posted] = teams.connector.cards_in(DEV)
    clock.advance(minutes=7)
    before = len(teams.connector.posted)

    shown = card_text(await click(teams, Answer.ACKNOWLEDGE, posted.card or {}, by=MAI))
    assert "Acknowledged by Lê Thị Mai" in shown and "(7m after it was posted)" in shown
    assert "[Acknowledge]" not in shown and "[Resolved]" in shown
    [update] = [u for u in teams.connector.updated if u.id == posted.id]  # the channel's card, for everyone
    assert update.conversation_id.startswith(DEV) and "Acknowledged by Lê Thị Mai" in card_text(update.card or {})
    note = odoo.messages(tid, subtype="Note")[-1]["body"]
    assert "Lê Thị Mai (Dev team) acknowledged the escalation" in note
    [told] = [p for p in teams.connector.posted[before:] if p.conversation_id.startswith(f"personal-{AGENT.id}")]
    assert "Lê Thị Mai (Dev team) acknowledged" in card_text(told.card or {})

    again = card_text(await click(teams, Answer.ACKNOWLEDGE, posted.card or {}, by=MAI))  # a double click
    assert "You have already acknowledged it." in again
    assert sum("acknowledged the escalation" in n["body"] for n in odoo.messages(tid, subtype="Note")) == 1


async def test_someone_outside_the_team_channel_is_refused(teams: TeamsClient, odoo: OdooView) -> None:
    await register(teams, dev=DEV, support="19:support@thread.tacv2")
    tid = await priority_ticket(teams, odoo)
    await teams.card(f"/ticket escalate {tid} dev Teachers blocked")
    [posted] = teams.connector.cards_in(DEV)
    notes = len(odoo.messages(tid))
    status, body = await teams.invoke(Answer.ACKNOWLEDGE.value, {"escalation": escalation_id(posted.card or {})},
                                      channel="19:support@thread.tacv2", sender=STRANGER)  # card data copied
    assert status == 200
    refused = card_text(body["value"])
    assert "Only the Dev team's channel can answer this escalation; elsewhere only a team lead or a manager" in refused
    assert "I can't find an Odoo user with your Teams email address" in refused  # nobody Odoo knows
    status, body = await teams.invoke(Answer.ACKNOWLEDGE.value, {"escalation": "999-1"}, channel=DEV, sender=DUC)
    assert "This escalation is not known" in card_text(body["value"])
    assert len(odoo.messages(tid)) == notes and teams.connector.updated == []
    shown = card_text(await click(teams, Answer.ACKNOWLEDGE, posted.card or {}))  # still open for the team
    assert "Acknowledged by Võ Minh Đức" in shown


async def test_two_people_acknowledging_at_once_get_one_outcome(teams: TeamsClient, odoo: OdooView) -> None:
    await register(teams, dev=DEV)
    tid = await priority_ticket(teams, odoo)
    await teams.card(f"/ticket escalate {tid} dev Teachers blocked")
    [posted] = teams.connector.cards_in(DEV)
    first, second = await asyncio.gather(click(teams, Answer.ACKNOWLEDGE, posted.card or {}, by=DUC),
                                         click(teams, Answer.ACKNOWLEDGE, posted.card or {}, by=MAI))
    texts = [card_text(first), card_text(second)]
    winners = [t for t in texts if "has already acknowledged it" not in t]
    assert len(winners) == 1
    winner = "Võ Minh Đức" if "Acknowledged by Võ Minh Đức" in winners[0] else "Lê Thị Mai"
    loser_text = next(t for t in texts if t is not winners[0])
    assert f"{winner} has already acknowledged it." in loser_text and f"Acknowledged by {winner}" in loser_text
    notes = [n["body"] for n in odoo.messages(tid, subtype="Note") if "acknowledged the escalation" in n["body"]]
    assert len(notes) == 1 and winner in notes[0]


async def test_need_info_then_resolved(teams: TeamsClient, odoo: OdooView) -> None:
    await register(teams, dev=DEV)
    tid = await priority_ticket(teams, odoo)
    await teams.card(f"/ticket escalate {tid} dev Teachers blocked")
    [posted] = teams.connector.cards_in(DEV)
    card = posted.card or {}

    empty = card_text(await click(teams, Answer.NEED_INFO, card))
    assert "Please write what you need before sending." in empty
    assert not any("needs more information" in n["body"] for n in odoo.messages(tid, subtype="Note"))

    asked = card_text(await click(teams, Answer.NEED_INFO, card, info="Which class ids? Send a HAR file."))
    assert "Võ Minh Đức needs more information: Which class ids? Send a HAR file." in asked
    assert "[Need info]" not in asked and "[Acknowledge]" in asked
    assert "needs more information on the escalation" in odoo.messages(tid, subtype="Note")[-1]["body"]

    done = card_text(await click(teams, Answer.RESOLVED, card, resolution="Index on attendance.class_id added."))
    assert "Resolved by Võ Minh Đức" in done and "Index on attendance.class_id added." in done
    assert not any(f"[{title}]" in done for title in ("Acknowledge", "Need info", "Resolved", "Decline"))
    assert "resolved the escalation" in odoo.messages(tid, subtype="Note")[-1]["body"]
    late = card_text(await click(teams, Answer.DECLINE, card, why="Not ours"))
    assert "It is already resolved (Võ Minh Đức)." in late


async def test_names_and_words_people_wrote_show_as_written(teams: TeamsClient, odoo: OdooView) -> None:
    await register(teams, dev=DEV)
    await teams.card("/ticket help")  # the owner's 1:1 chat is known: the owner is told there
    tid = await priority_ticket(teams, odoo)
    await teams.card(f"/ticket escalate {tid} dev Teachers blocked")
    [posted] = teams.connector.cards_in(DEV)
    hostile = TeamsUser("29:dev-hostile", MARKED, "hostile@mindx.edu.vn")
    before = len(teams.connector.posted)
    await click(teams, Answer.NEED_INFO, posted.card or {}, by=hostile, info=MARKED)
    [told] = [p for p in teams.connector.posted[before:] if p.conversation_id.startswith(f"personal-{AGENT.id}")]
    await click(teams, Answer.ACKNOWLEDGE, posted.card or {}, by=hostile)
    again = await click(teams, Answer.ACKNOWLEDGE, posted.card or {}, by=DUC)
    for card in (told.card or {}, again):
        assert not {"link_open", "strong_open", "em_open", "mobile link"} & set(card_constructs(card))
    assert f"{MARKED} (Dev team) needs more information on the escalation of" in card_visible(told.card or {})
    assert f"{MARKED} has already acknowledged it." in card_visible(again)


async def test_nobody_acknowledges_so_it_goes_up_the_chain(teams: TeamsClient, odoo: OdooView, runtime: Runtime,
                                                           clock: FakeClock) -> None:
    await register(teams, dev=DEV, senior=SENIOR)
    await teams.card("/ticket help")  # the owner's 1:1 chat is known to the bot
    tid = await priority_ticket(teams, odoo)
    await teams.card(f"/ticket escalate {tid} dev Teachers blocked")
    [dev_card] = teams.connector.cards_in(DEV)
    clock.advance(minutes=14)
    await runtime.worker.run_once()
    assert teams.connector.cards_in(SENIOR) == []

    clock.advance(minutes=2)
    before = len(teams.connector.posted)
    await runtime.worker.run_once()
    [senior_card] = teams.connector.cards_in(SENIOR)
    senior = card_text(senior_card.card or {})
    assert "The Dev team did not acknowledge it in time: it is yours now." in senior
    assert "Escalation to the Senior engineers" in senior and "SlowQueryWarning" in senior
    [old] = [u for u in teams.connector.updated if u.id == dev_card.id]
    assert "passed on to the Senior engineers" in card_text(old.card or {})
    told = [card_text(p.card or {}) for p in teams.connector.posted[before:]
            if p.conversation_id.startswith(f"personal-{AGENT.id}")]
    assert any("did not acknowledge the escalation" in t and "passed on to the Senior engineers" in t for t in told)

    await runtime.worker.run_once()  # nothing fires twice
    assert len(teams.connector.cards_in(SENIOR)) == 1
    refused = card_text(await click(teams, Answer.ACKNOWLEDGE, dev_card.card or {}))  # too late on the old card
    assert "It was passed on to the Senior engineers: answer there." in refused
    shown = card_text(await click(teams, Answer.ACKNOWLEDGE, senior_card.card or {}, channel=SENIOR))
    assert "Acknowledged by Võ Minh Đức" in shown
    clock.advance(hours=5)
    await runtime.worker.run_once()
    assert teams.connector.cards_in(MANAGEMENT) == []  # acknowledged: the chain stops


async def test_a_slow_odoo_still_gets_the_card_answered(teams: TeamsClient, odoo: OdooView, sandbox: RunningSandbox,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    await register(teams, dev=DEV)
    tid = await priority_ticket(teams, odoo)
    await teams.card(f"/ticket escalate {tid} dev Teachers blocked")
    [posted] = teams.connector.cards_in(DEV)
    monkeypatch.setattr(escalation_handlers, "ANSWER_WITHIN", 0.2)
    sandbox.odoo.latency = 0.5  # every Odoo call: the answer needs two
    shown = card_text(await click(teams, Answer.ACKNOWLEDGE, posted.card or {}))
    assert "Working on it: Odoo is slow right now." in shown
    for _ in range(100):  # the answer finishes on its own, then the channel's card is redrawn
        if any(u.id == posted.id for u in teams.connector.updated):
            break
        await asyncio.sleep(0.05)
    [update] = [u for u in teams.connector.updated if u.id == posted.id]
    assert "Acknowledged by Võ Minh Đức" in card_text(update.card or {})
    assert "acknowledged the escalation" in odoo.messages(tid, subtype="Note")[-1]["body"]


async def test_an_action_submit_fallback_answers_like_the_invoke(teams: TeamsClient, odoo: OdooView) -> None:
    await register(teams, dev=DEV)
    tid = await priority_ticket(teams, odoo)
    await teams.card(f"/ticket escalate {tid} dev Teachers blocked")
    [posted] = teams.connector.cards_in(DEV)
    [fallback] = [a["fallback"] for a in (posted.card or {})["actions"] if a.get("title") == "Acknowledge"]
    replies = await teams.submit(fallback["data"], channel=DEV)
    assert any("Acknowledged by Phạm Quốc Huy" in card_text(r.card or {}) for r in replies)
    assert "acknowledged the escalation" in odoo.messages(tid, subtype="Note")[-1]["body"]


async def test_a_hand_over_that_fails_half_way_is_done_again(teams: TeamsClient, odoo: OdooView, runtime: Runtime,
                                                             clock: FakeClock) -> None:
    await register(teams, dev=DEV, senior=SENIOR)
    tid = await priority_ticket(teams, odoo)
    await teams.card(f"/ticket escalate {tid} dev Teachers blocked")
    clock.advance(minutes=16)
    teams.connector.failures.append((403, {}))  # Teams refuses the senior engineers' card once (not a 5xx: ambiguous)
    await runtime.worker.run_once()
    assert teams.connector.cards_in(SENIOR) == []
    clock.advance(minutes=2)  # the failed delivery's lease ends: the timer comes back
    await runtime.worker.run_once()
    await runtime.worker.run_once()
    [senior_card] = teams.connector.cards_in(SENIOR)
    assert "it is yours now" in card_text(senior_card.card or {})
    passed = [n["body"] for n in odoo.messages(tid, subtype="Note") if "Escalated to the Senior engineers" in n["body"]]
    assert len(passed) == 1


async def test_a_team_lead_may_answer_from_anywhere(teams: TeamsClient, odoo: OdooView) -> None:
    await register(teams, dev=DEV)
    tid = await priority_ticket(teams, odoo)
    await teams.card(f"/ticket escalate {tid} dev Teachers blocked")
    [posted] = teams.connector.cards_in(DEV)
    await teams.say("/ticket list mine", sender=LEAD)  # Trần Thị Lan is a Helpdesk Manager in Odoo
    status, body = await teams.invoke(Answer.ACKNOWLEDGE.value, {"escalation": escalation_id(posted.card or {})},
                                      sender=LEAD)  # from her 1:1 chat
    assert status == 200 and "Acknowledged by Trần Thị Lan" in card_text(body["value"])
    status, body = await teams.invoke(Answer.DECLINE.value, {"escalation": escalation_id(posted.card or {}),
                                                             "why": "not ours"}, sender=AGENT)  # not a lead
    assert "elsewhere only a team lead or a manager may (Trần Thị Lan" in card_text(body["value"])


async def test_a_team_on_standby_gets_a_heads_up_with_no_clock(teams: TeamsClient, odoo: OdooView,
                                                               clock: FakeClock, runtime: Runtime) -> None:
    """Seed 5: "requested standby for potential escalation". A card to read, nothing to answer, nothing that
    passes it on: an escalation would come as its own card."""
    await register(teams, devops=DEVOPS, senior=SENIOR)
    tid = await priority_ticket(teams, odoo)
    answer = card_text(await teams.card(f"/ticket standby {tid} devops The CDN may have to re-sign lesson 3"))
    assert "DevOps team: on standby (a heads-up in their channel, no clock)." in answer
    [heads_up] = teams.connector.cards_in(DEVOPS)
    shown = card_text(heads_up.card or {})
    assert "Heads-up for the DevOps team: on standby" in shown and "The CDN may have to re-sign lesson 3" in shown
    assert not [e for e in card_elements(heads_up.card or {}) if e["type"] in ("Action.Execute", "Action.Submit")]
    assert "On standby: DevOps team: The CDN may have to re-sign lesson 3" in odoo.messages(tid, subtype="Note")[-1][
        "body"]
    clock.advance(hours=5)  # far past any acknowledgment time
    await runtime.worker.run_once()
    assert teams.connector.cards_in(SENIOR) == []  # nothing climbed: there was no clock


async def test_standby_for_a_team_without_a_channel_or_unknown_is_refused(teams: TeamsClient,
                                                                          odoo: OdooView) -> None:
    tid = await priority_ticket(teams, odoo)
    before = len(odoo.messages(tid))
    assert "No channel is registered for devops" in card_text(await teams.card(f"/ticket standby {tid} devops"))
    assert "`plumbers` is not an escalation team" in card_text(await teams.card(f"/ticket standby {tid} plumbers"))
    assert len(odoo.messages(tid)) == before


async def test_a_new_tickets_class_alerts_the_leads_and_puts_the_first_team_on_standby(teams: TeamsClient,
                                                                                       odoo: OdooView) -> None:
    """The profile's alerts: Priority tells the leads (in their 1:1 chat with the bot), Expedite also puts the Dev
    team on standby at once (seed 3: "alert the Dev team immediately"); Standard tells nobody beyond the owner."""
    await register(teams, dev=DEV)
    await teams.card("/ticket list open", sender=LEAD)  # the lead has a 1:1 chat with the bot
    lead_chat = teams.personal(LEAD)["id"]

    def alerts_to_lead() -> list[str]:
        return [card_text(p.card or {}) for p in teams.connector.posted if p.conversation_id == lead_chat
                and "New " in card_text(p.card or {}) and " ticket: " in card_text(p.card or {})]

    standard = card_text(await teams.card("/ticket new Printer jams in room 2 users:1"))
    assert "Alerted" not in standard and alerts_to_lead() == [] and teams.connector.cards_in(DEV) == []
    priority = card_text(await teams.card("/ticket new Attendance report times out users:16"))
    assert "Alerted: the team leads." in priority
    [alert] = alerts_to_lead()
    assert f"New Priority ticket: {odoo.newest_ticket()['number']}" in alert and AGENT.name in alert
    assert teams.connector.cards_in(DEV) == []
    expedite = card_text(await teams.card("/ticket new Exam submissions fail users:53"))
    assert "Alerted: the team leads and Dev team on standby." in expedite
    [heads_up] = teams.connector.cards_in(DEV)
    assert "Heads-up for the Dev team: on standby" in card_text(heads_up.card or {})


async def test_an_escalation_does_not_climb_while_its_ticket_is_on_hold(teams: TeamsClient, odoo: OdooView,
                                                                        runtime: Runtime, clock: FakeClock) -> None:
    """Scenario 4: the feature request waits on the product team, on hold; its unanswered escalation climbed to
    the senior engineers and management. On Hold pauses the chain; resumed, it climbs again."""
    await register(teams, product=DEVOPS, senior=SENIOR)
    tid = await priority_ticket(teams, odoo)
    await teams.card(f"/ticket escalate {tid} product Parents want weekly PDF reports")
    await teams.card(f"/ticket hold {tid} Waiting for the product roadmap")
    for _ in range(4):  # an hour past its 15 minutes to acknowledge, looked at again and again
        clock.advance(minutes=16)
        await runtime.worker.run_once()
    assert teams.connector.cards_in(SENIOR) == []
    await teams.card(f"/ticket resume {tid}")
    clock.advance(minutes=16)
    await runtime.worker.run_once()
    [senior_card] = teams.connector.cards_in(SENIOR)
    assert "The Product team did not acknowledge it in time" in card_text(senior_card.card or {})
