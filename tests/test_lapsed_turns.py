"""A bot process killed in the middle of a turn, and Teams never delivers the activity again: a live
replica's sweeper (bot.lapsed) takes the lapsed claim over after the grace, runs the turn again and answers
in the agent's chat; a re-delivery racing the sweepers runs it once between them.

Real processes as in tests/test_killed_turn.py (bots from `tests/support/bot_process.py` on one
redis-server, the Odoo double behind the fault proxy, SIGKILL for the crash); the takeover script itself
in-process, on the real redis-server."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from botbuilder.schema import Activity
from redis.asyncio import Redis

from bot.adapter import to_incoming
from bot.deliveries import KEEP_SECONDS, MAX_TAKEOVERS, Deliveries, Delivery
from bot.i18n import speaking, tr
from bot.lapsed import finished_after_restart
from bot.server import RUNTIME, Runtime, create_app
from bot.turn import Conversation, Incoming, Kind, Person, Reply
from tests.conftest import AGENT, FakeClock, RunningSandbox, bot_settings
from tests.support.connector import ConnectorStub, Posted
from tests.support.faultproxy import FaultProxy
from tests.support.markdown import constructs, visible
from tests.support.odoo_view import OdooView
from tests.support.replicas import BotProcess, deliver, notes, replicas, typed
from tests.support.teams import TeamsClient, card_text
from tests.support.waiting import eventually

LEASE = 2.0  # seconds the dead process's claim outlives it
GRACE = 2 * LEASE  # then a sweeper takes it over (a re-delivery had that long to come)
SWEEP_EVERY = 0.2
UNIT_LEASE = 0.2  # the in-process tests' lease (their grace: 0.4 s)
RACE_LEASE = 1.0  # the race's: its ten racers must all have run before the winner's lease could lapse
DELIVERIES = "{ticketbot:delivery}:"  # the bot's keys, in one hash slot (bot.server: store.tagged("delivery"))
RESTARTED = "I was restarted in the middle of"


class StartBot(Protocol):
    def __call__(self, *, sweep_every: float = 0.0) -> Awaitable[BotProcess]: ...


@pytest.fixture
async def start_bot(redis: Redis, redis_url: str, proxy: FaultProxy, connector: tuple[ConnectorStub, str],
                    tmp_path: Path) -> AsyncIterator[StartBot]:
    async with replicas(redis_url, f"http://{proxy.address}", connector, tmp_path, turn_lease=LEASE) as running:
        yield running.start


def chat(teams: TeamsClient) -> list[Posted]:
    """The cards posted in the agent's 1:1 chat so far, with the text above them."""
    return teams.connector.cards_in(teams.personal()["id"])


def activity_key(teams: TeamsClient, activity: dict[str, Any]) -> str:
    return f"{teams.personal()['id']}:{activity['id']}"


async def finished_for_good(redis: Redis, teams: TeamsClient, activity: dict[str, Any]) -> None:
    """The turn is done in Redis and nothing is left for a sweeper: nobody will run it again."""
    key = activity_key(teams, activity)
    assert await redis.get(DELIVERIES + key) == "done"
    assert not await redis.exists(f"{DELIVERIES}{key}:turn")  # what was kept of it is gone
    assert await redis.zscore(DELIVERIES + "leases", key) is None


async def kill_mid_turn(bot: BotProcess, activity: dict[str, Any], holding: Callable[[], bool]) -> float:
    """Deliver `activity` to `bot`, SIGKILL it once `holding()` (the turn is mid-way); when it died."""
    sending = asyncio.create_task(deliver(bot.teams, activity))
    await eventually(holding, 20, "the turn to be mid-way", every=0.01)
    await bot.kill()
    killed = time.monotonic()
    with pytest.raises(aiohttp.ClientError):
        await sending  # Teams gets no answer, and (here) never delivers it again
    return killed


