"""The six scenarios of seeds/000 as scripts, played through the bot by tests/test_scenarios.py (against the Odoo
double) and tests/real_odoo/test_scenarios.py (against a real Odoo 17, 18 or 19, over each protocol): the lifecycle
commands, and the escalations of scenarios 2, 3 and 5 answered from their cards.

Each script talks to the real bot over HTTP as a Teams agent, and checks what landed in Odoo (fields and chatter)
and what the agent saw on the cards. The times a card shows are computed from the bot's clock and Odoo's dates:
against the double (whose clock is the bot's) they are the seeds' own (scenario 1 starts at 15:33 in Vietnam, so
"acknowledge by 16:03"); against a real Odoo, which dates tickets by its own clock, they follow the day it runs.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from bot.odoo.records import parse_odoo_time
from bot.wording import day_and_time
from tests.support.connector import Posted
from tests.support.teams import TeamsClient, TeamsUser, card_text

DEVELOPER = TeamsUser("29:dev-duc", "Võ Minh Đức", "duc.vm@mindx.edu.vn")
CHANNELS = {"dev": "19:dev@thread.tacv2", "devops": "19:devops@thread.tacv2",
            "content-ops": "19:content@thread.tacv2", "management": "19:management@thread.tacv2"}


class Clock(Protocol):
    def now(self) -> datetime: ...

    def advance(self, **delta: float) -> datetime: ...


class OdooReader(Protocol):
    """What landed in Odoo, read the way Odoo answers (tests/support/odoo_view.py, tests/real_odoo/view.py)."""

    def ticket(self, ticket_id: int) -> dict[str, Any]: ...

    def newest_ticket(self) -> dict[str, Any]: ...

    def messages(self, ticket_id: int, *, subtype: str | None = None) -> list[dict[str, Any]]: ...

    def partner_id(self, email: str) -> int: ...

    def user_id(self, email: str) -> int: ...


@dataclass
class Desk:
    """Where a scenario plays: the agent's Teams client (`teams.user`), Odoo, the bot's clock, and the team lead who
    registers the escalation channels."""

    teams: TeamsClient
    odoo: OdooReader
    clock: Clock
    lead: TeamsUser

    @property
    def agent(self) -> TeamsUser:
        return self.teams.user

    def local(self, moment: datetime) -> datetime:
        return moment.astimezone(ZoneInfo(self.teams.timezone))

    def by(self, moment: datetime) -> str:
        """A due time as a card shows it: `16:03` on the bot's today, else `Thu 30 Jan 09:00`."""
        local = self.local(moment)
        return local.strftime("%H:%M") if local.date() == self.local(self.clock.now()).date() else day_and_time(local)

    def created(self, ticket_id: int) -> datetime:
        moment = parse_odoo_time(self.odoo.ticket(ticket_id)["create_date"])
        assert moment is not None
        return moment

    def advance_to(self, hour: int, minute: int) -> None:
        """Move the clock to the next `hour:minute` in the agent's time zone."""
        now = self.local(self.clock.now())
        target = now.replace(hour=hour, minute=minute, second=0, microsecond=0)
        if target <= now:
            target += timedelta(days=1)
        self.clock.advance(seconds=(target - now).total_seconds())


async def register_channels(desk: Desk) -> None:
    for name, conversation in CHANNELS.items():
        await desk.teams.say_in_channel(f"/ticket channel {name}", conversation, sender=desk.lead)


async def acknowledge(teams: TeamsClient, channel: str, posted: Posted) -> str:
    """A team member clicks Acknowledge on the card in their channel; what the card shows then."""
    data = (posted.card or {})["refresh"]["action"]["data"]
    status, body = await teams.invoke("escalation.ack", data, channel=CHANNELS[channel], sender=DEVELOPER)
    assert status == 200
    return card_text(body["value"])


def stage(record: dict[str, object]) -> str:
    value = record["stage_id"]
    assert isinstance(value, list)
    return str(value[1])


