"""No ticket is forgotten: the scenarios' reminders, driven by a controlled clock.

The bot runs for real (HTTP, Redis, the Odoo double); the tests move the clock and run the
timer worker and the Odoo poller by hand, then read what the bot posted proactively.
"""

from __future__ import annotations

import re

import pytest

from bot.reminders.policy import Kind, importance
from bot.server import Runtime
from bot.timers.engine import DEFAULT_RANK
from tests.conftest import AGENT, LEAD, FakeClock, RunningSandbox
from tests.support.connector import Posted
from tests.support.odoo_view import OdooView
from tests.support.reminders import fire
from tests.support.teams import TeamsClient, card_elements, card_text

PERSONAL = f"personal-{AGENT.id}"
SUPPORT = "19:support@thread.tacv2"


def nags(posted: list[Posted], about: str, conversation: str = PERSONAL) -> list[str]:
    """The reminder cards about ticket `about` (its number) posted in `conversation`."""
    return [text for p in posted if p.card and p.conversation_id.startswith(conversation)
            and about in (text := card_text(p.card))]


async def new_ticket(teams: TeamsClient, odoo: OdooView, args: str) -> tuple[int, str]:
    """Log a ticket; its id and its number."""
    await teams.card(f"/ticket new {args}")
    ticket = odoo.newest_ticket()
    return int(ticket["id"]), str(ticket["number"])


async def test_scenario_2_priority_gets_a_reminder_every_15_minutes(
        teams: TeamsClient, runtime: Runtime, odoo: OdooView, clock: FakeClock) -> None:
    await teams.say_in_channel("/ticket channel support", SUPPORT, sender=LEAD)
    await teams.say("/ticket list mine", sender=LEAD)  # the team lead (Helpdesk Manager in Odoo) uses the bot
    tid, number = await new_ticket(teams, odoo, "WEB101 very slow users:16 customer:coordinator.ha@mindx.edu.vn")

    clock.advance(minutes=29)
    assert nags(await fire(runtime, teams), number) == []
    clock.advance(minutes=2)
    [ack_nag] = nags(await fire(runtime, teams), number)
    assert "is not acknowledged yet" in ack_nag and "[Post update]" in ack_nag and "[Snooze 15 min]" in ack_nag

    await teams.card(f"/ticket ack {tid}")
    assert await runtime.services.timers.get(Kind.ACK, str(tid)) is None
    clock.advance(minutes=14)
    assert nags(await fire(runtime, teams), number) == []
    clock.advance(minutes=2)
    [update_nag] = nags(await fire(runtime, teams), number)
    assert "due an update (Priority: at least every 15 minutes, even with no news)" in update_nag

    await teams.card(f"/ticket update {tid} Escalated to the dev team; next update in 15 minutes.")
    clock.advance(minutes=14)
    assert nags(await fire(runtime, teams), number) == []
    clock.advance(minutes=2)
    posted = await fire(runtime, teams)
    assert len(nags(posted, number)) == 1 and nags(posted, number, SUPPORT) == []  # first miss: the owner only
    assert nags(posted, number, f"personal-{LEAD.id}") == []
    clock.advance(minutes=16)
    posted = await fire(runtime, teams)  # second miss in a row: the lead and the support channel hear of it
    assert "(reminder 2)" in nags(posted, number)[0] and len(nags(posted, number, SUPPORT)) == 1
    assert len(nags(posted, number, f"personal-{LEAD.id}")) == 1

    await teams.card(f"/ticket resolve {tid} Index added; response time back to 2s.")
    assert await runtime.services.timers.get(Kind.UPDATE, str(tid)) is None
    assert await runtime.services.timers.get(Kind.FOLLOW_UP, str(tid)) is not None


async def test_scenario_4_on_hold_is_never_nagged(teams: TeamsClient, runtime: Runtime, odoo: OdooView,
                                                 clock: FakeClock) -> None:
    tid, number = await new_ticket(teams, odoo, "Weekly PDF reports for parents type:feature customer:cxo@company.com")
    await teams.card(f"/ticket ack {tid} Forwarded to the Product Team")
    await teams.card(f"/ticket hold {tid} Waiting for the Product Team roadmap")
    for _ in range(10):
        clock.advance(days=1)
        assert nags(await fire(runtime, teams), number) == []
    await teams.card(f"/ticket resume {tid}")
    clock.advance(hours=24, minutes=1)  # Standard: an update a day once it moves again
    [nag] = nags(await fire(runtime, teams), number)
    assert "due an update (Standard: at least every 24 hours, even with no news)" in nag


