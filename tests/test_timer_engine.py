"""The timer engine and worker against a real redis-server: scheduling, claiming with a lease,
requeueing, the worker loop, and three worker processes with one killed mid-run."""

from __future__ import annotations

import asyncio
import logging
import random
import signal
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from redis.asyncio import Redis

from bot.timers import MAX_ATTEMPTS, Timer, TimerEngine, TimerKinds, TimerWorker
from bot.timers.engine import DEFAULT_RANK
from tests.conftest import all_keys, redis_client
from tests.support.waiting import eventually

T0 = datetime(2025, 1, 29, 8, 33, tzinfo=UTC)
LEASE = timedelta(seconds=60)
WORKER_SCRIPT = Path(__file__).parent / "support" / "timer_worker_process.py"


class Clock:
    def __init__(self, start: datetime = T0) -> None:
        self.current = start

    def __call__(self) -> datetime:
        return self.current

    def advance(self, seconds: float) -> None:
        self.current += timedelta(seconds=seconds)


@pytest.fixture
def engine(redis: Redis) -> TimerEngine:
    return TimerEngine(redis, lease=LEASE)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


# --- the engine ---------------------------------------------------------------------------------

async def test_schedule_keeps_one_pending_timer_per_kind_and_key(engine: TimerEngine) -> None:
    await engine.schedule("ack", "42", at(10), {"misses": 0})
    await engine.schedule("ack", "42", at(5), {"misses": 1})  # replaces due time and data
    await engine.schedule("update", "42", at(7))
    await engine.schedule("ack", "7", at(20))
    await engine.schedule("escalation_ack", "42:dev", at(1), {"step": 2})

    assert await engine.get("ack", "42") == Timer("ack", "42", at(5), {"misses": 1})
    assert await engine.get("ack", "43") is None
    assert [(t.kind, t.key, t.due) for t in await engine.pending()] == [
        ("escalation_ack", "42:dev", at(1)), ("ack", "42", at(5)), ("update", "42", at(7)), ("ack", "7", at(20))]
    assert [(t.key, t.due) for t in await engine.pending("ack")] == [("42", at(5)), ("7", at(20))]
    assert await engine.pending("digest") == []


async def test_schedule_many_and_times_to_the_microsecond(engine: TimerEngine) -> None:
    due = datetime(2031, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC)
    timers = [("ack", str(i), due - timedelta(microseconds=i), {"i": i}) for i in range(3)]
    assert await engine.schedule_many(timers) == 3
    assert [(t.key, t.due, t.data) for t in await engine.pending()] == [
        ("2", due - timedelta(microseconds=2), {"i": 2}), ("1", due - timedelta(microseconds=1), {"i": 1}),
        ("0", due, {"i": 0})]
    [claimed, *_] = await engine.claim_due(due)
    assert claimed.due == due - timedelta(microseconds=2)


async def test_bad_input_is_refused(engine: TimerEngine) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        await engine.schedule("ack", "1", datetime(2025, 1, 1))  # naive: refused
    for kind in ("", "a|b", "ack*", "a b"):
        with pytest.raises(ValueError, match="kind"):
            await engine.schedule(kind, "1", T0)
    with pytest.raises(ValueError, match="claimed"):
        await engine.complete(Timer("ack", "1", T0, {}))
    with pytest.raises(ValueError, match="lease"):
        TimerEngine(engine.redis, lease=timedelta(0))


async def test_cancel(engine: TimerEngine) -> None:
    for kind in ("ack", "update", "deadline"):
        await engine.schedule(kind, "42", at(1))
    await engine.schedule("ack", "43", at(1))
    assert await engine.cancel("ack", "42") is True
    assert await engine.cancel("ack", "42") is False
    assert await engine.get("ack", "42") is None
    assert await engine.cancel_all("42", ["ack", "update", "deadline", "follow_up"]) == 2
    assert await engine.cancel_all("42", []) == 0
    assert [(t.kind, t.key) for t in await engine.pending()] == [("ack", "43")]
    [claimed] = await engine.claim_due(at(100))
    assert (claimed.kind, claimed.key) == ("ack", "43")