async def scenario_1_login_issue_standard(desk: Desk) -> None:
    teams, odoo, clock = desk.teams, desk.odoo, desk.clock
    card = card_text(await teams.card(
        "/ticket new Không thể đăng nhập vào LMS users:1 customer:nguyen.van.a@mindx.edu.vn type:incident\n"
        "Teacher gets \"Invalid username or password\"; class happening today."))
    ticket = odoo.newest_ticket()
    tid = ticket["id"]
    # on the seeds' day: "Acknowledge the customer by 16:03", 30 minutes after 15:33
    assert "Standard" in card and f"Acknowledge the customer by {desk.by(desk.created(tid) + timedelta(minutes=30))}" \
        in card, card
    assert ticket["priority"] == "1" and stage(ticket) == "New"
    assert ticket["partner_id"][0] == odoo.partner_id("nguyen.van.a@mindx.edu.vn")
    assert ticket["user_id"][0] == odoo.user_id(desk.agent.email)

    clock.advance(minutes=10)
    card = card_text(await teams.card(f"/ticket ack {tid} Chào thầy, chúng tôi đã nhận được yêu cầu. "
                                      "Thầy thử chế độ ẩn danh trong lúc chờ nhé."))
    assert "Acknowledged" in card
    [ack] = odoo.messages(tid, subtype="Discussions")
    assert "Chào thầy" in ack["body"] and desk.agent.name in ack["body"]
    assert ack["partner_ids"] == [odoo.partner_id("nguyen.van.a@mindx.edu.vn")]
    assert stage(odoo.ticket(tid)) == "In Progress"

    await teams.card(f"/ticket diag {tid} Account active; 3 failed attempts in 10 min. Root cause: password.")
    [diagnosis] = odoo.messages(tid, subtype="Note")
    assert "Diagnosis" in diagnosis["body"] and "3 failed attempts" in diagnosis["body"]

    card = card_text(await teams.card(f"/ticket resolve {tid} Reset the password and sent a temporary one."))
    assert "asked to confirm" in card
    assert stage(odoo.ticket(tid)) == "Solved"
    assert "confirm" in odoo.messages(tid, subtype="Discussions")[-1]["body"]

    refused = card_text(await teams.card(f"/ticket close {tid}"))
    assert "no confirmation from the customer" in refused
    assert stage(odoo.ticket(tid)) == "Solved"  # nothing changed

    clock.advance(minutes=4)
    card = card_text(await teams.card(f"/ticket confirm {tid} Logged in and changed the password"))
    assert "closed" in card.lower()
    closed = odoo.ticket(tid)
    assert stage(closed) == "Done" and closed["closed"] is True


async def scenario_2_performance_priority(desk: Desk) -> None:
    teams, odoo, clock = desk.teams, desk.odoo, desk.clock
    card = card_text(await teams.card(
        "/ticket new Lớp WEB101-HN-2024 chậm nghiêm trọng users:16 customer:coordinator.ha@mindx.edu.vn\n"
        "15 students + 1 CXO blocked; page load > 1 minute; cannot submit assignments."))
    assert "Priority" in card and "High priority" in card, card
    tid = odoo.newest_ticket()["id"]
    assert odoo.ticket(tid)["priority"] == "2"

    acknowledged = clock.advance(minutes=2)
    card = card_text(await teams.card(f"/ticket ack {tid}"))
    assert "at least every 15 minutes." in odoo.messages(tid, subtype="Discussions")[0]["body"]
    # acknowledged at 15:35 on the seeds' day: updates every 15 min, the next by 15:50
    assert f"Send the customer an update by {desk.by(acknowledged + timedelta(minutes=15))}" in card

    await teams.card(f"/ticket diag {tid} App Insights: response time 2s -> 35s since 14:00, only WEB101\n"
                     "TimeoutException ~10/min; SlowQueryWarning 28-32s; DB pool 85/100")
    note = odoo.messages(tid, subtype="Note")[0]["body"]
    assert "SlowQueryWarning" in note and "85/100" in note

    await register_channels(desk)
    told = card_text(await teams.card(f"/ticket escalate {tid} dev WEB101 students cannot submit assignments; "
                                      "investigation points at slow attendance queries"))
    assert "Dev team: must acknowledge by" in told
    [dev_card] = teams.connector.cards_in(CHANNELS["dev"])
    shown = card_text(dev_card.card or {})
    assert "SlowQueryWarning 28-32s" in shown and "DB pool 85/100" in shown and "Users affected: 16" in shown
    clock.advance(minutes=3)
    assert "Acknowledged by Võ Minh Đức" in await acknowledge(teams, "dev", dev_card)
    assert "Võ Minh Đức (Dev team) acknowledged" in odoo.messages(tid, subtype="Note")[-1]["body"]

    clock.advance(minutes=12)
    card = card_text(await teams.card(f"/ticket update {tid} Escalated to the dev team; next update at 14:45."))
    assert "Update sent" in card
    assert len(odoo.messages(tid, subtype="Discussions")) == 2

    await teams.card(f"/ticket resolve {tid} Index on class_id added, pool 100 -> 150; response time ~2s.")
    await teams.card(f"/ticket confirm {tid}")
    assert stage(odoo.ticket(tid)) == "Done"