async def test_a_turn_killed_after_odoo_wrote_is_finished_by_a_live_replica_without_redelivery(
        start_bot: StartBot, proxy: FaultProxy, sandbox: RunningSandbox, redis: Redis) -> None:
    """Figures: the note in Odoo once, the answer in the agent's chat once, saying it was finished after a
    restart, between the grace (4 s) and lease + grace + 3 s after the kill; delivered once, never again."""
    odoo = OdooView(sandbox.odoo)
    first, second = await start_bot(), await start_bot(sweep_every=SWEEP_EVERY)
    await first.teams.card("/ticket new Shared drive is read-only users:4")
    tid = int(odoo.newest_ticket()["id"])
    activity = typed(first.teams, f"/ticket note {tid} Remounted the share")
    told = len(chat(first.teams))

    proxy.delay(0.5)  # every packet waits: Odoo has written the note well before the bot hears back
    killed = await kill_mid_turn(first, activity, lambda: notes(odoo, tid, "Remounted the share") == 1)
    proxy.heal()

    await eventually(lambda: len(chat(second.teams)) > told, LEASE + GRACE + 10, "the sweeper to answer")
    took = time.monotonic() - killed
    assert GRACE <= took <= LEASE + GRACE + 3, f"finished {took:.1f} s after the kill"
    [answer] = chat(second.teams)[told:]
    assert answer.text.startswith(f"{RESTARTED} `/ticket note {tid} Remounted the share`")
    assert "Note added." in card_text(answer.card or {})
    assert notes(odoo, tid, "Remounted the share") == 1  # found in Odoo, not written again
    assert second.logged("finishing the turn") == 1
    await finished_for_good(redis, second.teams, activity)


async def test_a_turn_killed_before_odoo_heard_of_it_is_applied_by_the_sweeper(
        start_bot: StartBot, proxy: FaultProxy, sandbox: RunningSandbox, redis: Redis) -> None:
    """Figures: Odoo never answered the killed turn (nothing written); the sweeper puts the ticket on hold
    with its note once, and the agent gets the answer once."""
    odoo = OdooView(sandbox.odoo)
    first, second = await start_bot(), await start_bot(sweep_every=SWEEP_EVERY)
    await first.teams.card("/ticket new Projector fan is loud users:1")
    tid = int(odoo.newest_ticket()["id"])
    stage = odoo.ticket(tid)["stage_id"]
    activity = typed(first.teams, f"/ticket hold {tid} Waiting for a spare fan")
    told = len(chat(first.teams))

    proxy.blackhole()  # the turn's first call to Odoo never comes back
    before = proxy.connections
    await kill_mid_turn(first, activity, lambda: proxy.connections > before)
    proxy.heal()
    assert notes(odoo, tid, "Waiting for a spare fan") == 0 and odoo.ticket(tid)["stage_id"] == stage

    await eventually(lambda: len(chat(second.teams)) > told, LEASE + GRACE + 10, "the sweeper to answer")
    [answer] = chat(second.teams)[told:]
    assert answer.text.startswith(RESTARTED) and "On hold." in card_text(answer.card or {})
    assert notes(odoo, tid, "Waiting for a spare fan") == 1
    assert odoo.ticket(tid)["stage_id"] != stage
    await finished_for_good(redis, second.teams, activity)

    await deliver(second.teams, activity)  # a late re-delivery after all: done, ignored
    assert len(chat(second.teams)) == told + 1


async def test_a_redelivery_racing_two_sweepers_runs_the_turn_once(
        start_bot: StartBot, proxy: FaultProxy, sandbox: RunningSandbox, redis: Redis) -> None:
    """Three turns killed mid-way at once; as each one's grace ends (30 ms before, at, 30 ms after), Teams
    delivers it again to both live replicas (four times each, 40 ms apart), while both sweep every 50 ms.
    Figures: each turn run once (one run logged across the replicas), its note once, one answer."""
    odoo = OdooView(sandbox.odoo)
    first = await start_bot()
    second, third = await start_bot(sweep_every=0.05), await start_bot(sweep_every=0.05)
    await first.teams.card("/ticket new Lab printers offline users:12")
    tid = int(odoo.newest_ticket()["id"])
    texts = [f"Checked print server {n}" for n in range(3)]
    activities = [typed(first.teams, f"/ticket note {tid} {text}") for text in texts]
    told = len(chat(first.teams))

    proxy.delay(0.5)
    sending = [asyncio.create_task(deliver(first.teams, activity)) for activity in activities]
    await eventually(lambda: all(notes(odoo, tid, text) == 1 for text in texts), 30, "Odoo wrote the notes",
                     every=0.01)
    await first.kill()
    for task in sending:
        with pytest.raises(aiohttp.ClientError):
            await task
    proxy.heal()

    async def race(activity: dict[str, Any], offset: float) -> None:
        """Teams delivers it again from `offset` seconds after the sweepers may take it over."""
        expiry = await redis.zscore(DELIVERIES + "leases", activity_key(first.teams, activity))
        assert expiry is not None
        seconds, micros = await redis.time()  # the clock the leases are kept by
        await asyncio.sleep(max(0.0, (expiry + GRACE * 1000 - seconds * 1000 - micros / 1000) / 1000 + offset))
        for _ in range(4):
            await asyncio.gather(deliver(second.teams, activity), deliver(third.teams, activity))
            await asyncio.sleep(0.04)

    await asyncio.gather(*(race(activity, offset) for activity, offset in zip(activities, (-0.03, 0.0, 0.03),
                                                                                strict=True)))
    await eventually(lambda: len(chat(first.teams)) >= told + 3, 20, "every turn answered")
    await asyncio.sleep(1)  # a second run would have answered by now
    answered = [card_text(posted.card or {}) for posted in chat(first.teams)[told:]]
    assert len(answered) == 3 and all("Note added." in text for text in answered)
    assert all(notes(odoo, tid, text) == 1 for text in texts)
    runs = sum(bot.logged("runs again (the process running it stopped)") for bot in (second, third))
    swept = sum(bot.logged("finishing the turn") for bot in (second, third))  # those runs the sweepers won
    assert runs == 3, f"{runs} runs for 3 turns, {swept} of them by a sweeper"
    for activity in activities:
        await finished_for_good(redis, first.teams, activity)


