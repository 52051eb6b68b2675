"""Redis faults, with the bot built by `create_app` as production builds it:

- a restart WITHOUT persistence (a new redis-server process on the same port, empty): the bot reconnects
  by itself, the reminders are rebuilt from Odoo by the next poll and fire, `/readyz` names the channels
  to register again, and registering them works; an open escalation comes back from the chatter and its
  card is posted again once its channel is registered again (more in tests/test_escalation_rebuild.py);
- a restart WITH an append-only file (SIGKILL, then a new process): every key comes back as it was
  (channels, 1:1 chats, escalations and their card ids, timers), and no reminder is lost or sent twice;
- Redis unreachable or slow behind the fault proxy (blackhole, delay, cut): a turn answers that Redis is
  not answering within the socket timeout and changes nothing; the timer worker and the Odoo poller live
  through the outage and carry on.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from redis import Redis as SyncRedis

from bot.escalation.model import Answer
from bot.escalation.store import EscalationStore
from bot.reminders.policy import Kind
from bot.server import RUNTIME, Runtime, create_app
from tests.conftest import AGENT, LEAD, FakeClock, RunningSandbox, bot_settings
from tests.support.connector import ConnectorStub, Posted
from tests.support.faultproxy import FaultProxy, fault_proxy
from tests.support.odoo_view import OdooView
from tests.support.redis_server import restartable_redis
from tests.support.teams import TeamsClient, card_text
from tests.support.waiting import eventually
from tests.test_escalation import DEV, DUC, MANAGEMENT, SENIOR

SUPPORT = "19:support@thread.tacv2"
REDIS_DOWN = "My storage (Redis) is not answering right now"
TIMEOUT = 0.5  # the bot's Redis socket timeout in these tests (REDIS_TIMEOUT_SECONDS)


@asynccontextmanager
async def bot_on(redis_url: str, sandbox: RunningSandbox, clock: FakeClock, connector: tuple[ConnectorStub, str],
                 **settings: Any) -> AsyncIterator[tuple[TeamsClient, Runtime]]:
    """The bot on `redis_url` (a restartable server, or the proxy), and a Teams client talking to it as AGENT."""
    server = TestServer(create_app(bot_settings(redis_url, sandbox.url, redis_timeout=TIMEOUT, **settings),
                                   clock=clock.now), host="127.0.0.1")
    await server.start_server()
    stub, connector_url = connector
    stub.add_member(DUC.id, DUC.name, DUC.email)
    try:
        async with aiohttp.ClientSession() as session:
            yield (TeamsClient(str(server.make_url("/api/messages")), connector_url, stub, session, AGENT),
                   server.app[RUNTIME])
    finally:
        await server.close()


async def readiness(teams: TeamsClient) -> dict[str, Any]:
    async with teams.session.get(teams.bot_url.removesuffix("/api/messages") + "/readyz") as response:
        return dict(await response.json())


async def new_ticket(teams: TeamsClient, odoo: OdooView, args: str) -> tuple[int, str]:
    await teams.card(f"/ticket new {args}")
    ticket = odoo.newest_ticket()
    return int(ticket["id"]), str(ticket["number"])


def reminders_about(posted: list[Posted], number: str) -> list[tuple[str, str]]:
    """(conversation, card text) of each reminder card about ticket `number`."""
    return [(p.conversation_id, text) for p in posted if p.card and number in (text := card_text(p.card))
            and ("is not acknowledged yet" in text or "is due an update" in text)]


async def reminders_pending(runtime: Runtime) -> set[tuple[str, str]]:
    """(kind, ticket id) of each pending ticket reminder."""
    return {(t.kind, t.key) for t in await runtime.services.timers.pending() if t.kind in set(Kind)}


async def fire(runtime: Runtime, stub: ConnectorStub) -> list[Posted]:
    before = len(stub.posted)
    await runtime.worker.run_once()
    return stub.posted[before:]


# --- a restart without persistence ----------------------------------------------------------------------------

async def test_a_restart_without_persistence_loses_nothing_that_odoo_knows(
        tmp_path: Any, sandbox: RunningSandbox, clock: FakeClock, connector: tuple[ConnectorStub, str]) -> None:
    """Figures: a command typed while Redis restarts answered normally (0 failed turns: the bot reconnects
    by itself); every open ticket's reminders rebuilt by the next poll; the acknowledgment reminder fired
    once; channels missing 2, then 0 once registered again; the open escalation's card posted again once."""
    odoo = OdooView(sandbox.odoo)
    stub = connector[0]
    with restartable_redis(tmp_path, appendonly=False) as redis_server:
        async with bot_on(redis_server.url, sandbox, clock, connector) as (teams, runtime):
            await teams.say_in_channel("/ticket channel support", SUPPORT, sender=LEAD)
            await teams.say_in_channel("/ticket channel management", MANAGEMENT, sender=LEAD)
            await teams.say_in_channel("/ticket channel dev", DEV, sender=LEAD)
            tid, number = await new_ticket(teams, odoo, "Login loop users:1 customer:teacher01@mindx.edu.vn")
            await teams.card(f"/ticket escalate {tid} dev Teachers cannot log in")  # 4 h to acknowledge
            await runtime.poller.poll_once()  # the first poll sets its cursors
            before = await reminders_pending(runtime)
            assert (Kind.ACK, str(tid)) in before
            assert (await readiness(teams))["channels_missing"] == []

            redis_server.crash()

            async def start_again() -> None:  # a new empty process on the same port, a moment later
                await asyncio.sleep(0.3)
                await asyncio.to_thread(redis_server.start)
            restarting = asyncio.create_task(start_again())
            answer = card_text(await teams.card(f"/ticket show {tid}"))  # typed while Redis restarts
            await restarting
            assert number in answer and REDIS_DOWN not in answer
            ready = await readiness(teams)
            assert ready["redis"] is True and ready["channels_missing"] == ["support", "management"]
            lost = before - await reminders_pending(runtime)  # gone with the data
            assert len(lost) >= 3  # the seeded open tickets' (`show` just put its own ticket's back)

            await runtime.poller.poll_once()  # the "rebuilt" marker is gone: rebuilt from Odoo's open tickets
            assert await reminders_pending(runtime) == before

            clock.advance(minutes=31)
            [(chat, text)] = reminders_about(await fire(runtime, stub), number)  # fired once, to the owner
            assert chat == f"personal-{AGENT.id}" and "is not acknowledged yet" in text
            assert reminders_about(await fire(runtime, stub), number) == []

            await teams.say_in_channel("/ticket channel support", SUPPORT, sender=LEAD)  # registering again works
            await teams.say_in_channel("/ticket channel management", MANAGEMENT, sender=LEAD)
            assert (await readiness(teams))["channels_missing"] == []
            assert set(await runtime.services.references.channels()) == {"support", "management"}

            await teams.say_in_channel("/ticket channel dev", DEV, sender=LEAD)  # the escalation's card, posted again
            clock.advance(minutes=1)
            await fire(runtime, stub)
            await fire(runtime, stub)
            [_, again] = stub.cards_in(DEV)
            assert "Posted again" in card_text(again.card or {}) and number in card_text(again.card or {})