async def test_claim_takes_only_due_timers_oldest_first_up_to_the_limit(engine: TimerEngine) -> None:
    for i in range(10):
        await engine.schedule("update", str(i), at(i), {"i": i})
    first = await engine.claim_due(at(4.5), limit=3)
    assert [(t.key, t.due, t.data, t.attempt) for t in first] == [(str(i), at(i), {"i": i}, 1) for i in range(3)]
    second = await engine.claim_due(at(4.5), limit=10)
    assert [t.key for t in second] == ["3", "4"]
    assert await engine.claim_due(at(4.5)) == []
    assert await engine.claim_due(at(5), limit=0) == []
    tokens = [t.token for t in first + second]
    assert all(tokens) and len(set(tokens)) == 5
    assert [t.key for t in await engine.pending()] == [str(i) for i in range(5, 10)]
    assert await engine.in_flight() == 5


async def test_the_most_important_due_timers_are_claimed_first(engine: TimerEngine) -> None:
    """More due than a claim takes (a backlog): by rank (0 first, none counts as 5), the oldest first within a rank;
    a requeued claim keeps its rank; a timer not yet due waits whatever its rank."""
    await engine.schedule_many([("ack", "late-rest", at(-60), {}), ("ack", "rest", at(-1), {"rank": 5}),
                                ("ack", "expedite", at(-1), {"rank": 0}),
                                ("ack", "expedite-older", at(-2), {"rank": 0}),
                                ("ack", "priority", at(-30), {"rank": 2}), ("ack", "later", at(5), {"rank": 0})])
    first = await engine.claim_due(T0, limit=3)
    assert [t.key for t in first] == ["expedite-older", "expedite", "priority"]
    assert [t.key for t in await engine.claim_due(T0, limit=10)] == ["late-rest", "rest"]
    assert await engine.requeue_expired(T0 + engine.lease) == 5
    assert [t.key for t in await engine.claim_due(T0 + engine.lease, limit=10)] == [
        "expedite-older", "expedite", "later", "priority", "late-rest", "rest"]


async def test_concurrent_claimers_never_share_a_timer_and_together_take_all(engine: TimerEngine) -> None:
    await engine.schedule_many(("ack", str(i), at(random.uniform(-60, 0)), {"i": i}) for i in range(1000))
    await engine.schedule("ack", "future", at(1))
    batches = await asyncio.gather(*(engine.claim_due(T0, limit=60) for _ in range(20)))
    claimed = [t.key for batch in batches for t in batch]
    assert len(claimed) == 1000
    assert set(claimed) == {str(i) for i in range(1000)}
    assert sum(1 for batch in batches if batch) >= 17  # 60 each: at least 17 claimers got some
    for batch in batches:
        assert [t.due for t in batch] == sorted(t.due for t in batch)
    assert [t.key for t in await engine.pending()] == ["future"]
    assert await engine.in_flight() == 1000


async def test_complete_needs_the_current_token(engine: TimerEngine, redis: Redis) -> None:
    await engine.schedule("ack", "42", at(0), {"misses": 1})
    [old] = await engine.claim_due(at(1))
    assert await engine.requeue_expired(at(1) + LEASE) == 1  # the old claimant outlived its lease
    [new] = await engine.claim_due(at(1) + LEASE)
    assert (new.due, new.data, new.attempt) == (at(0), {"misses": 1}, 2)
    assert new.token != old.token

    assert await engine.complete(old, [("SET", engine.key("effect"), "old")]) is False  # stale: nothing happens
    assert await engine.in_flight() == 1
    assert await redis.get(engine.key("effect")) is None
    assert await engine.complete(new, [("SET", engine.key("effect"), "new"),
                                       ("HINCRBY", engine.key("count"), "ack|42", 1)]) is True
    assert await engine.in_flight() == 0
    assert await redis.get(engine.key("effect")) == "new"
    assert await redis.hget(engine.key("count"), "ack|42") == "1"
    assert await engine.complete(new) is False  # twice: the second does nothing
    assert await engine.requeue_expired(at(1000)) == 0
    assert await engine.pending() == []


