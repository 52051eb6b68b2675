"""A bot process killed in the middle of a turn: Teams delivers the activity again (same activity id) to
another replica, which runs it once the dead one's claim has lapsed, and applies it once.

Real processes: two bots spawned from `tests/support/bot_process.py` on one redis-server, the Odoo double
behind the fault proxy (its delay keeps a turn in flight), SIGKILL for the crash. When Teams does not deliver
it again, a sweeper finishes it: tests/test_lapsed_turns.py."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import aiohttp
import pytest
from redis.asyncio import Redis

from bot.deliveries import Deliveries, Delivery
from bot.turn import Conversation, Incoming, Kind, Person
from tests.conftest import RunningSandbox
from tests.support.connector import ConnectorStub
from tests.support.faultproxy import FaultProxy
from tests.support.odoo_view import OdooView
from tests.support.replicas import BotProcess, answers, deliver, notes, replicas, typed
from tests.support.waiting import eventually

LEASE = 2.0  # seconds the dead process's claim outlives it


@pytest.fixture
async def start_bot(redis: Redis, redis_url: str, proxy: FaultProxy, connector: tuple[ConnectorStub, str],
                    tmp_path: Path) -> AsyncIterator[Callable[[], Awaitable[BotProcess]]]:
    async with replicas(redis_url, f"http://{proxy.address}", connector, tmp_path, turn_lease=LEASE) as running:
        yield running.start


def incoming(activity_id: str) -> Incoming:
    """A typed command as the claim keeps it (its key: `conversation:<activity_id>`)."""
    return Incoming(Kind.MESSAGE, activity_id, Conversation("conversation"), Person("29:someone", "Someone"),
                    text="/ticket note 1 Remounted the share")


async def test_a_turn_killed_after_odoo_wrote_runs_again_on_redelivery_and_applies_once(
        start_bot: Callable[[], Awaitable[BotProcess]], proxy: FaultProxy, sandbox: RunningSandbox) -> None:
    """Figures: the note in Odoo once, one answer posted, though the activity was delivered four times
    (the killed turn, once while its claim held, once after, once more when done)."""
    odoo = OdooView(sandbox.odoo)
    first, second = await start_bot(), await start_bot()
    await first.teams.card("/ticket new Shared drive is read-only users:4")
    tid = int(odoo.newest_ticket()["id"])
    activity = typed(first.teams, f"/ticket note {tid} Remounted the share")
    told = len(answers(first.teams))

    proxy.delay(0.5)  # every packet waits: Odoo has written the note well before the bot hears back
    sending = asyncio.create_task(deliver(first.teams, activity))
    await eventually(lambda: notes(odoo, tid, "Remounted the share") == 1, 20, "Odoo wrote the note", every=0.01)
    await first.kill()
    with pytest.raises(aiohttp.ClientError):
        await sending  # Teams gets no answer: it will deliver the activity again
    proxy.heal()

    await deliver(second.teams, activity)  # at once: the dead process's claim still holds, so it waits
    assert len(answers(second.teams)) == told
    for _ in range(100):  # Teams keeps delivering; once the claim has lapsed, this replica runs it
        await deliver(second.teams, activity)
        if len(answers(second.teams)) > told:
            break
        await asyncio.sleep(LEASE / 10)
    [answer] = answers(second.teams)[told:]
    assert "Note added." in answer
    assert notes(odoo, tid, "Remounted the share") == 1  # found in Odoo, not written again

    await deliver(second.teams, activity)  # done: another delivery changes nothing
    assert len(answers(second.teams)) == told + 1
    assert notes(odoo, tid, "Remounted the share") == 1


async def test_a_redelivery_while_the_first_turn_still_runs_is_ignored(
        start_bot: Callable[[], Awaitable[BotProcess]], proxy: FaultProxy, sandbox: RunningSandbox) -> None:
    """Figures: delivered to two live replicas at once, applied once, answered once."""
    odoo = OdooView(sandbox.odoo)
    first, second = await start_bot(), await start_bot()
    await first.teams.card("/ticket new Projector fan is loud users:1")
    tid = int(odoo.newest_ticket()["id"])
    activity = typed(first.teams, f"/ticket hold {tid} Waiting for a spare fan")
    told = len(answers(first.teams))
    proxy.delay(0.3)
    before = proxy.connections
    slow = asyncio.create_task(deliver(first.teams, activity))
    await eventually(lambda: proxy.connections > before, 20, "the first replica is talking to Odoo", every=0.01)
    await deliver(second.teams, activity)  # Teams gave up waiting and sent it again, to the other replica
    assert len(answers(second.teams)) == told
    await slow
    [answer] = answers(first.teams)[told:]
    assert "On hold." in answer
    assert notes(odoo, tid, "Waiting for a spare fan") == 1


async def test_a_claim_is_first_running_done_or_run_again_after_its_lease_lapsed(redis: Redis) -> None:
    """The claim itself, on the real redis-server: a second claim while the first runs is refused, one after
    it finished is refused, one after its holder vanished runs again."""
    deliveries = Deliveries(redis, "{test:delivery}:", lease=0.3)
    claim = await deliveries.claim(incoming("activity-1"))
    assert claim.delivery is Delivery.FIRST
    async with deliveries.running(claim):
        await asyncio.sleep(0.5)  # longer than the lease: it is renewed while the turn runs
        assert (await deliveries.claim(incoming("activity-1"))).delivery is Delivery.RUNNING
    assert (await deliveries.claim(incoming("activity-1"))).delivery is Delivery.DONE

    assert (await deliveries.claim(incoming("activity-2"))).delivery is Delivery.FIRST  # then its process dies
    assert (await deliveries.claim(incoming("activity-2"))).delivery is Delivery.RUNNING
    lease = "{test:delivery}:conversation:activity-2:lease"

    async def lease_gone() -> bool:
        return not await redis.exists(lease)

    await eventually(lease_gone, 5, f"{lease} to expire", every=0.01)
    assert (await deliveries.claim(incoming("activity-2"))).delivery is Delivery.AGAIN


async def test_a_claim_re_sent_after_its_reply_was_lost_still_runs(redis: Redis,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """The Redis client re-sends a command whose reply was lost: the claim landed the first time, so the
    re-sent one finds its own lease. It must run (as a command that may have run), not be ignored as
    'running' (then nobody would ever run it)."""
    monkeypatch.setattr("bot.deliveries.secrets.token_hex", lambda _: "the-same-token")
    deliveries = Deliveries(redis, "{test:delivery}:", lease=5)
    assert (await deliveries.claim(incoming("activity-3"))).delivery is Delivery.FIRST
    assert (await deliveries.claim(incoming("activity-3"))).delivery is Delivery.AGAIN  # the re-send
    monkeypatch.setattr("bot.deliveries.secrets.token_hex", lambda _: "another-turn")
    assert (await deliveries.claim(incoming("activity-3"))).delivery is Delivery.RUNNING