# --- a restart with an append-only file -----------------------------------------------------------------------

def everything_in(url: str) -> dict[bytes, Any]:
    """Every key and its whole value, read according to its type."""
    read = {b"string": lambda c, k: c.get(k), b"hash": lambda c, k: c.hgetall(k),
            b"set": lambda c, k: sorted(c.smembers(k)), b"zset": lambda c, k: c.zrange(k, 0, -1, withscores=True),
            b"list": lambda c, k: c.lrange(k, 0, -1), b"stream": lambda c, k: c.xrange(k)}
    with SyncRedis.from_url(url) as client:
        return {key: (kind, read[kind](client, key)) for key in client.keys("*") if (kind := client.type(key))}


@pytest.mark.parametrize("how", ["crash", "clean stop"])
async def test_a_restart_with_an_append_only_file_brings_everything_back(
        how: str, tmp_path: Any, sandbox: RunningSandbox, clock: FakeClock,
        connector: tuple[ConnectorStub, str]) -> None:
    """Figures: every key back with the same value (channels, 1:1 chats, escalation records with their card ids,
    pending timers, the rebuilt marker); each reminder sent exactly once across the restart (0 lost,
    0 twice); the escalation passed on once after the restart, its old card redrawn by the id that came back."""
    odoo = OdooView(sandbox.odoo)
    stub = connector[0]
    with restartable_redis(tmp_path, appendonly=True, appendfsync="always") as redis_server:
        async with bot_on(redis_server.url, sandbox, clock, connector) as (teams, runtime):
            for name, channel in (("support", SUPPORT), ("management", MANAGEMENT), ("dev", DEV),
                                  ("senior", SENIOR)):
                await teams.say_in_channel(f"/ticket channel {name}", channel, sender=LEAD)
            await teams.say("/ticket list mine", sender=LEAD)  # the lead's 1:1 chat is known
            first, first_number = await new_ticket(teams, odoo, "Login loop users:1")
            clock.advance(minutes=10)
            _, second_number = await new_ticket(teams, odoo, "Projector broken users:2")
            await teams.card(f"/ticket escalate {first} dev Teachers blocked")
            [dev_card] = stub.cards_in(DEV)
            escalation_id = str((dev_card.card or {})["refresh"]["action"]["data"]["escalation"])

            clock.advance(minutes=21)  # the first ticket's acknowledgment is due, the second's not yet
            assert len(reminders_about(await fire(runtime, stub), first_number)) == 1
            assert reminders_about(stub.posted, second_number) == []

            kept = everything_in(redis_server.url)
            escalation = await EscalationStore(runtime.services.store).get(escalation_id)
            assert escalation is not None and escalation.activity_id == dev_card.id
            if how == "crash":
                redis_server.crash()  # SIGKILL: nothing more is written; appendfsync always has it all
            else:
                redis_server.stop()
            redis_server.start()  # a new process on the same port, loading the append-only file
            assert everything_in(redis_server.url) == kept

            assert await EscalationStore(runtime.services.store).get(escalation_id) == escalation
            ready = await readiness(teams)
            assert ready["redis"] is True and ready["channels_missing"] == []
            await runtime.poller.poll_once()  # the rebuilt marker came back too: nothing to rebuild
            assert everything_in(redis_server.url).keys() >= kept.keys()

            for _ in range(3):  # 15 minutes, five at a time: the second's first reminder, the first's second
                clock.advance(minutes=5)
                await fire(runtime, stub)
            owner, lead = f"personal-{AGENT.id}", f"personal-{LEAD.id}"
            first_sent = Counter((chat, "(reminder 2)" in text) for chat, text in reminders_about(stub.posted,
                                                                                                  first_number))
            assert first_sent == {(owner, False): 1, (owner, True): 1, (lead, True): 1, (SUPPORT, True): 1}
            second_sent = Counter((chat, "(reminder" in text) for chat, text in reminders_about(stub.posted,
                                                                                                second_number))
            assert second_sent == {(owner, False): 1}

            # the escalation (Standard: 4 h to acknowledge) passes on once, after the restart
            clock.advance(hours=4)
            await runtime.worker.run_once()
            await runtime.worker.run_once()
            assert len(stub.cards_in(SENIOR)) == 1
            [redrawn] = [u for u in stub.updated if u.id == dev_card.id]  # by the card id kept in Redis
            assert "passed on to the Senior engineers" in card_text(redrawn.card or {})
            status, body = await teams.invoke(Answer.ACKNOWLEDGE.value, {"escalation": escalation_id},
                                              channel=DEV, sender=DUC)
            assert status == 200 and "It was passed on to the Senior engineers" in card_text(body["value"])