async def test_lease_expiry_requeues_at_the_original_due_time(engine: TimerEngine) -> None:
    await engine.schedule("deadline", "6", at(0), {"checkpoint": 0.75})
    await engine.schedule("deadline", "7", at(0))
    claimed = await engine.claim_due(at(2))
    assert await engine.complete(claimed[1])
    assert await engine.requeue_expired(at(2) + LEASE - timedelta(microseconds=1)) == 0
    assert await engine.claim_due(at(30)) == []
    assert await engine.requeue_expired(at(2) + LEASE) == 1
    assert await engine.pending() == [Timer("deadline", "6", at(0), {"checkpoint": 0.75})]
    assert await engine.in_flight() == 0
    [again] = await engine.claim_due(at(70))
    assert (again.key, again.due, again.attempt) == ("6", at(0), 2)


async def test_a_reschedule_while_in_flight_waits_for_the_claim_and_wins_over_a_requeue(engine: TimerEngine) -> None:
    await engine.schedule("update", "42", at(0), {"misses": 0})
    [first] = await engine.claim_due(at(0))
    await engine.schedule("update", "42", at(1), {"misses": 1})  # e.g. the handler plans the next nag
    assert await engine.claim_due(at(5)) == []  # one claim per (kind, key) at a time
    assert await engine.complete(first)
    assert await engine.get("update", "42") == Timer("update", "42", at(1), {"misses": 1})  # stays pending
    [second] = await engine.claim_due(at(5))
    assert (second.due, second.data, second.attempt) == (at(1), {"misses": 1}, 1)

    await engine.schedule("update", "42", at(900), {"misses": 2})
    assert await engine.requeue_expired(at(5) + LEASE) == 0  # the newer pending timer wins
    assert await engine.pending() == [Timer("update", "42", at(900), {"misses": 2})]
    assert await engine.in_flight() == 0
    assert await engine.complete(second) is False


async def test_a_timer_cancelled_while_in_flight_is_not_requeued(engine: TimerEngine) -> None:
    await engine.schedule("ack", "1", at(0))
    await engine.schedule("ack", "2", at(0))
    await engine.schedule("ack", "3", at(0))
    one, _two, three = await engine.claim_due(at(0))
    assert await engine.cancel_all("1", ["ack"]) == 0  # nothing pending; the claim is left to finish
    assert await engine.cancel("ack", "2") is False
    await engine.schedule("ack", "2", at(500))  # ... and "2" scheduled again after its cancel
    assert await engine.cancel("ack", "3") is False
    assert await engine.complete(three) is True  # a cancelled claim still completes
    assert await engine.requeue_expired(at(0) + LEASE) == 0  # "1" dropped (cancelled), "2" superseded
    assert await engine.complete(one) is False
    assert [(t.key, t.due) for t in await engine.pending()] == [("2", at(500))]
    assert await engine.in_flight() == 0
    for key in ("1", "3"):  # later claims are not affected by the old cancels
        await engine.schedule("ack", key, at(1))
    assert len(await engine.claim_due(at(1))) == 2
    assert await engine.requeue_expired(at(1) + LEASE) == 2


async def test_get_all_can_include_the_claims_in_flight(engine: TimerEngine) -> None:
    await engine.schedule("ack", "8", at(0), {"misses": 1})
    await engine.schedule("update", "8", at(0))
    claimed = {t.kind: t for t in await engine.claim_due(at(0))}
    await engine.schedule("update", "8", at(60), {"since": "x"})  # a pending timer wins over its claim
    assert await engine.get_all("8", ["ack", "update"]) == {"ack": None, "update": Timer("update", "8", at(60),
                                                                                           {"since": "x"})}
    found = await engine.get_all("8", ["ack", "update", "follow_up"], claimed=True)
    assert found == {"ack": claimed["ack"], "update": Timer("update", "8", at(60), {"since": "x"}), "follow_up": None}
    assert (found["ack"].data, found["ack"].attempt) == ({"misses": 1}, 1)  # as claimed: a sync keeps it
    assert await engine.complete(claimed["ack"])
    assert (await engine.get_all("8", ["ack"], claimed=True))["ack"] is None


async def test_engines_with_different_prefixes_are_separate(redis: Redis) -> None:
    a, b = TimerEngine(redis, prefix="a"), TimerEngine(redis, prefix="b")
    await a.schedule("ack", "1", at(0))
    assert await b.pending() == [] and await b.claim_due(at(1)) == []
    assert await all_keys(redis) == ["{a}:data", "{a}:due", "{a}:order"]