async def test_scenario_6_deadline_countdown(teams: TeamsClient, runtime: Runtime, odoo: OdooView,
                                             clock: FakeClock) -> None:
    clock.advance(hours=2, minutes=29)  # 18:02 local; due 09:00 tomorrow: 14h58m
    tid, number = await new_ticket(teams, odoo,
                                   "Enrollment report deadline:tomorrow@09:00 customer:director@mindx.edu.vn")
    await teams.card(f"/ticket ack {tid} MVP scope proposed")
    seen: list[str] = []
    for _ in range(40):  # step through the night half an hour at a time
        clock.advance(minutes=30)
        seen += [n for n in nags(await fire(runtime, teams), number) if "deadline" in n]
    shares = [share for n in seen for share in re.findall(r": (\d+%) of the time", n)]  # a card, or a line of one
    assert shares == ["50%", "75%", "90%"]
    assert any("the deadline" in n and "has come" in n for n in seen)
    told = [m["body"] for m in odoo.messages(tid, subtype="Discussions") if "Support bot" in m["body"]]
    assert len(told) == 3 and all("is due Thu 30 Jan 09:00" in body for body in told)  # the requester, 3 times
    [director] = {tuple(m["partner_ids"]) for m in odoo.messages(tid, subtype="Discussions")
                  if "Support bot" in m["body"]}
    assert director == (odoo.partner_id("director@mindx.edu.vn"),)


async def test_a_snooze_is_logged_and_moves_the_reminder(teams: TeamsClient, runtime: Runtime, odoo: OdooView,
                                                          clock: FakeClock) -> None:
    tid, number = await new_ticket(teams, odoo, "Projector broken users:2")
    clock.advance(minutes=31)
    assert len(nags(await fire(runtime, teams), number)) == 1
    [reply] = await teams.submit({"command": "snooze", "ticket": str(tid), "text": "15m"})
    assert reply.card is not None and "Snoozed 15m" in card_text(reply.card)
    assert "snoozed for 15m" in odoo.messages(tid, subtype="Note")[-1]["body"]
    clock.advance(minutes=14)
    assert nags(await fire(runtime, teams), number) == []
    clock.advance(minutes=2)
    assert len(nags(await fire(runtime, teams), number)) == 1


async def test_work_done_in_odoo_moves_the_timers(teams: TeamsClient, runtime: Runtime, odoo: OdooView,
                                                  sandbox: RunningSandbox, clock: FakeClock) -> None:
    await runtime.poller.poll_once()  # the first poll sets the cursors
    tid, _ = await new_ticket(teams, odoo, "Wi-Fi drops users:3 customer:teacher01@mindx.edu.vn")
    await teams.card(f"/ticket ack {tid}")
    engine = runtime.services.timers
    clock.advance(minutes=5)

    # the customer answers by e-mail in Odoo: somebody must reply within 30 minutes
    [partner] = odoo.call("res.partner", "search", [["email", "=", "teacher01@mindx.edu.vn"]])
    odoo.call("helpdesk.ticket", "message_post", [tid], body="Still dropping every 10 minutes",
              message_type="email", author_id=partner)
    await runtime.poller.poll_once()
    waiting = await engine.get(Kind.CUSTOMER_REPLY, str(tid))
    assert waiting is not None and waiting.due == clock.now() + runtime.services.profile.customer_reply_within

    # an agent answers in Odoo's UI: the customer waits no more, and the update cadence restarts
    clock.advance(minutes=3)
    lan = odoo.user_id("lan.tt@mindx.edu.vn")
    sandbox.odoo.call(lan, "helpdesk.ticket", "message_post", [[tid]],
                      {"body": "We are replacing the access point.", "message_type": "comment",
                       "subtype_xmlid": "mail.mt_comment"})
    await runtime.poller.poll_once()
    assert await engine.get(Kind.CUSTOMER_REPLY, str(tid)) is None
    update = await engine.get(Kind.UPDATE, str(tid))
    standard = runtime.services.profile.classes["standard"]  # type: ignore[index]
    assert update is not None and update.due == clock.now() + standard.update_every

    # someone puts it on hold in Odoo: no more update reminders
    [on_hold] = odoo.call("helpdesk.ticket.stage", "search", [["name", "=", "On Hold"]])
    odoo.call("helpdesk.ticket", "write", [tid], {"stage_id": on_hold})
    await runtime.poller.poll_once()
    assert await engine.get(Kind.UPDATE, str(tid)) is None


