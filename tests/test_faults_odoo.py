"""Odoo faults on the real network path: the bot reaches the Odoo double through the fault proxy.

Each test names the figure it proves: commands kept while Odoo failed, applied once it answered
again, duplicates in Odoo (always 0), Odoo connections made while the circuit breaker was open."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from redis.asyncio import Redis

from bot.escalation.service import TIMER_KIND
from bot.server import create_app
from bot.settings import Mode, load_settings
from tests.conftest import AGENT, LEAD, FakeClock, RunningSandbox, bot_settings
from tests.support.connector import ConnectorStub
from tests.support.faultproxy import FaultProxy
from tests.support.odoo_view import OdooView
from tests.support.proxied_odoo import Relay, through
from tests.support.teams import TeamsClient, card_text
from tests.support.waiting import eventually

SAVED = "Your command is saved"
APPLIED = "Odoo is back: your command was applied."
NOT_ANSWERING = "Odoo is not answering"
DEV, DEVOPS = "19:dev@thread.tacv2", "19:devops@thread.tacv2"


@dataclass
class Desk:
    teams: TeamsClient
    relay: Relay
    odoo: OdooView
    sandbox: RunningSandbox
    proxy: FaultProxy

    async def say(self, text: str) -> str:
        return card_text(await self.teams.card(text))

    async def new_ticket(self, title: str = "Projector in room 302 shows no signal", users: int = 2) -> int:
        await self.teams.card(f"/ticket new {title} users:{users}")
        return int(self.odoo.newest_ticket()["id"])

    def notes(self, ticket_id: int, containing: str) -> int:
        """How many chatter messages on the ticket contain the text."""
        return sum(containing in message["body"] for message in self.odoo.messages(ticket_id))

    def tickets_named(self, title: str) -> int:
        return int(self.odoo.call("helpdesk.ticket", "search_count", [["name", "=", title]]))

    def stage(self, ticket_id: int) -> str:
        return str(self.odoo.ticket(ticket_id)["stage_id"][1])

    async def heal(self) -> list[str]:
        """Odoo answers again: run the relay; the first line of each "Odoo is back" card."""
        self.proxy.heal()
        self.relay.odoo_answers_again()
        return [text.splitlines()[0] for text in await self.relay.run() if text.startswith("Odoo is back")]


StartDesk = Callable[..., Awaitable[Desk]]


@pytest.fixture
async def start_desk(redis: Redis, redis_url: str, sandbox: RunningSandbox, proxy: FaultProxy, clock: FakeClock,
                     connector: tuple[ConnectorStub, str]) -> AsyncIterator[StartDesk]:
    """Starts the bot with Odoo behind the proxy (`odoo_timeout`: seconds per Odoo call)."""
    stub, connector_url = connector
    servers: list[TestServer] = []
    async with aiohttp.ClientSession() as session:
        async def start(*, odoo_timeout: float = 2.0, protocol: str = "xmlrpc") -> Desk:
            settings = through(bot_settings(redis_url, sandbox.url, protocol=protocol), proxy, timeout=odoo_timeout)
            server = TestServer(create_app(settings, clock=clock.now), host="127.0.0.1")
            await server.start_server()
            servers.append(server)
            teams = TeamsClient(str(server.make_url("/api/messages")), connector_url, stub, session, AGENT)
            return Desk(teams, Relay(server, teams), OdooView(sandbox.odoo), sandbox, proxy)

        yield start
        for server in servers:
            await server.close()


@pytest.fixture
async def desk(start_desk: StartDesk) -> Desk:
    return await start_desk()


async def test_refused_connections_keep_changes_and_the_relay_applies_them_in_order(desk: Desk) -> None:
    """Figures: 3 changes kept, 0 applied while refused, 3 applied in order after, 0 duplicates."""
    tid = await desk.new_ticket()
    desk.proxy.refuse()
    typed = [f"/ticket note {tid} Called the AV vendor", f"/ticket hold {tid} Waiting for the AV vendor",
             f"/ticket note {tid} Vendor comes on Monday"]
    for text in typed:
        assert SAVED in await desk.say(text)
    assert NOT_ANSWERING in await desk.say(f"/ticket show {tid}")  # a read is answered, not kept
    assert await desk.relay.waiting() == 3
    assert await desk.relay.run() == []  # still refused: nothing applied, nothing lost
    assert await desk.relay.waiting() == 3

    assert await desk.heal() == [APPLIED] * 3
    bodies = [m["body"] for m in desk.odoo.messages(tid)]
    order = [next(i for i, body in enumerate(bodies) if said in body)
             for said in ("Called the AV vendor", "On hold: Waiting for the AV vendor", "Vendor comes on Monday")]
    assert order == sorted(order)
    assert [desk.notes(tid, said) for said in ("Called the AV vendor", "Waiting for the AV vendor", "on Monday")] \
        == [1, 1, 1]
    assert desk.stage(tid) == "On Hold"
    assert await desk.relay.waiting() == 0


async def test_a_silent_odoo_costs_one_timeout_per_call_until_the_breaker_opens(start_desk: StartDesk) -> None:
    """Figures: 3 reads wait for the timeout, then 0 Odoo connections while the breaker is open; the change
    typed meanwhile is kept and applied once. (A 2 s timeout: a busy test machine once took more than 1 s to
    answer the bot's start-up.)"""
    desk = await start_desk(odoo_timeout=2.0)
    tid = await desk.new_ticket()
    desk.proxy.blackhole()
    for _ in range(3):
        assert NOT_ANSWERING in await desk.say(f"/ticket show {tid}")  # each waited for the 1 s timeout
    connections = desk.proxy.connections
    assert NOT_ANSWERING in await desk.say(f"/ticket show {tid}")
    assert SAVED in await desk.say(f"/ticket note {tid} Typed while Odoo was silent")
    assert desk.proxy.connections == connections  # the breaker answered: Odoo was not even asked

    assert await desk.heal() == [APPLIED]
    assert desk.notes(tid, "Typed while Odoo was silent") == 1


def test_the_odoo_timeout_is_set_and_shorter_than_teams_patience() -> None:
    """Teams gives a bot 15 s to answer: one call to a silent Odoo must fail well before that, so the
    turn can still say the change is kept."""
    env = {"ODOO_URL": "https://odoo.example.com", "ODOO_DB": "helpdesk", "ODOO_LOGIN": "bot",
           "ODOO_API_KEY": "key"}
    assert load_settings(env, Mode.DEV).odoo.timeout == 10.0
    assert load_settings({**env, "ODOO_TIMEOUT_SECONDS": "4"}, Mode.DEV).odoo.timeout == 4.0


async def test_a_connection_cut_mid_request_keeps_the_change(desk: Desk) -> None:
    """Figures: 1 change kept when its Odoo call was cut, applied once after."""
    tid = await desk.new_ticket()
    desk.proxy.delay(0.3)  # the call is still in the proxy when the cut comes
    before = desk.proxy.connections
    typing = asyncio.create_task(desk.say(f"/ticket note {tid} Typed as the line was cut"))
    await eventually(lambda: desk.proxy.connections > before, 10, "the bot called Odoo", every=0.01)
    desk.proxy.cut()
    assert SAVED in await typing
    assert await desk.heal() == [APPLIED]
    assert desk.notes(tid, "Typed as the line was cut") == 1


def _fail(how: str) -> Callable[[RunningSandbox], None]:
    def apply(sandbox: RunningSandbox) -> None:
        if how == "proxy page":
            sandbox.odoo.down = True  # a reverse proxy's own 503 page: Odoo is not running behind it
        elif how == "database down":
            sandbox.odoo.database_down = True  # Odoo runs, its PostgreSQL does not: Odoo's own psycopg2 fault
        else:
            sandbox.odoo.failing_status = int(how)  # werkzeug's page for the status
    return apply


@pytest.mark.parametrize(("protocol", "how"), [
    ("xmlrpc", "500"), ("xmlrpc", "502"), ("xmlrpc", "503"), ("xmlrpc", "504"), ("jsonrpc", "503"), ("json2", "503"),
    ("xmlrpc", "proxy page"), ("xmlrpc", "database down"), ("jsonrpc", "database down"), ("json2", "database down"),
])
async def test_5xx_and_odoos_own_service_unavailable_keep_the_change(start_desk: StartDesk, protocol: str,
                                                                     how: str) -> None:
    """Figures: 1 change kept (not reported as refused), 0 applied while failing, 1 applied after."""
    desk = await start_desk(protocol=protocol)
    tid = await desk.new_ticket()
    _fail(how)(desk.sandbox)
    assert SAVED in await desk.say(f"/ticket note {tid} Typed while Odoo failed ({how})")
    assert NOT_ANSWERING in await desk.say(f"/ticket show {tid}")
    assert await desk.relay.run() == []
    assert await desk.relay.waiting() == 1

    desk.sandbox.odoo.down, desk.sandbox.odoo.database_down, desk.sandbox.odoo.failing_status = False, False, None
    assert await desk.heal() == [APPLIED]
    assert desk.notes(tid, f"Typed while Odoo failed ({how})") == 1


async def test_a_slow_odoo_within_the_timeout_answers_directly(desk: Desk) -> None:
    """Figures: 0 kept, 2 applied at once, though every packet waits 0.2 s each way."""
    tid = await desk.new_ticket()
    desk.proxy.delay(0.2)
    assert "Note added." in await desk.say(f"/ticket note {tid} Slow but fine")
    assert "On hold." in await desk.say(f"/ticket hold {tid} Waiting for parts")
    assert await desk.relay.waiting() == 0
    assert desk.notes(tid, "Slow but fine") == 1 and desk.stage(tid) == "On Hold"


async def test_odoo_finishing_a_create_after_the_bot_gave_up_makes_one_ticket(start_desk: StartDesk) -> None:
    """Odoo answers after the timeout, but it did create the ticket. Figures: 1 kept, 1 ticket in Odoo."""
    desk = await start_desk(odoo_timeout=1.0)
    title = "Wi-Fi down on floor 4"
    desk.sandbox.odoo.latency = 1.5
    assert SAVED in await desk.say(f"/ticket new {title} users:12")
    await eventually(lambda: desk.tickets_named(title) == 1, 10, "Odoo finished the create the bot gave up on",
                     every=0.01)
    desk.sandbox.odoo.latency = 0
    assert await desk.heal() == [APPLIED]
    assert desk.tickets_named(title) == 1


@dataclass(frozen=True)
class HalfApplied:
    """A command whose write reached Odoo while the reply was lost: `spare` calls answered before it."""

    command: str
    spare: int
    landed: Callable[[Desk, int, int], bool]  # (desk, the ticket, the other ticket) -> applied exactly once


HALF_APPLIED = {
    "note": HalfApplied("/ticket note {tid} Reply lost on the way back", 1,
                        lambda d, t, _: d.notes(t, "Reply lost on the way back") == 1),
    "update": HalfApplied("/ticket update {tid} A technician is on the way", 1,
                          lambda d, t, _: d.notes(t, "A technician is on the way") == 1),
    "new": HalfApplied("/ticket new Badge reader broken users:3", 0,
                       lambda d, t, _: d.tickets_named("Badge reader broken") == 1),
    "hold": HalfApplied("/ticket hold {tid} Waiting for the vendor", 1,
                        lambda d, t, _: d.stage(t) == "On Hold" and d.notes(t, "On hold: Waiting for the vendor") == 1),
    "resolve": HalfApplied("/ticket resolve {tid} Replaced the HDMI cable", 2,
                           lambda d, t, _: d.stage(t) == "Solved" and d.notes(t, "Replaced the HDMI cable") == 1),
    "confirm": HalfApplied("/ticket confirm {tid} Works now", 1,
                           lambda d, t, _: d.stage(t) == "Done" and d.notes(t, "Customer confirmed") == 1),
    "users": HalfApplied("/ticket users {tid} 12", 1,
                         lambda d, t, _: "Users affected: 12" in d.odoo.ticket(t)["description"]
                         and d.notes(t, "Class of service") == 1),
    "merge": HalfApplied("/ticket merge {other} into {tid}", 2,
                         lambda d, t, o: "Users affected: 3" in d.odoo.ticket(t)["description"]  # the larger
                         and d.stage(o) == "Cancelled" and d.notes(t, "into this ticket") == 1
                         and d.notes(o, "Duplicate of") == 1),
}


@pytest.mark.parametrize("name", list(HALF_APPLIED))
async def test_a_write_that_landed_with_its_reply_lost_is_applied_once(desk: Desk, name: str) -> None:
    """Odoo wrote, the reply never came back (the proxy swallowed it), so the command was kept and is
    replayed whole. Figures: 1 kept, 1 told applied, each effect exactly once in Odoo, at most one extra
    Odoo call per write to find what landed."""
    case = HALF_APPLIED[name]
    tid = await desk.new_ticket(users=2)
    other = await desk.new_ticket("Projector in room 302 again", users=3)
    await desk.say(f"/ticket ack {tid}")
    if name == "confirm":
        await desk.say(f"/ticket resolve {tid} Replaced the HDMI cable")
    desk.proxy.spare(case.spare)
    desk.proxy.swallow_replies()
    assert SAVED in await desk.say(case.command.format(tid=tid, other=other))
    assert desk.proxy.replies_swallowed >= 1
    before = desk.sandbox.odoo.calls.copy()
    assert await desk.heal() == [APPLIED]
    replayed = desk.sandbox.odoo.calls - before
    assert case.landed(desk, tid, other)
    looks = replayed[("mail.message", "search_read")] + replayed[("helpdesk.ticket", "search_read")]
    assert looks <= 3  # one look per write that could double (a merge has three)


async def test_a_kept_move_that_no_longer_fits_is_reported_not_counted_as_applied(desk: Desk) -> None:
    """A replayed move that finds the ticket where it leads counts as applied; one that finds it closed by
    someone else is refused. Figures: 0 applied, 1 reported with the reason."""
    tid = await desk.new_ticket()
    desk.proxy.refuse()
    assert SAVED in await desk.say(f"/ticket hold {tid} Waiting for the vendor")
    [done] = desk.odoo.call("helpdesk.ticket.stage", "search", [["name", "=", "Done"]])
    desk.odoo.call("helpdesk.ticket", "write", [tid], {"stage_id": done})  # closed in Odoo meanwhile
    desk.proxy.heal()
    desk.relay.odoo_answers_again()
    told = await desk.relay.run()
    assert told[0].startswith("Odoo is back: your command was NOT applied:")
    assert "is closed" in told[1]
    assert desk.notes(tid, "Waiting for the vendor") == 0 and desk.stage(tid) == "Done"


@pytest.mark.parametrize("fault", ["blackhole", "swallow replies"])
async def test_a_replayed_escalation_does_not_post_its_cards_again(start_desk: StartDesk, fault: str) -> None:
    """`/ticket escalate` posted its cards in the teams' channels, then its note to Odoo failed (never arrived,
    or written with the reply lost), so the command was kept and is replayed whole: the replay finds the
    escalations its first attempt saved (same ids: the command's key) and posts nothing. Figures: 1 kept, 1 told
    applied; 1 card per team, 1 note, 1 acknowledgment timer per escalation."""
    desk = await start_desk(odoo_timeout=1.0)
    for name, channel in (("dev", DEV), ("devops", DEVOPS)):
        await desk.teams.say_in_channel(f"/ticket channel {name}", channel, sender=LEAD)
    tid = await desk.new_ticket(users=16)
    desk.proxy.spare(2)  # the ticket and its diagnosis notes are read; the note written after the cards is hit
    desk.proxy.blackhole() if fault == "blackhole" else desk.proxy.swallow_replies()
    assert SAVED in await desk.say(f"/ticket escalate {tid} dev,devops 16 teachers blocked")
    cards = [desk.teams.connector.cards_in(channel) for channel in (DEV, DEVOPS)]
    assert [len(posted) for posted in cards] == [1, 1]
    assert desk.notes(tid, "Escalated to the Dev team, DevOps team") == (fault == "swallow replies")

    assert await desk.heal() == [APPLIED]
    assert [len(desk.teams.connector.cards_in(channel)) for channel in (DEV, DEVOPS)] == [1, 1]
    assert desk.notes(tid, "Escalated to the Dev team, DevOps team: 16 teachers blocked") == 1
    ids = sorted(str((posted[0].card or {})["refresh"]["action"]["data"]["escalation"]) for posted in cards)
    timers = await desk.relay.runtime.services.timers.pending(TIMER_KIND)
    assert sorted(timer.key for timer in timers) == ids