async def test_the_scripts_also_run_on_fakeredis_for_the_demo() -> None:
    from fakeredis import FakeAsyncRedis  # `make demo` runs without a Redis server: its Lua has no cjson

    client = FakeAsyncRedis(decode_responses=True)
    try:
        engine = TimerEngine(client, lease=LEASE)
        await engine.schedule("ack", "1", at(0), {"text": "line\nbreak", "n": 1})
        await engine.schedule("ack", "2", at(0))
        one, two = await engine.claim_due(at(0))
        assert (one.data, one.attempt) == ({"text": "line\nbreak", "n": 1}, 1)
        await engine.schedule("ack", "2", at(900))
        assert await engine.complete(two, [("HINCRBY", engine.key("sent"), "ack|2", 1)])
        assert await engine.requeue_expired(at(0) + LEASE) == 1
        [again] = await engine.claim_due(at(1))
        assert (again.key, again.due, again.data, again.attempt) == ("1", at(0), {"text": "line\nbreak", "n": 1}, 2)
        assert not await engine.complete(one, [("HINCRBY", engine.key("sent"), "ack|1", 1)])
        assert await engine.cancel_all("2", ["ack"]) == 1
        assert await client.hgetall(engine.key("sent")) == {"ack|2": "1"}
    finally:
        await client.aclose()
        await client.connection_pool.disconnect()  # fakeredis gives the client its own pool


# --- the engine against a model -----------------------------------------------------------------

KINDS, KEYS = ("ack", "update"), ("1", "2", "3")
ops = st.lists(st.one_of(
    st.tuples(st.just("schedule"), st.sampled_from(KINDS), st.sampled_from(KEYS), st.integers(-5, 40),
              st.integers(0, 3)),
    st.tuples(st.just("cancel"), st.sampled_from(KINDS), st.sampled_from(KEYS)),
    st.tuples(st.just("claim"), st.integers(1, 4)),
    st.tuples(st.just("complete"), st.integers(0, 50)),
    st.tuples(st.just("advance"), st.integers(1, 40)),
    st.tuples(st.just("requeue")),
), max_size=40)


@dataclass
class Claim:
    due: int
    data: dict[str, Any]
    attempt: int
    lease_end: int
    token: str = ""
    cancelled: bool = False


@dataclass
class Model:
    """What the engine should hold, in plain Python (times in seconds after T0)."""
    now: int = 0
    pending: dict[str, tuple[int, dict[str, Any], int]] = field(default_factory=dict)  # due, data, attempts
    inflight: dict[str, Claim] = field(default_factory=dict)

    def claim(self, limit: int, lease: int) -> list[tuple[str, Claim]]:
        due = sorted((data.get("rank", DEFAULT_RANK), d, m) for m, (d, data, _) in self.pending.items()
                     if d <= self.now and m not in self.inflight)  # the most important first, then the oldest
        taken = []
        for _, _, member in due[:limit]:
            d, data, attempts = self.pending.pop(member)
            self.inflight[member] = Claim(d, data, attempts + 1, self.now + lease)
            taken.append((member, self.inflight[member]))
        return taken

    def requeue(self) -> int:
        count = 0
        for member, claim in list(self.inflight.items()):
            if claim.lease_end <= self.now:
                del self.inflight[member]
                if not claim.cancelled and member not in self.pending:
                    self.pending[member] = (claim.due, claim.data, claim.attempt)
                    count += 1
        return count


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops)
def test_the_engine_behaves_like_its_model(redis_url: str, steps: list[tuple[Any, ...]]) -> None:
    loop = asyncio.new_event_loop()  # not asyncio.run: that would unset the loop pytest-asyncio keeps
    try:
        loop.run_until_complete(_run_against_model(redis_url, steps))
    finally:
        loop.close()


