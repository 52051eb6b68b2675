"""What only a real server shows about faults, over every protocol of the series: a command whose write Odoo
committed while its answer was lost lands once when replayed (on JSON-2 each call is its own transaction: a command
of several calls is replayed whole, so each of its writes is looked for before it is made again), and changes made
while Odoo cannot be reached are kept in the outbox and applied, once and in order, when it answers again.
The bot reaches the real Odoo through the fault proxy (tests/support/faultproxy.py)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from tests.real_odoo.conftest import RealDesk, RealOdoo, StartBot, database_away

pytestmark = pytest.mark.real_odoo

SAVED = "Your command is saved"
APPLIED = "Odoo is back: your command was applied."


@dataclass
class Faulty:
    desk: RealDesk
    run: str

    async def new_ticket(self, title: str, users: int = 2) -> int:
        await self.desk.say(f"/ticket new {title} {self.run} users:{users}")
        ticket = self.desk.odoo.newest_ticket()
        assert ticket["name"] == f"{title} {self.run}"
        return int(ticket["id"])

    def notes(self, ticket_id: int, containing: str) -> int:
        return sum(containing in message["body"] for message in self.desk.odoo.messages(ticket_id))

    def stage(self, ticket_id: int) -> str:
        return str(self.desk.odoo.ticket(ticket_id)["stage_id"][1])

    async def heal(self) -> list[str]:
        assert self.desk.proxy is not None
        self.desk.proxy.heal()
        self.desk.relay.odoo_answers_again()
        return [text.splitlines()[0] for text in await self.desk.relay.run() if text.startswith("Odoo is back")]


@pytest.fixture
async def faulty(start_bot: StartBot, protocol: str, run_tag: str) -> Faulty:
    return Faulty(await start_bot("helpdesk", protocol, proxied=True, odoo_timeout=5.0), f"{run_tag}-{protocol}")


# command, calls answered before the one whose reply is lost; what landed once
HALF_APPLIED = {
    "new": ("/ticket new Badge reader broken {run} users:3", 0),
    "resolve, the stage written": ("/ticket resolve {tid} Replaced the HDMI cable", 1),
    "resolve, the message posted": ("/ticket resolve {tid} Replaced the HDMI cable", 2),
    "merge, the duplicate cancelled": ("/ticket merge {other} into {tid}", 2),
    "merge, the notes posted": ("/ticket merge {other} into {tid}", 4),
}


@pytest.mark.parametrize("case", list(HALF_APPLIED))
async def test_a_commit_whose_answer_is_lost_lands_once(faulty: Faulty, case: str) -> None:
    command, spare = HALF_APPLIED[case]
    desk, proxy = faulty.desk, faulty.desk.proxy
    assert proxy is not None
    tid = await faulty.new_ticket("Projector in room 302 shows no signal", users=2)
    other = await faulty.new_ticket("Projector in room 302 again", users=3)
    await desk.say(f"/ticket ack {tid}")
    proxy.spare(spare)
    proxy.swallow_replies()
    assert SAVED in await desk.say(command.format(tid=tid, other=other, run=faulty.run))
    assert proxy.replies_swallowed >= 1
    assert await faulty.heal() == [APPLIED]
    assert await desk.relay.waiting() == 0
    if command.startswith("/ticket new"):
        assert desk.odoo.tickets_named(f"Badge reader broken {faulty.run}") == 1
    elif "resolve" in command:
        assert faulty.stage(tid) == "Solved" and faulty.notes(tid, "Replaced the HDMI cable") == 1
    else:
        assert "Users affected: 3" in desk.odoo.ticket(tid)["description"]  # the larger of the two reports
        assert faulty.stage(other) == "Cancelled"
        assert faulty.notes(tid, "into this ticket") == 1 and faulty.notes(other, "Duplicate of") == 1


async def test_changes_made_while_odoo_is_away_are_kept_and_applied_once_in_order(faulty: Faulty) -> None:
    desk, proxy = faulty.desk, faulty.desk.proxy
    assert proxy is not None
    tid = await faulty.new_ticket("Wi-Fi down on floor 4", users=2)
    proxy.refuse()
    typed = [f"/ticket note {tid} Called the AV vendor", f"/ticket hold {tid} Waiting for the AV vendor",
             f"/ticket note {tid} Vendor comes on Monday"]
    for text in typed:
        assert SAVED in await desk.say(text)
    assert await desk.relay.waiting() == 3
    assert await desk.relay.run() == []  # still away: nothing applied, nothing lost
    assert await desk.relay.waiting() == 3
    assert faulty.stage(tid) == "New"

    assert await faulty.heal() == [APPLIED] * 3
    bodies = [m["body"] for m in desk.odoo.messages(tid)]
    order = [next(i for i, body in enumerate(bodies) if said in body)
             for said in ("Called the AV vendor", "On hold: Waiting for the AV vendor", "Vendor comes on Monday")]
    assert order == sorted(order)
    assert [faulty.notes(tid, said) for said in ("Called the AV vendor", "Waiting for the AV vendor", "on Monday")] \
        == [1, 1, 1]
    assert faulty.stage(tid) == "On Hold"


async def test_a_database_that_goes_away_keeps_the_changes_and_applies_them_when_back(
        start_bot: StartBot, real_odoo: RealOdoo, protocol: str, run_tag: str) -> None:
    """No proxy: the real Odoo keeps answering while its PostgreSQL database refuses connections (a restart, a
    restore); the bot says Odoo is away, keeps the command, and applies it once when the database is back."""
    desk = await start_bot("helpdesk", protocol, odoo_timeout=10.0)
    faulty = Faulty(desk, f"{run_tag}-{protocol}-db")
    tid = await faulty.new_ticket("Printer queue stuck on floor 2")
    with database_away(real_odoo, "helpdesk"):
        assert SAVED in await desk.say(f"/ticket note {tid} Restarted the print spooler")
        assert await desk.relay.run() == []  # still away: nothing applied, nothing lost
        assert await desk.relay.waiting() == 1
    desk.relay.odoo_answers_again()
    posted = await desk.relay.run()
    assert [text.splitlines()[0] for text in posted if text.startswith("Odoo is back")] == [APPLIED]
    assert faulty.notes(tid, "Restarted the print spooler") == 1
    assert await desk.relay.waiting() == 0