async def scenario_3_critical_bug_expedite(desk: Desk) -> None:
    teams, odoo = desk.teams, desk.odoo
    card = card_text(await teams.card(
        "/ticket new Student submission system down during final exams users:53 type:bug\n"
        "WEB102-HN (20), DATA101-SG (18), MOBILE201-HN (15): \"System error - please contact administrator\""))
    assert "Expedite" in card and "Urgent priority" in card
    tid = odoo.newest_ticket()["id"]
    assert odoo.ticket(tid)["priority"] == "3"
    listing = card_text(await teams.card("/ticket list expedite"))
    assert f"#{tid}" in listing or odoo.ticket(tid)["number"] in listing
    await register_channels(desk)
    await teams.card(f"/ticket diag {tid} Submission API returns 500; NullPointerException in ExamSubmitHandler "
                     "since deploy 2.14.3")
    escalated = desk.clock.now()
    told = card_text(await teams.card(f"/ticket escalate {tid} dev Final exams in progress: 53 students in 3 "
                                      "classes cannot submit."))
    # Expedite: within 5 minutes (by 15:38 on the seeds' day)
    assert f"Dev team: must acknowledge by {desk.by(escalated + timedelta(minutes=5))}" in told
    [dev_card] = teams.connector.cards_in(CHANNELS["dev"])
    assert "NullPointerException in ExamSubmitHandler" in card_text(dev_card.card or {})
    [summary] = teams.connector.cards_in(CHANNELS["management"])  # one card, redrawn in place as it moves
    business = card_text([u for u in teams.connector.updated if u.id == summary.id][-1].card or {})
    assert "Expedite incident" in business and "Student submission system down during final exams" in business
    assert "What is affected: Final exams in progress: 53 students in 3 classes cannot submit." in business
    assert "Users affected: 53" in business
    assert "NullPointerException" not in business and "deploy" not in business  # no technical detail
    assert "Acknowledged by Võ Minh Đức" in await acknowledge(teams, "dev", dev_card)
    await teams.card(f"/ticket ack {tid} We are on it; the dev team is alerted. Next update in 15 minutes.")
    await teams.card(f"/ticket resolve {tid} Submission service restarted with the fixed build; verified in "
                     "three classes.")
    await teams.card(f"/ticket confirm {tid}")
    assert odoo.ticket(tid)["closed"] is True


async def scenario_4_feature_request_on_hold(desk: Desk) -> None:
    teams, odoo, clock = desk.teams, desk.odoo, desk.clock
    await teams.card("/ticket new Auto-generate weekly PDF progress reports for parents type:feature "
                     "customer:cxo@company.com")
    tid = odoo.newest_ticket()["id"]
    await teams.card(f"/ticket ack {tid} Thank you; we forward this to the Product Team for evaluation.")
    card = card_text(await teams.card(f"/ticket hold {tid} Waiting for the Product Team roadmap (Q2/Q3)"))
    assert "no reminders" in card
    assert stage(odoo.ticket(tid)) == "On Hold"
    assert "Product Team roadmap" in odoo.messages(tid, subtype="Note")[-1]["body"]

    clock.advance(days=3)  # on hold: never overdue, however long it waits
    assert f"#{tid}" not in card_text(await teams.card("/ticket list overdue"))
    await teams.card(f"/ticket update {tid} The feature is in the backlog for the Q2/Q3 roadmap.")
    assert len(odoo.messages(tid, subtype="Discussions")) == 2
    refused = card_text(await teams.card(f"/ticket hold {tid} again"))
    assert "already paused" in refused
    await teams.card(f"/ticket resume {tid}")
    assert stage(odoo.ticket(tid)) == "In Progress"