async def _run_against_model(redis_url: str, steps: list[tuple[Any, ...]]) -> None:
    client = redis_client(redis_url)
    try:
        await client.flushall()
        lease = 30
        engine = TimerEngine(client, prefix="model", lease=timedelta(seconds=lease))
        model = Model()
        claims: list[tuple[Timer, Claim]] = []
        for step in steps:
            match step:
                case ("schedule", kind, key, offset, n):
                    data = {"n": n, "rank": 3 * n} if n else {"n": n}  # ranks 3, 6, 9, and none (5)
                    await engine.schedule(kind, key, at(model.now + offset), data)
                    model.pending[f"{kind}|{key}"] = (model.now + offset, data, 0)
                case ("cancel", kind, key):
                    member = f"{kind}|{key}"
                    assert await engine.cancel(kind, key) == (model.pending.pop(member, None) is not None)
                    if member in model.inflight:
                        model.inflight[member].cancelled = True
                case ("claim", limit):
                    got = await engine.claim_due(at(model.now), limit)
                    expected = model.claim(limit, lease)
                    assert [(t.member, t.due, t.data, t.attempt) for t in got] == [
                        (m, at(c.due), c.data, c.attempt) for m, c in expected]
                    for timer, (_, claim) in zip(got, expected, strict=True):
                        claim.token = timer.token
                        claims.append((timer, claim))
                case ("complete", index) if claims:
                    timer, claim = claims[index % len(claims)]
                    held = model.inflight.get(timer.member) is claim
                    assert await engine.complete(timer) == held
                    if held:
                        del model.inflight[timer.member]
                case ("advance", seconds):
                    model.now += seconds
                case ("requeue",):
                    assert await engine.requeue_expired(at(model.now)) == model.requeue()
            assert [(t.member, t.due, t.data) for t in await engine.pending()] == [
                (m, at(d), data) for m, (d, data, _) in sorted(model.pending.items(), key=lambda i: (i[1][0], i[0]))]
            assert await engine.in_flight() == len(model.inflight)
    finally:
        await client.aclose()


# --- the worker ---------------------------------------------------------------------------------

def real_now() -> datetime:
    return datetime.now(UTC)


async def test_the_worker_fires_within_a_second_of_the_due_time(engine: TimerEngine) -> None:
    fired: dict[str, datetime] = {}
    all_fired = asyncio.Event()

    async def handler(timer: Timer) -> None:
        fired[timer.key] = real_now()
        if len(fired) == 5:
            all_fired.set()

    start = real_now()
    dues = {str(i): start + timedelta(seconds=0.2 + 0.15 * i) for i in range(5)}
    for key, due in dues.items():
        await engine.schedule("ack", key, due)
    stop = asyncio.Event()
    task = asyncio.create_task(TimerWorker(engine, handler, clock=real_now).run(stop))
    await asyncio.wait_for(all_fired.wait(), 10)
    stop.set()
    await asyncio.wait_for(task, 5)
    for key, due in dues.items():
        assert timedelta(0) <= fired[key] - due < timedelta(seconds=1), (key, fired[key] - due)
    assert await engine.pending() == [] and await engine.in_flight() == 0


async def test_a_failing_handler_fires_again_after_the_lease_and_is_given_up_after_five_attempts(
        engine: TimerEngine, caplog: pytest.LogCaptureFixture) -> None:
    attempts: list[int] = []

    async def handler(timer: Timer) -> None:
        attempts.append(timer.attempt)
        raise RuntimeError("Teams is down")

    clock = Clock()
    worker = TimerWorker(engine, handler, clock=clock)
    await engine.schedule("update", "42", T0, {"misses": 2})
    with caplog.at_level(logging.INFO, logger="bot.timers.worker"):
        for attempt in range(1, MAX_ATTEMPTS + 1):
            assert await worker.run_once() == 1
            assert attempts[-1] == attempt
            clock.advance(59)
            assert await worker.run_once() == 0  # not before the lease ends
            clock.advance(1)
        assert await worker.run_once() == 0
        clock.advance(3600)
        assert await worker.run_once() == 0
    assert attempts == [1, 2, 3, 4, 5]
    assert await engine.pending() == [] and await engine.in_flight() == 0
    failures = [r for r in caplog.records if r.name == "bot.timers.worker" and r.levelno >= logging.ERROR]
    assert len(failures) == 5 and all(r.exc_info for r in failures)
    assert "attempt 1 of 5" in failures[0].getMessage() and "update|42" in failures[0].getMessage()
    assert "failed 5 times; given up" in failures[-1].getMessage()