# --- Redis unreachable or slow behind the fault proxy -----------------------------------------------------------

@contextmanager
def proxied(redis_url: str) -> Iterator[FaultProxy]:
    upstream = urlsplit(redis_url)
    with fault_proxy(upstream.hostname or "127.0.0.1", upstream.port or 6379) as proxy:
        yield proxy


def within(seconds: float) -> Any:
    """A guard against a hang (the test fails instead of waiting forever), not a measurement."""
    return asyncio.timeout(seconds)


@pytest.mark.parametrize("fault", ["blackhole", "delay"])
async def test_a_turn_gets_a_clear_answer_when_redis_does_not_answer_and_nothing_is_done(
        fault: str, redis: Any, redis_url: str, sandbox: RunningSandbox, clock: FakeClock,
        connector: tuple[ConnectorStub, str]) -> None:
    """Figures: 3 turns during the outage, 3 answered "Redis is not answering" (none hung: each within
    2 socket timeouts); 0 tickets created, 0 chatter notes (and through the blackhole 0 keys written);
    after healing, the same commands applied once each."""
    odoo = OdooView(sandbox.odoo)
    with proxied(redis_url) as proxy:
        async with bot_on(f"redis://{proxy.address}/0", sandbox, clock, connector) as (teams, _):
            tid, _ = await new_ticket(teams, odoo, "Login loop users:1")
            tickets = odoo.call("helpdesk.ticket", "search_count", [])
            notes = len(odoo.messages(tid))
            keys = sorted(await redis.keys("*"))
            if fault == "blackhole":  # nothing reaches Redis
                proxy.blackhole()
            else:
                proxy.delay(TIMEOUT * 4)  # slower than the socket timeout (what it sent may still land late)
            for typed in (f"/ticket note {tid} Checked the LMS logs", "/ticket new Wi-Fi drops users:3",
                          f"/ticket show {tid}"):
                async with within(TIMEOUT * 2 + 1):
                    [reply] = await teams.say(typed)
                assert REDIS_DOWN in card_text(reply.card or {}) and "try again in a minute" in card_text(
                    reply.card or {})
            assert odoo.call("helpdesk.ticket", "search_count", []) == tickets
            assert len(odoo.messages(tid)) == notes
            if fault == "blackhole":
                assert sorted(await redis.keys("*")) == keys

            proxy.heal()
            await teams.card(f"/ticket note {tid} Checked the LMS logs")
            assert len(odoo.messages(tid)) == notes + 1
            await teams.card("/ticket new Wi-Fi drops users:3")
            assert odoo.call("helpdesk.ticket", "search_count", []) == tickets + 1


