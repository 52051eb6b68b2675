"""Nothing typed is lost: changes made while Odoo is down are kept and applied, in order, when it
is back; reads fail fast while it is down (circuit breaker)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from redis.asyncio import Redis

from bot.odoo.breaker import CircuitBreaker
from bot.odoo.errors import OdooUnavailable
from bot.outbox import Outbox, OutboxRelay
from bot.posts import Post
from bot.server import Runtime
from bot.turn import Conversation, ConversationType, Incoming, Kind, Person, Reply
from cards.posts import render
from tests.conftest import AGENT, RunningSandbox
from tests.support.connector import Posted
from tests.support.odoo_view import OdooView
from tests.support.teams import TeamsClient, card_text
from tests.support.waiting import eventually

PERSONAL = f"personal-{AGENT.id}"


async def new_ticket(teams: TeamsClient, odoo: OdooView) -> int:
    await teams.card("/ticket new Projector in room 302 shows no signal users:2")
    return int(odoo.newest_ticket()["id"])


async def relay(runtime: Runtime, teams: TeamsClient) -> list[str]:
    """Run the outbox relay once; the texts of the cards it posted to the agent."""
    before = len(teams.connector.posted)
    await runtime.relay.run_once()
    posted: list[Posted] = teams.connector.posted[before:]
    return [card_text(p.card) for p in posted if p.card and p.conversation_id.startswith(PERSONAL)]


async def test_changes_made_while_odoo_is_down_land_in_order_when_it_is_back(
        teams: TeamsClient, odoo: OdooView, sandbox: RunningSandbox, runtime: Runtime) -> None:
    tid = await new_ticket(teams, odoo)
    await teams.card(f"/ticket ack {tid}")
    before = len(odoo.messages(tid))
    sandbox.odoo.down = True
    first = card_text(await teams.card(f"/ticket update {tid} The technician is on his way."))
    assert "Odoo is not answering right now. Your command is saved" in first
    assert f"/ticket update {tid} The technician is on his way." in first
    second = card_text(await teams.card(f"/ticket note {tid} Cable replaced, still no signal"))
    assert "(1 before it, applied in order)" in second
    assert await relay(runtime, teams) == []  # still down: nothing is applied, nothing is lost
    assert await runtime.services.outbox.waiting() == 2

    sandbox.odoo.down = False
    runtime.services.odoo._rpc.breaker.succeeded()  # type: ignore[attr-defined]  # no cooldown wait in a test
    third = card_text(await teams.card(f"/ticket note {tid} Checked the HDMI switch"))
    assert "Your command is saved" in third  # Odoo is back, but older ones wait: this one goes behind them
    told = await relay(runtime, teams)
    assert [t.splitlines()[0] for t in told if t.startswith("Odoo is back")] == [
        "Odoo is back: your command was applied."] * 3
    bodies = [m["body"] for m in odoo.messages(tid)[before:]]
    assert len(bodies) == 3
    assert "technician is on his way" in bodies[0] and "Cable replaced" in bodies[1] and "HDMI switch" in bodies[2]
    assert await runtime.services.outbox.waiting() == 0
    assert await relay(runtime, teams) == []  # applied once


async def test_a_kept_command_that_odoo_then_refuses_is_reported(
        teams: TeamsClient, odoo: OdooView, sandbox: RunningSandbox, runtime: Runtime) -> None:
    tid = await new_ticket(teams, odoo)
    sandbox.odoo.down = True
    await teams.card(f"/ticket resolve {tid} Replaced the HDMI cable")
    sandbox.odoo.down = False
    runtime.services.odoo._rpc.breaker.succeeded()  # type: ignore[attr-defined]
    [done] = odoo.call("helpdesk.ticket.stage", "search", [["name", "=", "Done"]])
    odoo.call("helpdesk.ticket", "write", [tid], {"stage_id": done})  # closed in Odoo meanwhile
    told = await relay(runtime, teams)
    assert told[0].startswith("Odoo is back: your command was NOT applied:")
    assert "is closed" in told[1] and "/ticket reopen" in told[1]
    assert await runtime.services.outbox.waiting() == 0  # reported, not retried forever


async def test_a_redelivered_activity_is_kept_once(teams: TeamsClient, odoo: OdooView, sandbox: RunningSandbox,
                                                   runtime: Runtime) -> None:
    tid = await new_ticket(teams, odoo)
    sandbox.odoo.down = True
    activity = {**teams._base(teams.personal()), "type": "message", "text": f"/ticket note {tid} once"}
    await teams.send(activity)
    await teams.send(activity)  # Teams re-sends when the bot is slow
    assert await runtime.services.outbox.waiting() == 1


async def test_reads_fail_fast_while_odoo_is_down(teams: TeamsClient, odoo: OdooView, sandbox: RunningSandbox,
                                                  runtime: Runtime) -> None:
    tid = await new_ticket(teams, odoo)
    sandbox.odoo.down = True
    for _ in range(3):
        await teams.card(f"/ticket show {tid}")
    asked = sandbox.odoo.requests
    text = card_text(await teams.card(f"/ticket show {tid}"))
    assert "Odoo is not answering" in text
    assert sandbox.odoo.requests == asked  # the breaker is open: Odoo was not even asked


def test_the_breaker_opens_after_failures_in_a_row_and_tries_again_after_the_cooldown() -> None:
    now = [0.0]
    breaker = CircuitBreaker(threshold=3, cooldown=10, clock=lambda: now[0])
    breaker.failed()
    breaker.failed()
    breaker.check()  # two failures: still closed
    breaker.failed()
    with pytest.raises(OdooUnavailable, match="not answering"):
        breaker.check()
    now[0] = 10.5
    breaker.check()  # half-open: the next call may go through
    breaker.failed()
    with pytest.raises(OdooUnavailable):
        breaker.check()  # it failed again: open again
    now[0] = 21
    breaker.succeeded()
    breaker.failed()
    breaker.check()  # an answer reset the count


def kept_command(chat: str, n: int) -> Incoming:
    return Incoming(Kind.MESSAGE, f"{chat}-{n}", Conversation(chat, ConversationType.PERSONAL), Person("29:a", "Agent"),
                    text=f"/ticket note 1 {chat} #{n}", reference={"conversation": {"id": chat}})


class HeldChat:
    """Outbound whose posts to one chat wait until released (that chat's Teams budget is used up)."""

    def __init__(self, held: str) -> None:
        self.held, self.release, self.posted = held, asyncio.Event(), []

    async def send_to(self, reference: dict[str, Any], reply: Reply) -> str:
        if reference["conversation"]["id"] == self.held:
            await self.release.wait()
        self.posted.append((reference["conversation"]["id"], card_text(reply.card) if reply.card else reply.text))
        return str(len(self.posted))


async def replayed(incoming: Incoming, channel: object) -> tuple[list[Reply], bool]:
    return [Reply(text=f"done: {incoming.text}")], True


def drawn(post: Post) -> Reply:
    return render(post, tz=ZoneInfo("UTC"), now=datetime.now(UTC))


async def test_a_chat_waiting_for_its_budget_does_not_hold_up_telling_the_others(redis: Redis) -> None:
    """Figures: 2 chats x 3 kept commands; the held chat's 6 posts come after the other's 6, each chat in order."""
    outbox, outbound = Outbox(redis, "test:outbox:"), HeldChat("chat-a")
    for n in range(3):
        for chat in ("chat-a", "chat-b"):
            assert await outbox.keep(kept_command(chat, n), odoo_user_id=7)
    relay = OutboxRelay(outbox, replayed, outbound, draw=drawn, remember_user=lambda *_: asyncio.sleep(0))
    running = asyncio.create_task(relay.run_once())
    await eventually(lambda: len(outbound.posted) == 6, 5, "chat-b told")
    assert {chat for chat, _ in outbound.posted} == {"chat-b"}  # told while chat-a waits
    assert not running.done()  # the round waits for every telling before it gives the lock back
    outbound.release.set()
    assert await running == 6
    for chat in ("chat-a", "chat-b"):
        said = [text for to, text in outbound.posted if to == chat]
        assert [line for line in said if line.startswith("done")] == [f"done: /ticket note 1 {chat} #{n}"
                                                                       for n in range(3)]
        assert said[0].startswith("Odoo is back: your command was applied.")


async def test_the_relay_keeps_its_lock_while_a_round_outlasts_the_lease(redis: Redis) -> None:
    """Figures: a round held 3 leases long; a second replica's round meanwhile relays 0 and posts nothing."""
    outbox, outbound = Outbox(redis, "test:lease:"), HeldChat("chat-a")
    assert await outbox.keep(kept_command("chat-a", 0), odoo_user_id=7)
    first = OutboxRelay(outbox, replayed, outbound, draw=drawn, remember_user=lambda *_: asyncio.sleep(0), lease=0.3)
    second = OutboxRelay(outbox, replayed, outbound, draw=drawn, remember_user=lambda *_: asyncio.sleep(0), lease=0.3)
    running = asyncio.create_task(first.run_once())
    await asyncio.sleep(0.9)  # three leases: without renewal the lock would have lapsed
    assert await outbox.keep(kept_command("chat-b", 1), odoo_user_id=7)
    assert await second.run_once() == 0
    assert outbound.posted == []
    outbound.release.set()
    assert await running == 1
    assert await redis.exists("test:lease:relay") == 0  # given back