async def test_a_handler_that_fails_once_then_succeeds(engine: TimerEngine, redis: Redis) -> None:
    calls: list[Timer] = []

    async def handler(timer: Timer) -> list[tuple[str, str, str, int]]:
        calls.append(timer)
        if len(calls) == 1:
            raise ConnectionError("flaky")
        return [("HINCRBY", engine.key("sent"), f"{timer.member}|{timer.due.isoformat()}", 1)]

    clock = Clock()
    worker = TimerWorker(engine, handler, clock=clock)
    await engine.schedule("ack", "9", T0)
    await worker.run_once()
    clock.advance(60)
    await worker.run_once()
    clock.advance(600)
    await worker.run_once()
    assert [(t.due, t.attempt) for t in calls] == [(T0, 1), (T0, 2)]
    assert await redis.hgetall(engine.key("sent")) == {f"ack|9|{T0.isoformat()}": "1"}
    assert await engine.in_flight() == 0


async def test_writes_of_a_handler_that_lost_its_claim_are_not_committed(engine: TimerEngine, redis: Redis) -> None:
    clock = Clock()
    taken_over: list[Timer] = []

    async def slow_handler(timer: Timer) -> list[tuple[str, str, str, int]]:
        clock.advance(61)  # meanwhile the lease ends and another worker takes the timer over
        await engine.requeue_expired(clock())
        taken_over.extend(await engine.claim_due(clock()))
        return [("HINCRBY", engine.key("sent"), timer.member, 1)]

    await engine.schedule("ack", "1", T0)
    await TimerWorker(engine, slow_handler, clock=clock).run_once()
    assert await redis.hget(engine.key("sent"), "ack|1") is None
    assert [t.attempt for t in taken_over] == [2]
    assert await engine.complete(taken_over[0], [("HINCRBY", engine.key("sent"), "ack|1", 1)])
    assert await redis.hget(engine.key("sent"), "ack|1") == "1"


async def test_handlers_run_concurrently_up_to_the_bound(engine: TimerEngine) -> None:
    running, peak, done = 0, 0, 0

    async def handler(timer: Timer) -> None:
        nonlocal running, peak, done
        running += 1
        peak = max(peak, running)
        await asyncio.sleep(0.01)
        running -= 1
        done += 1

    await engine.schedule_many(("ack", str(i), T0, None) for i in range(20))
    assert await TimerWorker(engine, handler, clock=Clock(), concurrency=3, batch=15).run_once() == 15
    assert (peak, done) == (3, 15)
    assert len(await engine.pending()) == 5 and await engine.in_flight() == 0


async def test_run_stops_cleanly_and_finishes_its_handlers(engine: TimerEngine) -> None:
    started, finished = asyncio.Event(), []

    async def handler(timer: Timer) -> None:
        started.set()
        await asyncio.sleep(0.3)
        finished.append(timer.key)

    await engine.schedule("ack", "1", real_now())
    await engine.schedule("ack", "2", real_now() + timedelta(hours=1))
    stop = asyncio.Event()
    task = asyncio.create_task(TimerWorker(engine, handler, clock=real_now, idle_sleep=0.05).run(stop))
    await asyncio.wait_for(started.wait(), 5)
    stop.set()
    began = time.monotonic()
    await asyncio.wait_for(task, 5)
    assert finished == ["1"]
    assert time.monotonic() - began < 1
    assert await engine.in_flight() == 0
    assert [t.key for t in await engine.pending()] == ["2"]

    idle = asyncio.create_task(TimerWorker(engine, handler, clock=real_now, idle_sleep=30).run(stop := asyncio.Event()))
    await asyncio.sleep(0.05)
    stop.set()
    await asyncio.wait_for(idle, 1)  # an idle worker wakes up at once


async def test_the_loop_survives_a_failing_round(engine: TimerEngine, caplog: pytest.LogCaptureFixture) -> None:
    fired = asyncio.Event()
    calls = 0

    def clock() -> datetime:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise OSError("clock source unavailable")
        return real_now()

    async def handler(timer: Timer) -> None:
        fired.set()

    await engine.schedule("ack", "1", real_now())
    stop = asyncio.Event()
    task = asyncio.create_task(TimerWorker(engine, handler, clock=clock, idle_sleep=0.01).run(stop))
    await asyncio.wait_for(fired.wait(), 5)
    stop.set()
    await task
    assert any("a round failed" in r.getMessage() for r in caplog.records)


# --- several processes --------------------------------------------------------------------------

