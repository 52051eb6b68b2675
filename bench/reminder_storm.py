"""Reminder storm: 10,000 reminders due at the same instant for 300 owners and 20 channels, fired by 3 replica
processes through Teams' budgets into a Bot Connector stub that enforces Teams' limits.

Everything runs on loopback and stops by itself:
  1. A redis-server of its own; the Bot Connector stub (tests/support/connector.py) in this process, enforcing
     Teams' documented limits (per conversation 7/s, 60/30 s, 1,800/h; per tenant 50/s, sliding windows, measured
     when a request arrives) and answering 429 with Retry-After beyond them.
  2. N reminders (ack reminders of N tickets: 5 % Expedite, 20 % Priority, the rest Standard; a quarter of them a
     repeat, so also for the owner's team channel), all due at S, each owner's 1:1 chat and each channel in one
     tenant.
  3. 3 replica processes (this file with --replica), each its own Redis connections: the real TimerEngine and
     TimerWorker (gathering a round's reminders), FiringPosts marks and `post_for_all`, NagPost / NagDigestPost
     drawn by cards.posts.render, Outbound (Teams' budgets in Redis) and the botbuilder adapter over HTTP. What is
     left out is Odoo: a replica builds each reminder's ticket from its timer instead of reading it (the Odoo reads
     are measured by bench/load.py), and plans no next reminder.
  4. Once nothing is pending or in flight: Teams calls per second (calendar seconds and any sliding second),
     429s, every (reminder, reader) delivered once (or listed on a card), the time the last Expedite reminder
     reached its owner, and the drain time against the time Teams' budget allows (calls / 50 per second).

    .venv/bin/python bench/reminder_storm.py [--reminders 10000] [--owners 300] [--channels 20] [--replicas 3]
                                             [--batch 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import math
import re
import signal
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from aiohttp import web
from redis.asyncio import Redis

from bench.stats import print_rows
from bot.adapter import TeamsAdapter, give_bot_connector_threads
from bot.notify import Outbound, TeamsBudget
from bot.posts import Post
from bot.process import ClassOfService, Stage, load_profile
from bot.reminders.policy import Kind
from bot.reminders.posted import FiringPosts, post_for_all
from bot.reminders.posts import DIGEST_LINES, NagDigestPost, NagPost
from bot.settings import Mode, OdooSettings, Settings
from bot.store import Store, connect_redis
from bot.tickets import OdooUser, Ticket, TicketFacts
from bot.timers import Timer, TimerEngine, TimerWorker
from bot.turn import Outcome
from cards.posts import render
from tests.support.connector import ConnectorStub, TeamsLimits, most_in_any_window
from tests.support.redis_server import free_port, redis_server

PREFIX = "bench:storm"
TENANT = "bench-tenant"
TZ = ZoneInfo("Asia/Ho_Chi_Minh")
PROFILE = load_profile("mindx")
CLASSES = {ClassOfService.EXPEDITE: 1, ClassOfService.PRIORITY: 3, ClassOfService.STANDARD: 5}  # ranks, first miss
LABEL = re.compile(r"HT\d{6}")
TIME_LIMIT = 900.0


def now() -> datetime:
    return datetime.now(UTC)


def owner_reference(stub_url: str, owner: int) -> dict[str, Any]:
    return {"serviceUrl": stub_url, "channelId": "msteams", "bot": {"id": "28:bot"}, "user": {"id": f"29:o{owner}"},
            "conversation": {"id": f"a:owner-{owner}", "conversationType": "personal", "tenantId": TENANT}}


def channel_reference(stub_url: str, channel: int) -> dict[str, Any]:
    return {"serviceUrl": stub_url, "channelId": "msteams", "bot": {"id": "28:bot"},
            "conversation": {"id": f"19:channel-{channel}@thread.tacv2", "conversationType": "channel",
                             "tenantId": TENANT}}


def the_reminders(count: int, owners: int, channels: int) -> list[dict[str, Any]]:
    """Each reminder's timer data: its ticket, owner, class, whether it is a repeat (then also for a channel)."""
    made = []
    for n in range(count):
        cos = (ClassOfService.EXPEDITE if n % 20 == 0 else ClassOfService.PRIORITY if n % 5 == 1
               else ClassOfService.STANDARD)
        repeat = n % 4 == 3
        made.append({"t": n, "o": n % owners, "c": (n // owners) % channels if repeat else -1, "cos": cos.value,
                     "misses": 1 if repeat else 0, "rank": CLASSES[cos] - (1 if repeat else 0)})
    return made


# --- a replica ------------------------------------------------------------------------------------

TEMPLATE = Ticket(id=0, number="HT000000", title="Lab PC does not boot", description="",
                  stage=PROFILE.stages[Stage.NEW], stage_key=Stage.NEW, priority="0", cos=ClassOfService.STANDARD,
                  created=datetime(2025, 1, 29, 8, 0, tzinfo=UTC), updated=datetime(2025, 1, 29, 8, 0, tzinfo=UTC),
                  facts=TicketFacts(users=1), owner=OdooUser(1, "Owner", "owner@example.com", 1), customer=None,
                  url="https://odoo.example.com/web#id=1")


async def _no_turn(*_: object) -> Outcome:
    return Outcome()


async def replica(redis_url: str, stub_url: str, batch: int, lease: float, margin_ms: int) -> None:
    give_bot_connector_threads()
    redis = connect_redis(redis_url)  # as a replica connects (a bounded pool: a command waits for a free one)
    store = Store(redis, prefix=f"{PREFIX}:")
    engine = TimerEngine(redis, prefix=PREFIX, lease=timedelta(seconds=lease))
    settings = Settings(mode=Mode.DEV, odoo=OdooSettings(url=None, db="x", login="x", api_key="x"))
    outbound = Outbound(TeamsAdapter(settings, _no_turn), redis, prefix=f"{PREFIX}:rate:",
                        budget=TeamsBudget(margin_ms=margin_ms))
    slots = asyncio.Semaphore(16)

    async def send(reference: dict[str, Any], post: Post) -> str:
        return await outbound.send_to(reference, render(post, tz=TZ, now=now()))

    async def together(timers: Sequence[Timer]) -> list[BaseException | None]:
        """As bot.reminders.nags does with the real Services: each reminder's readers, one card per reader."""
        readers: dict[str, list[tuple[FiringPosts, NagPost, Callable[[Post], Awaitable[object]]]]] = {}
        firings = []
        for timer in timers:
            data = timer.data
            ticket = dataclasses.replace(TEMPLATE, id=data["t"], number=f"HT{data['t']:06d}",
                                         cos=ClassOfService(data["cos"]))
            nag = NagPost(ticket, PROFILE, Kind.ACK, misses=int(data["misses"]) + 1)
            posts = FiringPosts(store, timer)
            firings.append(posts)
            readers.setdefault(f"user:{data['o']}", []).append(
                (posts, nag, partial(send, owner_reference(stub_url, data["o"]))))
            if data["c"] >= 0:
                readers.setdefault(f"channel:{data['c']}", []).append(
                    (posts, nag, partial(send, channel_reference(stub_url, data["c"]))))

        async def post(target: str, group: list[tuple[FiringPosts, NagPost, Callable[[Post], Awaitable[object]]]]
                       ) -> None:
            async with slots:
                waiting = [item for item in group if not await item[0].done(target)]
                if len(waiting) == 1:
                    [(posts, nag, deliver)] = waiting
                    await posts.post(target, partial(deliver, nag))
                    return
                cards = [waiting[at:at + DIGEST_LINES] for at in range(0, len(waiting), DIGEST_LINES)]
                for part, lines in enumerate(cards, 1):
                    digest = NagDigestPost(tuple(nag for _, nag, _ in lines), part, len(cards))
                    await post_for_all([posts for posts, _, _ in lines], target, partial(lines[0][2], digest))

        await asyncio.gather(*(post(target, group) for target, group in readers.items()))
        return [posts.failures[0] if posts.failures else None for posts in firings]

    class Gathering:
        def takes(self, timer: Timer) -> bool:
            return True

        async def __call__(self, timers: Sequence[Timer]) -> Sequence[BaseException | None]:
            return await together(timers)

    async def alone(timer: Timer) -> None:
        [failure] = await together([timer])
        if failure is not None:
            raise failure

    worker = TimerWorker(engine, alone, clock=now, batch=batch, gathering=Gathering(), idle_sleep=0.1)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await redis.ping()
    print("ready", flush=True)
    await worker.run(stop)
    await redis.aclose()


# --- the run --------------------------------------------------------------------------------------

async def start_replica(redis_url: str, stub_url: str, batch: int, lease: float, margin_ms: int, log: Any
                        ) -> asyncio.subprocess.Process:
    process = await asyncio.create_subprocess_exec(
        sys.executable, __file__, "--replica", redis_url, stub_url, "--batch", str(batch), "--lease", str(lease),
        "--margin-ms", str(margin_ms),
        stdout=asyncio.subprocess.PIPE, stderr=log)
    assert process.stdout is not None
    if await asyncio.wait_for(process.stdout.readline(), 60) != b"ready\n":
        raise RuntimeError("a replica did not start")
    return process


async def run(redis_url: str, args: argparse.Namespace, log: Any) -> int:
    stub = ConnectorStub(limits=TeamsLimits(), clock=time.time)
    cards: list[tuple[float, str, dict[str, Any]]] = []  # (moment, conversation, activity) of each card posted

    async def note(conversation: str, activity: dict[str, Any]) -> bool:
        cards.append((time.time(), conversation, activity))
        return True
    stub.before_post = note
    runner = web.AppRunner(stub.app(), access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    stub_url = f"http://127.0.0.1:{port}"
    redis = Redis.from_url(redis_url, decode_responses=True)
    engine = TimerEngine(redis, prefix=PREFIX, lease=timedelta(seconds=args.lease))
    reminders = the_reminders(args.reminders, args.owners, args.channels)
    replicas = [await start_replica(redis_url, stub_url, args.batch, args.lease, args.margin_ms, log)
                for _ in range(args.replicas)]
    try:
        start = now() + timedelta(seconds=2)
        await engine.schedule_many((Kind.ACK.value, str(data["t"]), start, data) for data in reminders)
        began = start.timestamp()
        said = time.time()
        while True:
            await asyncio.sleep(0.5)
            if time.time() - said > 10:
                said = time.time()
                print(f"  {said - began:5.0f} s: {await redis.zcard(engine.key('due')):,} pending, "
                      f"{await engine.in_flight():,} in flight, {len(cards):,} cards, {stub.throttled} x 429",
                      file=sys.stderr, flush=True)
            if now() > start and await redis.zcard(engine.key("due")) == 0 and await engine.in_flight() == 0:
                break
            if time.time() - began > TIME_LIMIT:
                print(f"gave up waiting after {TIME_LIMIT:.0f} s", file=sys.stderr)
                break
        await asyncio.sleep(0.5)
    finally:
        for process in replicas:
            if process.returncode is None:
                process.send_signal(signal.SIGTERM)
        for process in replicas:
            await asyncio.wait_for(process.wait(), 60)
        await runner.cleanup()
        await redis.aclose()
    return report(stub, cards, reminders, began, args)


def report(stub: ConnectorStub, cards: list[tuple[float, str, dict[str, Any]]], reminders: list[dict[str, Any]],
           began: float, args: argparse.Namespace) -> int:
    expected: Counter[tuple[int, str]] = Counter()
    for data in reminders:
        expected[(data["t"], f"a:owner-{data['o']}")] = 1
        if data["c"] >= 0:
            expected[(data["t"], f"19:channel-{data['c']}@thread.tacv2")] = 1
    delivered: Counter[tuple[int, str]] = Counter()
    first_seen: dict[tuple[int, str], float] = {}
    lines = 0
    for moment, conversation, activity in cards:
        numbers = {int(label[2:]) for label in LABEL.findall(json.dumps(activity.get("attachments") or []))}
        lines += len(numbers)
        for number in numbers:
            delivered[(number, conversation)] += 1
            first_seen.setdefault((number, conversation), moment)
    missing = sum(1 for pair in expected if pair not in delivered)
    twice = sum(count - 1 for count in delivered.values() if count > 1)
    extra = sum(1 for pair in delivered if pair not in expected)
    calls = [moment - began for moment, _, _ in stub.arrivals]
    per_second = Counter(math.floor(moment) for moment in calls)
    expedite = [first_seen[(d["t"], f"a:owner-{d['o']}")] - began for d in reminders
                if d["cos"] == ClassOfService.EXPEDITE.value and (d["t"], f"a:owner-{d['o']}") in first_seen]
    drained = max(calls, default=0.0)
    allowed = len(calls) / 50
    print(f"\nReminder storm: {args.reminders:,} reminders due at once ({sum(expected.values()):,} posts to "
          f"{args.owners} owners and {args.channels} channels), {args.replicas} replica processes, batch "
          f"{args.batch}, windows kept {args.margin_ms} ms longer; the stub enforcing Teams' limits\n")
    rows = [
        ("Teams calls", f"{len(calls):,}"),
        ("cards posted (reminders listed on them)", f"{len(cards):,} ({lines:,} lines)"),
        ("most calls in one calendar second / in any sliding second",
         f"{max(per_second.values(), default=0)} / {most_in_any_window(calls, 1.0)}"),
        ("answers 429 (must be 0)", f"{stub.throttled:,}"),
        ("(reminder, reader) not delivered (must be 0)", f"{missing:,}"),
        ("(reminder, reader) delivered twice (must be 0)", f"{twice:,}"),
        ("delivered where not due (must be 0)", f"{extra:,}"),
        ("last Expedite reminder at its owner, after S (goal < 5 s)", f"{max(expedite, default=float('nan')):,.1f} s"),
        ("whole storm drained, after S", f"{drained:,.1f} s"),
        ("time Teams' budget allows (calls / 50 per s)", f"{allowed:,.1f} s"),
        ("drained / allowed (goal <= 1.10)", f"{drained / allowed if allowed else float('nan'):,.2f}"),
    ]
    print_rows(rows)
    return 0 if stub.throttled == missing == twice == extra == 0 else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reminders", type=int, default=10_000)
    parser.add_argument("--owners", type=int, default=300)
    parser.add_argument("--channels", type=int, default=20)
    parser.add_argument("--replicas", type=int, default=3)
    parser.add_argument("--batch", type=int, default=1000, help="timers a replica claims in one round")
    parser.add_argument("--lease", type=float, default=60.0)
    parser.add_argument("--margin-ms", type=int, default=TeamsBudget().margin_ms,
                        help="how much longer than Teams' windows the bot's are kept (TeamsBudget.margin_ms)")
    parser.add_argument("--log", default=str(Path(tempfile.gettempdir()) / "reminder_storm_replicas.log"),
                        help="where the replicas log")
    parser.add_argument("--replica", nargs=2, metavar=("REDIS_URL", "STUB_URL"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.replica:
        asyncio.run(replica(args.replica[0], args.replica[1], args.batch, args.lease, args.margin_ms))
        return 0
    with (tempfile.TemporaryDirectory() as workdir, redis_server(Path(workdir)) as redis_url,
          Path(args.log).open("wb") as log):  # the replicas' own logs
        return asyncio.run(run(redis_url, args, log))


if __name__ == "__main__":
    sys.exit(main())
