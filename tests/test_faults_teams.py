"""Teams throttling: a storm of 429s, then 5xx, from the Bot Connector while the bot posts 200 messages on
its own (reminders from the timer worker, escalation cards), through the real bot code (Nagger, escalation
service, Outbound, the botbuilder adapter) and the Bot Connector stub over HTTP.

The Outbound here is the production one given a fake clock and sleep (its per-conversation budget and its
backoff, Retry-After included, pass in fake time) and a small backoff base, so the storm costs no real
seconds. The ambiguous answers (500, 502) come from a gateway that took the message and failed the
answer, as Teams does: re-posting would show it twice.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections import Counter

from redis.asyncio import Redis

from bot.escalation.service import escalate
from bot.notify import Outbound
from bot.reminders.policy import Kind
from bot.reminders.service import Reminders
from bot.server import TIMERS, Runtime
from bot.timers import TimerWorker
from tests.conftest import AGENT, LEAD, FakeClock, RunningSandbox
from tests.support.connector import ConnectorStub, Posted
from tests.support.odoo_view import OdooView
from tests.support.reminders import reminders
from tests.support.teams import TeamsClient

SUPPORT = "19:support@thread.tacv2"
DEV = "19:dev@thread.tacv2"
DEVOPS = "19:devops@thread.tacv2"
NAGGED = 60  # tickets whose owner missed a reminder already: the next goes to the owner, the lead and support
ESCALATED = 10  # tickets escalated to two teams at once
STORM = ([(429, {"Retry-After": str(1 + n % 3)}) for n in range(150)]  # throttled, told when to come back
         + [(503, {})] * 20  # unavailable: not posted, sent again
         + [(502, {})] * 6 + [(500, {})] * 4)  # posted, but the answer failed: never sent again


class FakeTime:
    """The Outbound's clock and sleep: waiting moves the clock instead of the test."""

    def __init__(self) -> None:
        self.ms = 1_000_000.0
        self.slept = 0.0

    def now_ms(self) -> float:
        return self.ms

    async def sleep(self, seconds: float) -> None:
        self.ms += seconds * 1000
        self.slept += seconds
        await asyncio.sleep(0)


def escalation_cards(posted: list[Posted], channel: str) -> list[str]:
    """The ticket number on each escalation card posted in `channel`."""
    return [str(p.card["refresh"]["action"]["data"]["escalation"]) for p in posted
            if p.card and p.conversation_id.startswith(channel) and "refresh" in p.card]


async def test_a_429_storm_then_5xx_while_200_messages_go_out_delivers_each_once(
        teams: TeamsClient, runtime: Runtime, redis: Redis, sandbox: RunningSandbox, clock: FakeClock,
        connector: tuple[ConnectorStub, str]) -> None:
    """Figures: 200 proactive messages (180 reminder posts, 20 escalation cards) through 180 refusals
    (150 x 429 with Retry-After, 20 x 503) and 10 ambiguous failures (6 x 502, 4 x 500): 200 delivered,
    0 twice, 0 lost; every storm answer was used, and every Retry-After waited (300 s in all, fake time)."""
    odoo = OdooView(sandbox.odoo)
    stub = connector[0]
    for name, channel in (("support", SUPPORT), ("dev", DEV), ("devops", DEVOPS)):
        await teams.say_in_channel(f"/ticket channel {name}", channel, sender=LEAD)
    await teams.say("/ticket list mine", sender=LEAD)  # the lead's 1:1 chat is known
    ticket_reminders = Reminders(runtime.services.timers, runtime.services.profile, runtime.services.clock)
    for ticket_id in odoo.call("helpdesk.ticket", "search", runtime.services.odoo.open_domain()):
        await ticket_reminders.forget(ticket_id)  # the seeded desk stays quiet
    engine = runtime.services.timers
    nagged, escalated = [], []
    for n in range(NAGGED + ESCALATED):
        await teams.card(f"/ticket new Lab PC {n} does not boot users:{1 + n % 5}")
        ticket = odoo.newest_ticket()
        if n < NAGGED:
            nagged.append(str(ticket["number"]))
            ack = await engine.get(Kind.ACK, str(ticket["id"]))
            assert ack is not None
            await engine.schedule(Kind.ACK, ack.key, ack.due, {"misses": 1})
        else:
            escalated.append(int(ticket["id"]))
            await ticket_reminders.forget(int(ticket["id"]))
    expected_reminders = {(chat, number) for number in nagged
                          for chat in (f"personal-{AGENT.id}", f"personal-{LEAD.id}", SUPPORT)}

    time = FakeTime()
    outbound = Outbound(runtime.adapter, redis, prefix=runtime.services.store.key("rate", ""), clock_ms=time.now_ms,
                        sleep=time.sleep, base_delay=0.01)
    services = dataclasses.replace(runtime.services, outbound=outbound)
    # each reminder fired alone (no gathering): 180 posts of their own, not a card per reader listing them
    worker = TimerWorker(engine, TIMERS.handler(services), clock=clock.now)
    tickets = [await services.odoo.ticket(ticket_id) for ticket_id in escalated]
    stub.failures = list(STORM)
    stub.posted_despite = {500, 502}
    before, attempts = len(stub.posted), stub.attempts

    clock.advance(minutes=31)
    results = await asyncio.gather(
        worker.run_once(), *(escalate(services, ticket, ["dev", "devops"], "Lab closed", by=AGENT.name)
                             for ticket in tickets))
    assert results[0] == NAGGED  # every reminder claimed in one round
    clock.advance(minutes=2)  # a reminder that failed would fire again now
    await worker.run_once()

    posted = stub.posted[before:]
    sent = Counter(reminders(posted))
    assert set(sent) == expected_reminders and set(sent.values()) == {1}  # 180 reminder posts, each once
    cards = escalation_cards(posted, DEV) + escalation_cards(posted, DEVOPS)
    assert len(cards) == len(set(cards)) == 2 * ESCALATED  # 20 cards, each once
    assert sum(sent.values()) + len(cards) == len(posted) == 200
    assert stub.failures == [] and stub.attempts - attempts == len(STORM) + 200 - 10  # 10 posted with a 5xx
    assert all(len(result) == 2 for result in results[1:])  # every escalation posted to both teams
    assert await engine.in_flight() == 0
    assert time.slept >= sum(float(headers["Retry-After"]) for _, headers in STORM if headers)