async def test_a_stale_reminder_is_dropped_before_sending(teams: TeamsClient, runtime: Runtime, odoo: OdooView,
                                                          clock: FakeClock) -> None:
    tid, number = await new_ticket(teams, odoo, "Printer jam users:1")
    [in_progress] = odoo.call("helpdesk.ticket.stage", "search", [["name", "=", "Solved"]])
    odoo.call("helpdesk.ticket", "write", [tid], {"stage_id": in_progress})  # in Odoo, not yet polled
    clock.advance(minutes=31)
    assert nags(await fire(runtime, teams), number) == []  # the ack reminder no longer applies
    assert await runtime.services.timers.get(Kind.FOLLOW_UP, str(tid)) is not None


async def test_reminders_are_rebuilt_from_odoo_after_a_redis_flush(
        teams: TeamsClient, runtime: Runtime, odoo: OdooView, redis_url: str, sandbox: RunningSandbox,
        clock: FakeClock) -> None:
    from aiohttp.test_utils import TestServer

    from bot.server import RUNTIME, create_app
    from tests.conftest import bot_settings

    tid, _ = await new_ticket(teams, odoo, "Login loop users:1")
    await runtime.services.store.redis.flushall()
    assert await runtime.services.timers.pending() == []
    server = TestServer(create_app(bot_settings(redis_url, sandbox.url), clock=clock.now), host="127.0.0.1")
    await server.start_server()
    pending = await server.app[RUNTIME].services.timers.pending()
    await server.close()
    assert any(t.kind == Kind.ACK and t.key == str(tid) for t in pending)
    seeded = {r["name"]: str(r["id"]) for r in odoo.call("helpdesk.ticket", "search_read", [], fields=["name"])}
    keys = {t.key for t in pending}
    assert seeded["Lesson 3 video: Cannot load media"] in keys  # New: acknowledgment due
    assert seeded["Enrollment report for Director presentation"] in keys  # in progress, with a deadline
    assert seeded["Auto-generate PDF progress reports and email to parents weekly"] not in keys  # on hold


async def test_the_rebuild_reads_open_tickets_a_page_at_a_time(runtime: Runtime, odoo: OdooView,
                                                                 sandbox: RunningSandbox) -> None:
    gateway = runtime.services.odoo
    open_ids = sorted(r["id"] for r in odoo.call("helpdesk.ticket", "search_read", gateway.open_domain(),
                                                 fields=["id"]))
    assert len(open_ids) > 3
    sandbox.odoo.calls.clear()
    pages = [page async for page in gateway.all_tickets(gateway.open_domain(), page=3)]
    assert [t.id for page in pages for t in page] == open_ids  # each open ticket once, in order
    assert len(pages[0]) == 3
    assert sandbox.odoo.calls[("helpdesk.ticket", "search_read")] == len(open_ids) // 3 + 1