@dataclass
class QuickBot:
    """The bot in-process as `create_app` builds it, with a short turn lease; its sweeper is run by hand."""

    runtime: Runtime
    teams: TeamsClient


@pytest.fixture
async def quick_bot(redis: Redis, redis_url: str, sandbox: RunningSandbox, clock: FakeClock,
                    connector: tuple[ConnectorStub, str]) -> AsyncIterator[QuickBot]:
    app = create_app(bot_settings(redis_url, sandbox.url, turn_lease=UNIT_LEASE), clock=clock.now)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    stub, connector_url = connector
    async with aiohttp.ClientSession() as session:
        yield QuickBot(app[RUNTIME], TeamsClient(str(server.make_url("/api/messages")), connector_url, stub,
                                                  session, AGENT))
    await server.close()


async def claimed_by_a_dying_replica(bot: QuickBot, text: str) -> dict[str, Any]:
    """The agent types `text`; the replica it reached claims it and dies before running it. The activity."""
    activity = typed(bot.teams, text)
    claim = await bot.runtime.services.deliveries.claim(to_incoming(Activity().deserialize(activity)))
    assert claim.delivery is Delivery.FIRST
    return activity


async def test_a_lapsed_turn_swept_while_odoo_is_down_is_kept_in_the_outbox_and_applied_later(
        quick_bot: QuickBot, sandbox: RunningSandbox) -> None:
    """When the turn is swept Odoo is down, so it is kept like any command typed then (the agent told, after
    the restart line), and the relay applies it once Odoo is back."""
    runtime, teams, odoo = quick_bot.runtime, quick_bot.teams, OdooView(sandbox.odoo)
    await teams.card("/ticket new Wi-Fi drops in room 4 users:9")
    tid = int(odoo.newest_ticket()["id"])
    await claimed_by_a_dying_replica(quick_bot, f"/ticket note {tid} Access point rebooted")
    told = len(chat(teams))

    sandbox.odoo.down = True
    await eventually(lambda: _lapsed_any(runtime.services.deliveries), 5, "the grace to end", every=0.01)
    assert await runtime.sweeper.run_once() == 1
    [kept] = chat(teams)[told:]
    assert kept.text.startswith(f"{RESTARTED} `/ticket note {tid} Access point rebooted`")
    assert "Your command is saved" in card_text(kept.card or {})
    assert await runtime.services.outbox.waiting() == 1
    assert await runtime.sweeper.run_once() == 0  # done: it is the outbox's now

    sandbox.odoo.down = False
    runtime.services.odoo._rpc.breaker.succeeded()  # type: ignore[attr-defined]  # no cooldown in a test
    await runtime.relay.run_once()
    assert notes(odoo, tid, "Access point rebooted") == 1
    assert "Odoo is back: your command was applied." in card_text(chat(teams)[told + 1].card or {})