async def test_cut_connections_are_made_again_by_the_next_command(
        redis_url: str, redis: Any, sandbox: RunningSandbox, clock: FakeClock,
        connector: tuple[ConnectorStub, str]) -> None:
    """Figures: 3 cuts of every live connection, 3 commands after them, 3 normal answers (0 errors)."""
    odoo = OdooView(sandbox.odoo)
    with proxied(redis_url) as proxy:
        async with bot_on(f"redis://{proxy.address}/0", sandbox, clock, connector) as (teams, _):
            tid, number = await new_ticket(teams, odoo, "Login loop users:1")
            connections = proxy.connections
            for _ in range(3):
                proxy.cut()
                answer = card_text(await teams.card(f"/ticket show {tid}"))
                assert number in answer and REDIS_DOWN not in answer
            assert proxy.connections > connections  # it did connect again


async def test_the_timer_worker_and_the_poller_live_through_an_outage(
        redis_url: str, redis: Any, sandbox: RunningSandbox, clock: FakeClock,
        connector: tuple[ConnectorStub, str], caplog: pytest.LogCaptureFixture) -> None:
    """The worker and the poller run for real (background tasks on, a poll every 0.2 s) while Redis is
    blackholed for several socket timeouts. Figures: both saw the outage (failed rounds logged), then the
    reminder that came due during it fired once, and a change made in Odoo during it moved the timers."""
    odoo = OdooView(sandbox.odoo)
    stub = connector[0]
    caplog.set_level(logging.WARNING)
    with proxied(redis_url) as proxy:
        async with bot_on(f"redis://{proxy.address}/0", sandbox, clock, connector, background_tasks=True,
                          poll_interval=0.2) as (teams, runtime):
            acked, _ = await new_ticket(teams, odoo, "Login loop users:1")
            _, number = await new_ticket(teams, odoo, "Projector broken users:2")
            engine = runtime.services.timers
            await eventually(lambda: redis.exists(runtime.services.store.key("poll", "write_date")), 10,
                             "the poller's first look")

            proxy.blackhole()
            clock.advance(minutes=31)  # both acknowledgments come due during the outage
            [in_progress] = odoo.call("helpdesk.ticket.stage", "search", [["name", "=", "In Progress"]])
            odoo.call("helpdesk.ticket", "write", [acked], {"stage_id": in_progress})  # acknowledged in Odoo
            await asyncio.sleep(TIMEOUT * 4)
            proxy.heal()

            async def nagged() -> bool:
                return bool(reminders_about(stub.posted, number))
            await eventually(nagged, 10, "the reminder due during the outage")

            written = str(odoo.ticket(acked)["write_date"])

            async def polled() -> bool:  # only the poller moves its cursor: to the write made in the outage
                return await redis.get(runtime.services.store.key("poll", "write_date")) == written
            await eventually(polled, 10, "the poller to see the ticket acknowledged in Odoo")
            timers = await engine.get_all(str(acked), [Kind.ACK, Kind.UPDATE])
            assert timers[Kind.ACK] is None and timers[Kind.UPDATE] is not None
            await asyncio.sleep(0.5)  # a few more rounds of both
            assert len(reminders_about(stub.posted, number)) == 1
            logged = [record.getMessage() for record in caplog.records]
            assert any("timer worker: a round failed" in line for line in logged)  # both did feel the outage
            assert any("polling Odoo: Redis failed" in line for line in logged)
            async with teams.session.get(teams.bot_url.removesuffix("/api/messages") + "/healthz") as response:
                assert response.status == 200  # every background loop outlived the outage