async def start_worker(redis_url: str, prefix: str, *options: str) -> asyncio.subprocess.Process:
    process = await asyncio.create_subprocess_exec(
        sys.executable, str(WORKER_SCRIPT), redis_url, "--prefix", prefix, *options,
        stdout=asyncio.subprocess.PIPE)
    assert process.stdout is not None
    assert await asyncio.wait_for(process.stdout.readline(), 20) == b"ready\n"
    return process


async def test_three_processes_one_killed_fire_every_timer_exactly_once(redis: Redis, redis_url: str) -> None:
    prefix, count = "multi", 2000
    engine = TimerEngine(redis, prefix=prefix, lease=timedelta(seconds=1))
    common = ("--lease", "1", "--idle-sleep", "0.05", "--mark-running")
    # the victim holds its claims long (0.3 s handlers), so it is killed with claims in flight
    processes = await asyncio.gather(
        start_worker(redis_url, prefix, *common, "--handler-sleep", "0.3", "--batch", "8", "--concurrency", "8"),
        *(start_worker(redis_url, prefix, *common, "--handler-sleep", "0.01", "--batch", "40", "--concurrency", "8")
          for _ in range(2)))
    victim = processes[0]
    try:
        start = real_now()
        await engine.schedule_many(("ack", str(i), start + timedelta(seconds=random.uniform(0, 0.5)), {"i": i})
                                   for i in range(count))
        running = engine.key(f"running:{victim.pid}")

        async def victim_busy_after_some_work() -> bool:  # mid-run: it has fired some and holds claims
            # its running set is read last, right before the kill: a 0.3 s handler cannot finish in between
            return (await redis.hlen(engine.key("fired")) >= 300
                    and any(v.endswith(f":{victim.pid}") for v in await redis.hvals(engine.key("fired_at")))
                    and await redis.scard(running) > 0)
        await eventually(victim_busy_after_some_work, 15, "the victim to be busy", every=0.02)
        victim.send_signal(signal.SIGKILL)
        await victim.wait()
        interrupted = await redis.smembers(running)

        async def all_done() -> bool:
            return await redis.zcard(engine.key("due")) == 0 and await engine.in_flight() == 0
        await eventually(all_done, 20, "every timer to fire", every=0.02)  # after this nothing can fire any more

        fired = await redis.hgetall(engine.key("fired"))
        counts = Counter(fired.values())
        assert len(fired) == count, f"{count - len(fired)} timers missed"
        assert counts == {"1": count}, f"duplicates: {counts}"
        assert {firing.split("|")[1] for firing in fired} == {str(i) for i in range(count)}
        details = {firing: value.split(":") for firing, value in (await redis.hgetall(engine.key("fired_at"))).items()}
        pids = Counter(pid for _, _, pid in details.values())
        assert set(pids) <= {str(p.pid) for p in processes} and len(pids) == 3, pids
        assert interrupted, "the victim was killed with no claim in flight"
        for firing in interrupted:  # the victim's claims fired again elsewhere, after the lease
            _, attempt, pid = details[firing]
            assert pid != str(victim.pid) and int(attempt) >= 2
    finally:
        for process in processes:
            if process.returncode is None:
                process.send_signal(signal.SIGTERM)
        for process in processes[1:]:
            assert await asyncio.wait_for(process.wait(), 10) == 0  # SIGTERM: a clean stop
        await asyncio.wait_for(victim.wait(), 10)


async def test_each_kind_of_timer_goes_to_the_handler_its_feature_registered(caplog: pytest.LogCaptureFixture) -> None:
    fired: list[tuple[str, str]] = []
    reminders, escalations = TimerKinds[str](), TimerKinds[str]()

    @reminders.on("ack", "update")
    async def remind(services: str, timer: Timer) -> None:
        fired.append((services, f"reminder {timer.kind}"))

    @escalations.on("escalation")
    async def pass_on(services: str, timer: Timer) -> None:
        fired.append((services, f"escalation {timer.key}"))

    handle = TimerKinds(reminders, escalations).handler("services")
    for kind in ("update", "escalation", "retired"):
        await handle(Timer(kind, "42", T0))
    assert fired == [("services", "reminder update"), ("services", "escalation 42")]
    assert "ignoring a timer of unknown kind retired" in caplog.text  # a timer left by another version: completed
    with pytest.raises(ValueError, match="'ack' is registered twice"):
        TimerKinds(reminders, reminders)