async def test_a_bulk_edit_in_odoo_is_read_once_a_page_at_a_time(
        runtime: Runtime, odoo: OdooView, sandbox: RunningSandbox, clock: FakeClock,
        monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.reminders import poller

    monkeypatch.setattr(poller, "POLL_PAGE", 2)
    await runtime.poller.poll_once()  # the first poll sets the cursors
    ids = odoo.call("helpdesk.ticket", "search", [])
    assert len(ids) > 2
    odoo.call("helpdesk.ticket", "write", ids, {"priority": "2"})  # all within the same second
    sandbox.odoo.calls.clear()
    assert await runtime.poller.poll_once() == len(ids)
    # the pages, and one read of the tickets resolved since the last round (the similar tickets' index)
    assert sandbox.odoo.calls[("helpdesk.ticket", "search_read")] == len(ids) // 2 + 1 + 1
    sandbox.odoo.calls.clear()
    assert await runtime.poller.poll_once() == 0  # the same second again: nothing is re-read
    assert sandbox.odoo.calls[("helpdesk.ticket", "search_read")] == 1 + 1
    clock.advance(seconds=1)
    odoo.call("helpdesk.ticket", "write", ids[:1], {"priority": "1"})
    assert await runtime.poller.poll_once() == 1  # written again a second later: seen again


def action_data(card: dict, title: str) -> dict:
    """The data an Action.Submit titled `title` on the card sends."""
    [data] = [a["data"] for a in card.get("actions", []) if a.get("title") == title]
    return data


async def test_a_report_that_came_in_by_email_must_be_logged_within_15_minutes(
        teams: TeamsClient, runtime: Runtime, odoo: OdooView, clock: FakeClock) -> None:
    await teams.say_in_channel("/ticket channel support", SUPPORT, sender=LEAD)
    await runtime.poller.poll_once()  # the first poll sets the cursors
    engine = runtime.services.timers
    # the mail gateway turns a teacher's e-mail into a ticket: no owner, no class of service
    [partner] = odoo.call("res.partner", "search", [["email", "=", "teacher01@mindx.edu.vn"]])
    tid = odoo.call("helpdesk.ticket", "create", {"name": "Cannot print report cards", "partner_id": partner,
                                                  "description": "<p>The print button does nothing.</p>",
                                                  "user_id": False})
    [number] = [r["number"] for r in odoo.call("helpdesk.ticket", "read", [tid], fields=["number"])]
    await runtime.poller.poll_once()
    reception = await engine.get(Kind.RECEPTION, str(tid))
    assert reception is not None and reception.due == clock.now() + runtime.services.profile.reception_within

    clock.advance(minutes=14)
    assert nags(await fire(runtime, teams), number, SUPPORT) == []
    clock.advance(minutes=2)
    posted = await fire(runtime, teams)
    [nag] = nags(posted, number, SUPPORT)
    assert ("is not logged yet: it needs an owner and a class of service (step 1: within 15 minutes of the "
            "report)") in nag
    assert "[Take it]" in nag and "[Post update]" not in nag
    assert nags(posted, number) == []  # nobody's 1:1: it has no owner

    [card] = [p.card for p in posted if p.card and p.conversation_id.startswith(SUPPORT)]
    await teams.submit(action_data(card, "Take it"), channel=SUPPORT)  # an agent clicks "Take it"
    assert odoo.call("helpdesk.ticket", "read", [tid], fields=["user_id"])[0]["user_id"][1] == AGENT.name
    clock.advance(minutes=16)
    [nag] = [text for text in nags(await fire(runtime, teams), number, SUPPORT) if "not logged yet" in text]
    assert "it needs a class of service (step 1" in nag and "(reminder 2)" in nag

    await teams.card(f"/ticket users {tid} 2")  # classified: logged
    assert await engine.get(Kind.RECEPTION, str(tid)) is None
    assert await engine.get(Kind.ACK, str(tid)) is not None  # step 2 goes on
    clock.advance(hours=1)
    assert not any("not logged yet" in text for text in nags(await fire(runtime, teams), number, SUPPORT))


async def test_a_reminder_shows_times_in_the_owners_own_time_zone(teams: TeamsClient, runtime: Runtime,
                                                                  odoo: OdooView, clock: FakeClock) -> None:
    teams.timezone = "Europe/Paris"  # the agent travels; the team's default stays Asia/Ho_Chi_Minh
    _, number = await new_ticket(teams, odoo, "Badge reader offline users:1")  # 08:33 UTC = 09:33 in Paris
    clock.advance(minutes=31)
    [nag] = nags(await fire(runtime, teams), number)
    assert "waiting since 09:33" in nag and "15:33" not in nag


async def test_reminders_come_back_at_the_next_poll_when_redis_loses_its_data(
        teams: TeamsClient, runtime: Runtime, odoo: OdooView) -> None:
    await runtime.poller.poll_once()
    tid, _ = await new_ticket(teams, odoo, "Login loop users:1")
    await runtime.services.store.redis.flushall()  # e.g. Redis restarted without persistence
    assert await runtime.services.timers.get(Kind.ACK, str(tid)) is None
    await runtime.poller.poll_once()
    assert await runtime.services.timers.get(Kind.ACK, str(tid)) is not None


async def test_a_fixed_deadline_tickets_priority_rises_on_its_own_timer(teams: TeamsClient, odoo: OdooView,
                                                                       runtime: Runtime, clock: FakeClock) -> None:
    """Scenario 6: 17 h to the deadline, High; when less than deadline.urgent_within (4h) is left the priority rises
    to Urgent in Odoo by itself (nobody reclassifies), once, with a note saying why."""
    tid, _ = await new_ticket(teams, odoo, "Enrollment report for the Director users:1 deadline:17h")
    assert odoo.ticket(tid)["priority"] == "2"
    clock.advance(hours=12, minutes=59)  # 4h01 left: not yet
    await fire(runtime, teams)
    assert odoo.ticket(tid)["priority"] == "2"
    clock.advance(minutes=2)  # 3h59 left
    await fire(runtime, teams)
    assert odoo.ticket(tid)["priority"] == "3"
    notes = [m["body"] for m in odoo.messages(tid, subtype="Note") if "Priority:" in m["body"]]
    assert len(notes) == 1 and "Priority: High → Urgent: the deadline is less than 4h away." in notes[0]
    assert "Fixed Deadline · Urgent priority" in card_text(await teams.card(f"/ticket show {tid}"))
    clock.advance(hours=1)
    await fire(runtime, teams)
    assert len([m for m in odoo.messages(tid, subtype="Note") if "Priority:" in m["body"]]) == 1


async def test_when_many_reminders_are_due_expedite_goes_before_priority_before_the_rest(
        teams: TeamsClient, runtime: Runtime, odoo: OdooView, clock: FakeClock) -> None:
    """A backlog (the worker away for an hour): the reminders are claimed Expedite first, then Priority, then
    Standard, whatever order they were logged in; within a class a repeat (the owner missed the last one) or a
    deadline that has come before one merely due."""
    ids = {}
    for users, label in ((2, "Standard"), (10, "Priority"), (40, "Expedite")):
        ids[label], _ = await new_ticket(teams, odoo, f"LMS login fails {label} users:{users} "
                                                      "customer:coordinator.ha@mindx.edu.vn")
        timer = await runtime.services.timers.get(Kind.ACK, str(ids[label]))
        assert timer is not None and timer.data["rank"] == {"Standard": 5, "Priority": 3, "Expedite": 1}[label]
    clock.advance(hours=1)
    claimed = await runtime.services.timers.claim_due(clock.now(), limit=1000)  # the seeded desk's too
    ranks = [timer.data.get("rank", DEFAULT_RANK) for timer in claimed]
    assert ranks == sorted(ranks)
    ours = {str(tid): label for label, tid in ids.items()}
    assert [ours[timer.key] for timer in claimed if timer.kind == Kind.ACK and timer.key in ours] == [
        "Expedite", "Priority", "Standard"]
    expedite = await runtime.services.odoo.ticket(ids["Expedite"])
    assert importance(expedite, Kind.UPDATE, {"misses": 1}) < importance(expedite, Kind.UPDATE, {})
    assert importance(expedite, Kind.DEADLINE, {"fraction": 1.0}) < importance(expedite, Kind.DEADLINE,
                                                                               {"fraction": 0.5})
    assert importance(expedite, Kind.UPDATE, {}) < importance(await runtime.services.odoo.ticket(ids["Priority"]),
                                                              Kind.UPDATE, {"misses": 3})


def digest_actions(card: dict, title: str) -> list[dict]:
    """The data each Action.Submit titled `title` sends, on a card listing reminders (nested show-cards included)."""
    return [e["data"] for e in card_elements(card) if e["type"] == "Action.Submit" and e.get("title") == title]


async def test_reminders_due_together_for_one_owner_make_one_card_each_delivered_once(
        teams: TeamsClient, runtime: Runtime, odoo: OdooView, clock: FakeClock) -> None:
    """Four tickets of one owner due an acknowledgment at once (through the timer worker and the Bot Connector stub):
    one card lists the four, with each one's buttons; each reminder is marked delivered to the owner once, planned
    again, and firing them again posts nothing; a line's own update box posts that ticket's update."""
    for ticket_id in odoo.call("helpdesk.ticket", "search", runtime.services.odoo.open_domain()):
        await runtime.services.timers.cancel_all(str(ticket_id), list(Kind))  # the seeded desk stays quiet
    ids = [(await new_ticket(teams, odoo, f"Lab PC {n} does not boot users:1"))[0] for n in range(4)]
    due = {tid: await runtime.services.timers.get(Kind.ACK, str(tid)) for tid in ids}
    clock.advance(minutes=31)
    posted = await fire(runtime, teams)
    [card] = [p.card for p in posted if p.card and p.conversation_id == PERSONAL]
    text = card_text(card)
    assert text.startswith("4 reminders are due") and text.count("is not acknowledged yet") == 4
    assert text.count("[Snooze 15 min]") == 4 and text.count("[Post update]") == 4
    store = runtime.services.store
    for tid, timer in due.items():
        assert timer is not None
        ticket = await runtime.services.odoo.ticket(tid)
        assert ticket.owner is not None
        mark = store.key("posted", Kind.ACK, str(tid), timer.due.isoformat(), f"user:{ticket.owner.id}")
        assert await store.redis.get(mark) == "posted"  # delivered, on the card listing them
        again = await runtime.services.timers.get(Kind.ACK, str(tid))
        assert again is not None and again.data["misses"] == 1  # planned again, as after a card of its own
    assert [p for p in await fire(runtime, teams) if p.card] == []  # nothing fires twice

    [send] = [data for data in digest_actions(card, "Send to the customer") if data["ticket"] == str(ids[2])]
    await teams.submit({**send, f"text-{ids[2]}": "Reimaged the PC; it boots again."})
    assert any("Reimaged the PC" in m["body"] for m in odoo.messages(ids[2]))