async def test_a_turn_that_stopped_every_sweeper_is_given_up_and_the_agent_told(
        quick_bot: QuickBot, sandbox: RunningSandbox) -> None:
    runtime, teams, odoo = quick_bot.runtime, quick_bot.teams, OdooView(sandbox.odoo)
    teams.locale = "vi-VN"
    await teams.card("/ticket new Wi-Fi drops in room 4 users:9")
    tid = int(odoo.newest_ticket()["id"])
    activity = await claimed_by_a_dying_replica(quick_bot, f"/ticket note {tid} Access point rebooted")
    deliveries = runtime.services.deliveries
    for _ in range(MAX_TAKEOVERS):  # each sweeper that takes it dies running it
        await eventually(lambda: _lapsed_any(deliveries), 5, "the grace to end", every=0.01)
        assert await deliveries.take_over(activity_key(teams, activity)) is not None
    told = len(chat(teams))
    await eventually(lambda: _lapsed_any(deliveries), 5, "the grace to end", every=0.01)
    assert await runtime.sweeper.run_once() == 1
    [given_up] = chat(teams)[told:]
    said = card_text(given_up.card or {})
    assert f"`/ticket note {tid} Access point rebooted`" in said and "Odoo" in said
    with speaking("vi-VN"):
        assert said.startswith(tr("I could not finish `{typed}`: I was stopped each time I tried it.",
                                  typed=f"/ticket note {tid} Access point rebooted"))
    assert notes(odoo, tid, "Access point rebooted") == 0  # not run a fourth time
    assert await runtime.sweeper.run_once() == 0


async def _lapsed_any(deliveries: Deliveries) -> bool:
    return bool(await deliveries.lapsed())


# The takeover itself, in-process on the real redis-server.

def incoming(activity_id: str) -> Incoming:
    return Incoming(Kind.MESSAGE, activity_id, Conversation("conversation"), Person("29:someone", "Someone"),
                    text="/ticket note 1 Remounted the share", locale="vi-VN",
                    reference={"conversation": {"id": "conversation"}, "serviceUrl": "https://teams.example"})


async def lapsed(deliveries: Deliveries, key: str) -> bool:
    return key in await deliveries.lapsed()


async def gone(redis: Redis, key: str) -> bool:
    return not await redis.exists(key)


async def test_a_lapsed_claim_is_taken_over_once_after_the_grace_with_the_turn_it_kept(redis: Redis) -> None:
    deliveries = Deliveries(redis, "{test:delivery}:", lease=UNIT_LEASE)
    key, turn = "conversation:activity-1", "{test:delivery}:conversation:activity-1:turn"
    typed_in = incoming("activity-1")
    assert (await deliveries.claim(typed_in)).delivery is Delivery.FIRST  # then its process dies
    assert KEEP_SECONDS - 5 < await redis.ttl(turn) <= KEEP_SECONDS  # kept as long as the claim, no longer
    assert await redis.ttl(turn) == await redis.ttl("{test:delivery}:" + key)
    assert await deliveries.lapsed() == [] and await deliveries.take_over(key) is None  # the lease holds

    await eventually(lambda: gone(redis, f"{{test:delivery}}:{key}:lease"), 5, "the lease to lapse", every=0.01)
    lapse_seen = time.monotonic()
    assert await deliveries.lapsed() == [] and await deliveries.take_over(key) is None  # a re-delivery's turn
    await eventually(lambda: lapsed(deliveries, key), 5, "the grace to end", every=0.01)
    assert time.monotonic() - lapse_seen >= deliveries.grace * 0.9

    taken = await deliveries.take_over(key)
    assert taken is not None and not taken.abandoned
    assert taken.incoming == typed_in and taken.claim.delivery is Delivery.AGAIN
    assert await deliveries.take_over(key) is None  # another sweeper
    assert (await deliveries.claim(typed_in)).delivery is Delivery.RUNNING  # a re-delivery
    async with deliveries.running(taken.claim):
        await asyncio.sleep(UNIT_LEASE + deliveries.grace + 0.1)  # renewed: never lapsed while it runs
        assert await deliveries.lapsed() == [] and await deliveries.take_over(key) is None
    assert (await deliveries.claim(typed_in)).delivery is Delivery.DONE
    assert not await redis.exists(turn)
    assert await redis.zcard("{test:delivery}:leases") == 0


async def test_a_redelivery_and_sweepers_at_the_same_moment_run_it_once(redis: Redis) -> None:
    """Twenty lapsed turns, each raced by five re-deliveries and five takeovers sent at once in a shuffled
    order: one winner each, and both kinds win some. The winner holds its lease without renewing it, so the race
    must end within one lease: 1 s, not UNIT_LEASE (a 0.2 s lease lapsed once mid-race on a loaded machine under
    faketime, and a later racer rightly took the turn of a winner that looked dead)."""
    deliveries = Deliveries(redis, "{test:delivery}:", lease=RACE_LEASE)
    turns = [incoming(f"activity-{n}") for n in range(20)]
    for turn in turns:
        await deliveries.claim(turn)  # all their processes die
    await eventually(lambda: _all_lapsed(deliveries, turns), 10, "the claims to lapse past the grace", every=0.01)
    order = random.Random(7)
    kinds: list[str] = []
    for turn in turns:
        racers: list[tuple[str, Callable[[], Awaitable[bool]]]] = \
            [("redelivery", lambda t=turn: _claims(deliveries, t))] * 5 + \
            [("sweeper", lambda t=turn: _takes_over(deliveries, t))] * 5
        order.shuffle(racers)
        won = await asyncio.gather(*(run() for _, run in racers))
        winners = [kind for (kind, _), wins in zip(racers, won, strict=True) if wins]
        assert len(winners) == 1, winners
        kinds += winners
    assert {"redelivery", "sweeper"} <= set(kinds), kinds


