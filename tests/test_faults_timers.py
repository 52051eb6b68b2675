"""A replica killed while it is posting reminders: no reminder lost, nobody nagged twice.

The replicas are real bot processes (`python app.py --dev --worker-only`, as production runs a reminders
replica) on the test's redis-server, the Odoo double and the Bot Connector stub, with a 6 s timer lease.
The first one claims every due reminder and posts them; the stub holds its posts to the support channel,
so it is SIGKILLed with reminders half-posted (the owner and the lead told, the channel not yet) and
others not started. A second replica takes the claims over once their lease has ended.

Each reminder is a firing with several posts (owner, lead, support channel); a mark per (timer, due time,
target) written right after each post succeeded is what keeps the second replica from posting again what
the first one did. The only duplicate window left is the post itself: a message Teams took from a replica
killed before it heard the answer is posted again (the second case below measures exactly that).
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from bot.reminders.policy import Kind
from bot.reminders.service import Reminders
from bot.server import Runtime
from tests.conftest import AGENT, LEAD, FakeClock, RunningSandbox
from tests.support.connector import ConnectorStub, Posted
from tests.support.odoo_view import OdooView
from tests.support.redis_server import free_port
from tests.support.reminders import reminders
from tests.support.teams import TeamsClient
from tests.support.waiting import eventually

ROOT = Path(__file__).resolve().parents[1]
SUPPORT = "19:support@thread.tacv2"
TICKETS = 12
LEASE_SECONDS = 6  # long enough for the victim to reach the channel posts (Teams allows 7 posts a second per chat)


async def start_replica(name: str, redis_url: str, sandbox: RunningSandbox, logs: Path) -> asyncio.subprocess.Process:
    """A reminders replica, as production runs one; returns once its timer worker runs."""
    log = logs / f"{name}.log"
    env = {"PATH": os.environ.get("PATH", ""), "ODOO_URL": sandbox.url, "ODOO_DB": "helpdesk",
           "ODOO_LOGIN": "admin", "ODOO_API_KEY": "test-api-key", "REDIS_URL": redis_url,
           "TIMER_LEASE_SECONDS": str(LEASE_SECONDS), "ODOO_POLL_SECONDS": "3600", "PORT": str(free_port())}
    with log.open("wb") as out:  # a file, not a pipe: a chatty replica never blocks on a full pipe
        process = await asyncio.create_subprocess_exec(sys.executable, str(ROOT / "app.py"), "--dev", "--worker-only",
                                                       cwd=logs, env=env, stdout=out, stderr=out)  # no .env there
    deadline = time.monotonic() + 60
    while "reminders worker running" not in log.read_text(errors="replace"):
        if process.returncode is not None or time.monotonic() > deadline:
            raise AssertionError(f"replica {name} did not start:\n{log.read_text(errors='replace')}")
        await asyncio.sleep(0.05)
    return process


async def stalled(stub: ConnectorStub, held: list[dict[str, Any]]) -> None:
    """Until the victim holds channel posts and has sent nothing else for a second: every reminder it
    started is waiting for Teams (at most the worker's 8, fewer when botbuilder's HTTP threads run out)."""
    async with asyncio.timeout(30):
        while True:
            attempts = stub.attempts
            await asyncio.sleep(1)
            if held and stub.attempts == attempts:
                return


async def desk_with_due_reminders(teams: TeamsClient, runtime: Runtime, odoo: OdooView) -> list[str]:
    """TICKETS new tickets owned by AGENT, their owner already reminded once, so the next reminder goes to
    the owner, the lead and the support channel; every other ticket closed. Their numbers."""
    await teams.say_in_channel("/ticket channel support", SUPPORT, sender=LEAD)
    await teams.say("/ticket list mine", sender=LEAD)  # the lead's 1:1 chat is known
    seeded = odoo.call("helpdesk.ticket", "search", runtime.services.odoo.open_domain())
    [cancelled] = odoo.call("helpdesk.ticket.stage", "search", [["name", "=", "Cancelled"]])
    odoo.call("helpdesk.ticket", "write", seeded, {"stage_id": cancelled})
    for ticket_id in seeded:
        await Reminders(runtime.services.timers, runtime.services.profile, runtime.services.clock).forget(ticket_id)
    engine = runtime.services.timers
    numbers = []
    for n in range(TICKETS):
        await teams.card(f"/ticket new Lab PC {n} does not boot users:1")
        ticket = odoo.newest_ticket()
        numbers.append(str(ticket["number"]))
        ack = await engine.get(Kind.ACK, str(ticket["id"]))
        assert ack is not None
        await engine.schedule(Kind.ACK, ack.key, ack.due, {"misses": 1})
    return numbers


@pytest.mark.parametrize("teams_took_the_held_posts", [False, True],
                         ids=["killed-before-teams-took-it", "killed-after-teams-took-it"])
async def test_a_replica_killed_mid_post_loses_no_reminder_and_nags_nobody_twice(
        teams_took_the_held_posts: bool, teams: TeamsClient, runtime: Runtime, sandbox: RunningSandbox,
        redis_url: str, clock: FakeClock, connector: tuple[ConnectorStub, str], tmp_path: Path) -> None:
    """Figures (12 reminders of 3 readers each, 36 posts due, due together: one card per reader listing the 12):
    when the victim dies, the 12 reminders are mid-post (the owner and the lead told on their card, the channel's
    card in flight). Afterwards every one of the 36 is posted: exactly once when Teams had not taken the in-flight
    card (0 duplicates; the survivor posts the channel's card, the only one missing); when it had, the only
    duplicates are the lines of that in-flight card (12)."""
    odoo = OdooView(sandbox.odoo)
    stub = connector[0]
    numbers = await desk_with_due_reminders(teams, runtime, odoo)
    owner, lead = f"personal-{AGENT.id}", f"personal-{LEAD.id}"
    due = {(chat, number) for number in numbers for chat in (owner, lead, SUPPORT)}

    holding, held, release = True, [], asyncio.Event()

    async def hold_the_channel(conversation: str, activity: dict[str, Any]) -> bool:
        if not (holding and conversation.startswith(SUPPORT)):
            return True
        held.append(activity)
        if teams_took_the_held_posts:  # Teams has it: only its answer is held back
            stub.posted.append(Posted(conversation, activity, id=f"taken-{len(held)}"))
        await release.wait()  # (aiohttp may cancel this when the sender dies: nothing more is posted either way)
        return False
    stub.before_post = hold_the_channel
    posted_before = len(stub.posted)

    replicas = []
    try:
        victim = await start_replica("victim", redis_url, sandbox, tmp_path)
        replicas.append(victim)
        await stalled(stub, held)
        victim.send_signal(signal.SIGKILL)  # while it waits for Teams to take its channel posts
        await victim.wait()
        made = Counter(reminders(stub.posted[posted_before:]))
        in_flight = {number for _, number in reminders([Posted(SUPPORT, activity) for activity in held])}
        assert in_flight and set(made.values()) == {1}
        assert all((owner, number) in made and (lead, number) in made for number in in_flight)  # told, not the channel
        assert len([p for p in stub.posted[posted_before:] if p.conversation_id == owner]) == 1  # one card of 12
        holding = False
        release.set()  # the held posts end now (the victim is gone: nobody hears the answer)
        await asyncio.sleep(0.1)

        survivor = await start_replica("survivor", redis_url, sandbox, tmp_path)
        replicas.append(survivor)
        engine = runtime.services.timers

        async def all_fired() -> bool:  # each ticket's next reminder planned, nothing claimed any more
            timers = [await engine.get(Kind.ACK, str(key)) for key in await ticket_ids(odoo, numbers)]
            return await engine.in_flight() == 0 and all(t is not None and t.data.get("misses") == 2 for t in timers)
        await eventually(all_fired, 60, "every reminder to fire")
        await asyncio.sleep(0.5)  # anything still on its way arrives

        sent = Counter(reminders(stub.posted[posted_before:]))
        assert set(sent) == due, f"missing: {due - set(sent)}"  # none lost
        twice = {post for post, count in sent.items() if count > 1}
        if teams_took_the_held_posts:  # the window left: posts Teams took from the victim before it died
            assert twice == {(SUPPORT, number) for number in in_flight} and max(sent.values()) == 2
        else:
            assert twice == set()
        cards = Counter(p.conversation_id.split(";")[0] for p in stub.posted[posted_before:] if p.card)
        assert cards[owner] == cards[lead] == 1  # never posted again by the survivor
    finally:
        release.set()
        for process in replicas:
            if process.returncode is None:
                process.send_signal(signal.SIGTERM)
        for process in replicas:
            await asyncio.wait_for(process.wait(), 20)


async def ticket_ids(odoo: OdooView, numbers: list[str]) -> list[int]:
    return [int(r["id"]) for r in odoo.call("helpdesk.ticket", "search_read", [["number", "in", numbers]],
                                            fields=["id"])]