async def scenario_5_duplicate_video_tickets_merged(desk: Desk) -> None:
    teams, odoo = desk.teams, desk.odoo
    await teams.card("/ticket new Video bài 3 Advanced JavaScript không load được users:7 "
                     "customer:teacher01@mindx.edu.vn")
    first = odoo.newest_ticket()["id"]
    await teams.card("/ticket new Lesson 3 video: Cannot load media users:5 customer:teacher01@mindx.edu.vn")
    second = odoo.newest_ticket()["id"]
    assert odoo.ticket(first)["priority"] == odoo.ticket(second)["priority"] == "2"

    card = card_text(await teams.card(f"/ticket merge {first} into {second} users:12"))  # two classes: 7 + 5
    assert "Priority" in card and "Users affected: 12" in card and "Users affected: 12, as you wrote." in card
    assert stage(odoo.ticket(first)) == "Cancelled"
    assert f"#{first}" in odoo.messages(second, subtype="Note")[-1]["body"] or \
        odoo.ticket(first)["number"] in odoo.messages(second, subtype="Note")[-1]["body"]
    assert "Duplicate of" in odoo.messages(first, subtype="Note")[-1]["body"]
    await teams.card(f"/ticket diag {second} GET /api/lessons/adv-js-lesson-3/video -> 403; CDN Access Denied; "
                     "signed URL expired")
    await register_channels(desk)
    told = card_text(await teams.card(f"/ticket escalate {second} devops,content-ops 12 students cannot watch "
                                      "lesson 3"))
    assert "DevOps team: must acknowledge by" in told and "Content Ops team: must acknowledge by" in told
    [devops_card] = teams.connector.cards_in(CHANNELS["devops"])
    [content_card] = teams.connector.cards_in(CHANNELS["content-ops"])
    for posted in (devops_card, content_card):
        assert "CDN Access Denied; signed URL expired" in card_text(posted.card or {})
    assert "Escalated to the DevOps team, Content Ops team" in odoo.messages(second, subtype="Note")[-1]["body"]
    assert "Acknowledged by Võ Minh Đức" in await acknowledge(teams, "devops", devops_card)
    assert "waiting for the Content Ops team" in card_text(content_card.card or {})  # each team answers its own
    await teams.card(f"/ticket resolve {second} DevOps regenerated the signed URL; student01 confirmed playback.")
    await teams.card(f"/ticket confirm {second}")
    assert odoo.ticket(second)["closed"] is True


async def scenario_6_fixed_deadline_report(desk: Desk) -> None:
    teams, odoo, clock = desk.teams, desk.odoo, desk.clock
    desk.advance_to(18, 2)  # the seeds: 18:02 on Jan 29; the report is due at 09:00 the next morning
    due = desk.local(clock.now()).replace(hour=9, minute=0) + timedelta(days=1)
    card = card_text(await teams.card(
        "/ticket new Enrollment report for the Director deadline:tomorrow@09:00 customer:director@mindx.edu.vn "
        "type:request\nFilter by location + program + period; breakdown by course."))
    assert "Fixed Deadline" in card and f"Deadline: {day_and_time(due)}" in card  # "Thu 30 Jan 09:00"
    tid = odoo.newest_ticket()["id"]
    assert odoo.ticket(tid)["priority"] == "2"
    await teams.card(f"/ticket ack {tid} To meet 09:00 we propose an MVP: which period, fields and format?")
    card = card_text(await teams.card(f"/ticket show {tid}"))
    # 14h58m left and at least 4 updates: the next one is due 3h44m30s after the ack at 18:02, by 21:46
    assert f"Send the customer an update by {desk.by(clock.now() + timedelta(hours=3, minutes=44, seconds=30))}" \
        in card, card

    clock.advance(hours=12)  # 06:02: under 4 hours left; reclassifying recomputes the priority
    card = card_text(await teams.card(f"/ticket class {tid} deadline"))
    assert odoo.ticket(tid)["priority"] == "3"
    await teams.card(f"/ticket resolve {tid} Final report delivered: Enrollment_Report_Final.xlsx")
    await teams.card(f"/ticket confirm {tid} No additional changes needed")
    assert odoo.ticket(tid)["closed"] is True


SCENARIOS: dict[str, Callable[[Desk], Awaitable[None]]] = {
    "1-login-issue-standard": scenario_1_login_issue_standard,
    "2-performance-priority": scenario_2_performance_priority,
    "3-critical-bug-expedite": scenario_3_critical_bug_expedite,
    "4-feature-request-on-hold": scenario_4_feature_request_on_hold,
    "5-duplicate-video-tickets-merged": scenario_5_duplicate_video_tickets_merged,
    "6-fixed-deadline-report": scenario_6_fixed_deadline_report,
}