async def _all_lapsed(deliveries: Deliveries, turns: list[Incoming]) -> bool:
    return len(await deliveries.lapsed(count=50)) == len(turns)


async def _claims(deliveries: Deliveries, turn: Incoming) -> bool:
    return (await deliveries.claim(turn)).delivery.runs


async def _takes_over(deliveries: Deliveries, turn: Incoming) -> bool:
    return await deliveries.take_over(turn.dedupe_key) is not None


async def test_a_turn_released_by_a_stopping_process_is_swept_after_the_grace(redis: Redis) -> None:
    deliveries = Deliveries(redis, "{test:delivery}:", lease=UNIT_LEASE)
    key = "conversation:activity-1"
    claim = await deliveries.claim(incoming("activity-1"))

    async def turn() -> None:
        async with deliveries.running(claim):
            await asyncio.Event().wait()

    running = asyncio.create_task(turn())
    await asyncio.sleep(UNIT_LEASE * 2)  # renewed past its first lease
    running.cancel()  # the process is stopping: the lease is given back
    with pytest.raises(asyncio.CancelledError):
        await running
    released = time.monotonic()
    assert not await redis.exists(f"{{test:delivery}}:{key}:lease")
    await eventually(lambda: lapsed(deliveries, key), 5, "the grace to end", every=0.01)
    assert time.monotonic() - released >= deliveries.grace * 0.9  # counted from the release
    assert await deliveries.take_over(key) is not None


async def test_a_turn_that_stops_every_replica_is_given_up_after_the_last_takeover(redis: Redis) -> None:
    deliveries = Deliveries(redis, "{test:delivery}:", lease=UNIT_LEASE)
    key, typed_in = "conversation:activity-1", incoming("activity-1")
    await deliveries.claim(typed_in)  # its process dies
    for _ in range(MAX_TAKEOVERS):
        await eventually(lambda: lapsed(deliveries, key), 5, "the grace to end", every=0.01)
        taken = await deliveries.take_over(key)
        assert taken is not None and not taken.abandoned  # and the sweeper's process dies as well
    await eventually(lambda: lapsed(deliveries, key), 5, "the grace to end", every=0.01)
    given_up = await deliveries.take_over(key)
    assert given_up is not None and given_up.abandoned and given_up.incoming == typed_in
    assert (await deliveries.claim(typed_in)).delivery is Delivery.DONE
    assert not await redis.exists(f"{{test:delivery}}:{key}:turn")
    assert await deliveries.lapsed() == [] and await deliveries.take_over(key) is None


def test_the_answer_says_in_one_line_that_it_was_finished_after_a_restart() -> None:
    typed_in = Incoming(Kind.MESSAGE, "a-1", Conversation("c"), Person("29:x"),
                        text="/ticket new Printer jammed\nThe one on the 2nd floor")
    card = {"type": "AdaptiveCard", "body": []}
    [first, second] = finished_after_restart(typed_in, [Reply(card=card), Reply(text="And one more thing.")])
    assert first == Reply(text="I was restarted in the middle of `/ticket new Printer jammed` and picked it up "
                               "again:", card=card)
    assert second == Reply(text="And one more thing.")
    [only] = finished_after_restart(typed_in, [Reply(text="Done.")])
    assert only.text.endswith("picked it up again:\n\nDone.")
    assert finished_after_restart(typed_in, []) == []
    with speaking("vi-VN"):
        [said] = finished_after_restart(typed_in, [Reply(card=card)])
    assert said.text.startswith("Tôi bị khởi động lại") and "`/ticket new Printer jammed`" in said.text
    hostile = Incoming(Kind.MESSAGE, "a-2", Conversation("c"), Person("29:x"),
                       text="/ticket note 1 **[reset](https://evil.example)** now")
    [quoted] = finished_after_restart(hostile, [Reply(text="Done.")])
    assert not {"link_open", "strong_open"} & set(constructs(quoted.text))  # quoted as typed, not rendered
    assert "/ticket note 1 **[reset](https://evil.example)** now" in visible(quoted.text)

