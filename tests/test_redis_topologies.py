"""The bot's Redis paths on every topology REDIS_URL names: one redis-server, a Redis Cluster (6 nodes: 3 masters,
3 replicas) and a Sentinel setup (a master, a replica, 3 sentinels), each reached through bot.store.connect_redis as
production does; then a master failed over under load (tests/support/redis_cluster.py starts them).

The whole reliability suite runs on a cluster or on sentinels too: `TEST_REDIS=cluster` or `TEST_REDIS=sentinel`
(`make test-redis-topologies`)."""

from __future__ import annotations

import asyncio
import gc
import random
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from redis.asyncio import Redis
from redis.exceptions import RedisError

from bot.deliveries import Deliveries, Delivery
from bot.drafts.model import Draft, DraftKind, DraftState
from bot.drafts.store import DraftStore
from bot.escalation.model import Answer, Escalation, TicketContext
from bot.escalation.store import EscalationStore
from bot.outbox import Outbox
from bot.store import Atomic, Store, connect_redis
from bot.timers import Timer, TimerEngine, Write
from bot.turn import Conversation, Incoming, Kind, Person
from tests.support.redis_cluster import LocalCluster, LocalSentinels, cli, local_cluster, local_sentinels

KINDS = ("server", "cluster", "sentinel")
NOW = datetime(2025, 1, 29, 8, 33, tzinfo=UTC)


@dataclass
class Topology:
    kind: str
    url: str
    flush_scripts: Callable[[], None]  # SCRIPT FLUSH on every node (what a failover or a restart does to the cache)


@pytest.fixture(scope="session")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCluster]:
    with local_cluster(tmp_path_factory.mktemp("cluster")) as running:
        yield running


@pytest.fixture(scope="session")
def sentinels(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalSentinels]:
    with local_sentinels(tmp_path_factory.mktemp("sentinel")) as running:
        yield running


@pytest.fixture(params=KINDS)
def topology(request: pytest.FixtureRequest, redis_url: str) -> Topology:
    if request.param == "cluster":
        running: LocalCluster = request.getfixturevalue("cluster")
        return Topology("cluster", running.url, running.flush_scripts)
    if request.param == "sentinel":
        watched: LocalSentinels = request.getfixturevalue("sentinels")
        return Topology("sentinel", watched.url, watched.flush_scripts)
    if not redis_url.startswith("redis://"):
        pytest.skip("the session's Redis is not one server (TEST_REDIS)")
    port = urlsplit(redis_url).port
    assert port is not None
    return Topology("server", redis_url, lambda: cli(port, "script", "flush") and None)


@pytest.fixture
async def client(topology: Topology) -> AsyncIterator[Redis]:
    redis = connect_redis(topology.url)
    await redis.flushall()
    yield redis
    await redis.aclose(close_connection_pool=True)


def incoming(activity_id: str, text: str = "/ticket note 12 checked") -> Incoming:
    return Incoming(Kind.MESSAGE, activity_id, Conversation("conversation"), Person("29:someone", "Someone"),
                    text=text, reference={"conversation": {"id": "conversation"}})


async def test_each_topology_answers_like_one_redis(client: Redis, topology: Topology) -> None:
    store = Store(client)
    assert await store.ping()
    await store.remember_odoo_user("AAD-1", 7)
    assert await store.odoo_user_id("aad-1") == 7
    keys = [f"spread:{n}" for n in range(30)]  # on a cluster: on all three masters
    for key in keys:
        await client.set(key, key)
    assert [await client.get(key) for key in keys] == keys


async def test_the_outbox_keeps_a_command_once_and_gives_them_back_in_order(client: Redis) -> None:
    outbox = Outbox(client, Store(client).key("outbox", ""))
    assert [await outbox.keep(incoming(f"a{n}", f"/ticket note {n}"), 7) for n in range(3)] == [True] * 3
    assert not await outbox.keep(incoming("a1", "/ticket note 1"), 7)  # kept already
    assert await outbox.waiting() == 3
    order = []
    while (entry := await outbox.oldest()) is not None:
        order.append(entry[1].text)
        await outbox.done(entry[0])
    assert order == ["/ticket note 0", "/ticket note 1", "/ticket note 2"]
    token = await outbox.lock(5)
    assert token and await outbox.lock(5) is None
    assert await outbox.renew(token, 5) and not await outbox.renew("not-ours", 5)
    await outbox.unlock(token)
    assert await outbox.lock(5) is not None


async def fire_all(engines: list[TimerEngine], now: datetime,
                   ran: Counter[str] | None = None) -> Counter[str]:
    """The engines claim and complete what is due, side by side, until nothing is; each completion counts the timer
    in Redis (a write committed with it). `ran` counts the handlers run (a completion refused: run twice)."""
    ran = Counter() if ran is None else ran

    async def worker(engine: TimerEngine) -> None:
        while claimed := await engine.claim_due(now, limit=7):
            for timer in claimed:
                ran[timer.member] += 1
                writes: list[Write] = [("HINCRBY", engine.key("fired"), timer.member, 1)]
                assert await engine.complete(timer, writes)

    await asyncio.gather(*(worker(engine) for engine in engines))
    return ran


async def test_timers_fire_once_across_three_workers(client: Redis, topology: Topology) -> None:
    workers = [connect_redis(topology.url) for _ in range(3)]  # three replicas
    try:
        engines = [TimerEngine(redis, prefix="ticketbot:timers") for redis in workers]
        timers = [("reminder", str(n), NOW - timedelta(seconds=n), {"n": n}) for n in range(300)]
        assert await engines[0].schedule_many(timers) == 300
        found = await engines[1].get_all("5", ["reminder", "ack"])
        assert found["reminder"] == Timer("reminder", "5", NOW - timedelta(seconds=5), {"n": 5})
        assert found["ack"] is None
        assert await engines[2].cancel("reminder", "299")
        ran = await fire_all(engines, NOW)
        fired = await client.hgetall(engines[0].key("fired"))
        assert len(fired) == 299 and set(fired.values()) == {"1"} and set(ran.values()) == {1}
        assert await engines[0].pending() == [] and await engines[0].in_flight() == 0
    finally:
        for redis in workers:
            await redis.aclose(close_connection_pool=True)


async def test_a_turn_is_claimed_once_and_taken_over_once(client: Redis, topology: Topology) -> None:
    replicas = [connect_redis(topology.url) for _ in range(3)]
    try:
        deliveries = [Deliveries(redis, Store(redis).tagged("delivery"), lease=0.2) for redis in replicas]
        claims = await asyncio.gather(*(d.claim(incoming("activity-1")) for d in deliveries))
        assert sorted(claim.delivery for claim in claims) == [Delivery.FIRST, Delivery.RUNNING, Delivery.RUNNING]
        await asyncio.sleep(0.2 + 0.4 + 0.1)  # its replica died: the lease, then the grace, lapsed
        assert await deliveries[0].lapsed() == ["conversation:activity-1"]
        taken = await asyncio.gather(*(d.take_over("conversation:activity-1") for d in deliveries))
        [lapsed] = [one for one in taken if one is not None]
        assert lapsed.incoming.text == "/ticket note 12 checked" and not lapsed.abandoned
        async with deliveries[1].running(lapsed.claim):
            pass
        assert (await deliveries[2].claim(incoming("activity-1"))).delivery is Delivery.DONE
        assert await deliveries[2].lapsed() == []
    finally:
        for redis in replicas:
            await redis.aclose(close_connection_pool=True)


def escalation(escalation_id: str) -> Escalation:
    ticket = TicketContext(12, "HT00012", "Projector", "Priority", 2, "MindX", "Tiến", 5, "In progress", "https://x")
    return Escalation(escalation_id, "network", "Network", ticket, "room 302", "Lan", NOW, NOW + timedelta(hours=1))


async def test_an_escalation_and_a_draft_take_one_answer(client: Redis) -> None:
    escalations = EscalationStore(Store(client))
    assert (await escalations.create(escalation("e-1")))[1]
    assert not (await escalations.create(escalation("e-1")))[1]
    answered = await asyncio.gather(*(escalations.answer("e-1", Answer.ACKNOWLEDGE, f"agent {n}", NOW, "")
                                      for n in range(5)))
    assert answered.count(True) == 1

    drafts = DraftStore(Store(client))
    draft = Draft(id=DraftStore.new_id(), kind=DraftKind.UPDATE, language="en", ticket_id=12, ticket_label="HT00012",
                  ticket_title="Projector", url="https://x", recipient="customer@example.com", subject="Update",
                  text="Dear customer", made_by="Lan", made_at=NOW, state=DraftState.OPEN, posted_by="",
                  posted_at=None)
    await drafts.save(draft)
    assert 0 < await client.ttl(Store(client).key("draft", draft.id)) <= 24 * 3600
    claimed = await asyncio.gather(*(drafts.claim(draft.id, f"agent {n}", NOW, "Update", "Dear customer")
                                     for n in range(5)))
    assert claimed.count(True) == 1


async def test_scripts_are_loaded_again_when_redis_has_forgotten_them(client: Redis, topology: Topology) -> None:
    """A failover, or a restart, empties a server's script cache: redis-py's scripts answer NOSCRIPT with SCRIPT
    LOAD and send EVALSHA again, on each topology (its cluster client loads them on every master)."""
    engine = TimerEngine(client, prefix="ticketbot:timers")
    await engine.schedule("reminder", "1", NOW)
    outbox = Outbox(client, Store(client).key("outbox", ""))
    token = await outbox.lock(5)
    assert token
    topology.flush_scripts()
    assert await outbox.renew(token, 5)
    [timer] = await engine.claim_due(NOW)
    topology.flush_scripts()
    assert await engine.complete(timer)
    topology.flush_scripts()
    assert await engine.schedule_many([("reminder", "2", NOW, None)]) == 1  # Atomic's script too


async def test_a_cluster_refuses_a_script_over_keys_of_two_slots(cluster: LocalCluster) -> None:
    """Why every script's keys share a hash tag: without one, a cluster refuses the script."""
    redis = connect_redis(cluster.url)
    try:
        atomic = Atomic(redis)
        assert await atomic([("SET", "{one}:a", "1"), ("SET", "{one}:b", "2")]) == ["OK", "OK"]
        with pytest.raises(Exception, match=r"same key slot|CROSSSLOT"):
            await atomic([("SET", "one:a", "1"), ("SET", "two:b", "2")])
    finally:
        await redis.aclose()


@dataclass
class Load:
    """What several replicas did to one Redis while one of its masters was failed over."""

    kept: set[str] = field(default_factory=set)  # commands Outbox.keep said it kept
    first: Counter[str] = field(default_factory=Counter)  # activities whose claim came back FIRST, how often
    ran: Counter[str] = field(default_factory=Counter)  # timer handlers run
    refused: Counter[str] = field(default_factory=Counter)  # completions refused or failed (the in-flight window)
    failures: Counter[str] = field(default_factory=Counter)  # Redis errors, by type (a turn: "Redis is not answering")
    crashes: list[BaseException] = field(default_factory=list)  # anything else (a crash card)

    def failed(self, error: BaseException) -> None:
        if isinstance(error, RedisError):
            self.failures[type(error).__name__] += 1
        else:
            self.crashes.append(error)


async def under_load(url: str, fail_over: Callable[[], object], *, timers: int = 600, seconds: float = 6.0
                     ) -> tuple[Load, Redis]:
    """3 replicas keep commands, claim turns and fire timers (lease 1 s) for `seconds`; a master is failed over
    a third of the way in. Every failed call is tried again, as the bot's rounds and the agents do."""
    load = Load()
    replicas = [connect_redis(url) for _ in range(3)]
    engines = [TimerEngine(redis, prefix="ticketbot:timers", lease=timedelta(seconds=1)) for redis in replicas]
    # coming due all along (the clock of `_later`), so that some are claimed while the master changes
    await engines[0].schedule_many(("reminder", str(n), NOW + timedelta(seconds=seconds * 0.8 * n / timers), None)
                                   for n in range(timers))
    stop = asyncio.Event()

    async def turns(replica: int, redis: Redis) -> None:
        outbox, deliveries = Outbox(redis, "ticketbot:outbox:"), Deliveries(redis, "{ticketbot:delivery}:")
        n = 0
        while not stop.is_set():
            n += 1
            activity = f"r{replica}-{n}"
            try:
                claim = await deliveries.claim(incoming(activity))
                if claim.delivery is Delivery.FIRST:
                    load.first[claim.activity_key] += 1
                if await outbox.keep(incoming(activity, f"/ticket note {activity}"), 7):
                    load.kept.add(activity)
                # Teams delivers it again: never FIRST a second time
                again = await deliveries.claim(incoming(activity))
                if again.delivery is Delivery.FIRST:
                    load.first[again.activity_key] += 1
            except Exception as error:  # counted: a crash unless a Redis error
                load.failed(error)
                await asyncio.sleep(0.05)

    async def worker(engine: TimerEngine) -> None:
        """Until the load is over and every timer fired (or 15 s more: a timer lost would stay pending)."""
        drained = time.monotonic() + seconds + 15
        while time.monotonic() < drained:
            try:
                await engine.requeue_expired(_later())
                for timer in await engine.claim_due(_later(), limit=5):
                    load.ran[timer.member] += 1
                    await asyncio.sleep(random.random() * 0.01)  # the reminder being sent
                    try:
                        if not await engine.complete(timer, [("HINCRBY", engine.key("fired"), timer.member, 1)]):
                            load.refused[timer.member] += 1
                    except Exception:
                        load.refused[timer.member] += 1
                        raise
                if stop.is_set() and not await engine.pending() and not await engine.in_flight():
                    return
            except Exception as error:  # counted: a crash unless a Redis error
                load.failed(error)
                await asyncio.sleep(0.05)
            await asyncio.sleep(0.01)

    started = time.monotonic()
    tasks = [asyncio.create_task(turns(n, redis)) for n, redis in enumerate(replicas)]
    tasks += [asyncio.create_task(worker(engine)) for engine in engines]
    try:
        await asyncio.sleep(seconds / 3)
        await asyncio.to_thread(fail_over)
        await asyncio.sleep(max(0.0, seconds - (time.monotonic() - started)))
    except BaseException:  # the failover itself failed: the load stops and its connections close here, not in
        stop.set()  # a later test's garbage collection
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for redis in replicas:
            await redis.aclose(close_connection_pool=True)
        raise
    stop.set()
    await asyncio.gather(*tasks)
    for redis in replicas[1:]:
        await redis.aclose(close_connection_pool=True)
    return load, replicas[0]


_clock = {"lease_ends": 0.0}


def _later() -> datetime:
    """The reaper's `now`: the timers' lease is 1 s of the real clock, measured from the start of the load."""
    return NOW + timedelta(seconds=time.monotonic() - _clock["lease_ends"])


async def check(load: Load, redis: Redis, timers: int) -> dict[str, object]:
    """The figures of a failover under load (read back from Redis once it is over)."""
    outbox = Outbox(redis, "ticketbot:outbox:")
    in_stream = set()
    while (entry := await outbox.oldest()) is not None:
        in_stream.add(entry[1].activity_id)
        await outbox.done(entry[0])
    fired = {member: int(count) for member, count in (await redis.hgetall("{ticketbot:timers}:fired")).items()}
    engine = TimerEngine(redis, prefix="ticketbot:timers")
    figures = {
        "kept": len(load.kept), "kept lost": len(load.kept - in_stream), "turns run twice": sum(
            1 for count in load.first.values() if count > 1),
        "timers": timers, "timers fired": len(fired), "timers fired twice": sum(1 for c in fired.values() if c > 1),
        "handlers run twice": sum(1 for c in load.ran.values() if c > 1),
        "of which after a refused completion": sum(1 for m, c in load.ran.items() if c > 1 and load.refused[m]),
        "failed calls": dict(load.failures), "crashes": [repr(error) for error in load.crashes],
        "pending": len(await engine.pending()), "in flight": await engine.in_flight()}
    await redis.aclose(close_connection_pool=True)
    return figures


def assert_nothing_lost(figures: dict[str, object], timers: int) -> None:
    assert figures["crashes"] == []
    assert figures["kept lost"] == 0 and figures["turns run twice"] == 0
    assert figures["timers fired"] == timers and figures["timers fired twice"] == 0
    assert figures["handlers run twice"] == figures["of which after a refused completion"]  # the in-flight window


# redis-py 5.2.1's cluster client may drop a node object it replaced during the failover while a command still
# holds one of its connections (ResourceWarning "Unclosed ClusterNode object" when it is collected): collected here,
# within this test, and not counted as its failure.
# The failovers under load run once per CI, in `make test-redis-topologies` (marker redis_failover), not in each of
# the suite's three runs: a failover leaves redis-py's connections to the old master to be collected (and warned
# about) later, in whichever test that worker runs next, and their timing is a busy machine's.
@pytest.mark.redis_failover
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
@pytest.mark.parametrize("how", ["failover", "kill"])
async def test_a_cluster_master_failed_over_under_load_loses_nothing(tmp_path: Path, how: str) -> None:
    """`failover`: CLUSTER FAILOVER on the replica of the master holding the timers (planned: it catches up first).
    `kill`: that master SIGKILLed; its replica takes over after the node timeout (1 s)."""
    with local_cluster(tmp_path) as running:
        _clock["lease_ends"] = time.monotonic()
        took: list[float] = []

        def fail_over() -> None:
            started, master = time.monotonic(), running.master_of("{ticketbot:timers}")
            if how == "failover":
                running.fail_over(master)
            else:
                replica = running.replica_of(master)
                running.servers.kill(master)
                running.wait_until_promoted(replica)
            took.append(round(time.monotonic() - started, 1))

        load, redis = await under_load(running.url, fail_over)
        figures = await check(load, redis, 600)
        gc.collect()
    print(f"cluster, master {how} under load ({took[0]} s):", figures)
    assert_nothing_lost(figures, 600)


@pytest.mark.redis_failover
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
async def test_a_sentinel_failover_under_load_loses_nothing(tmp_path: Path) -> None:
    with local_sentinels(tmp_path) as watched:
        _clock["lease_ends"] = time.monotonic()
        took: list[float] = []

        def fail_over() -> None:
            started = time.monotonic()
            watched.fail_over()
            took.append(round(time.monotonic() - started, 1))

        load, redis = await under_load(watched.url, fail_over)
        figures = await check(load, redis, 600)
    print(f"sentinel, SENTINEL FAILOVER under load ({took[0]} s):", figures)
    assert_nothing_lost(figures, 600)


@pytest.mark.parametrize("url", ["redis+cluster://127.0.0.1:1,127.0.0.1:2", "redis+sentinel://127.0.0.1:1/tickets"])
async def test_no_node_answering_is_a_redis_error_not_a_crash(url: str) -> None:
    """What a turn answers "Redis is not answering" to, and a round tries again after (redis-py raises its
    RedisClusterException, which is no RedisError, when no node of a cluster answers)."""
    redis = connect_redis(url, timeout=0.5)
    try:
        with pytest.raises(RedisError):
            await redis.get("anything")
    finally:
        await redis.aclose(close_connection_pool=True)


def test_a_connection_closed_under_a_command_is_a_lost_connection_not_a_bug() -> None:
    """redis-py 5.2.1's cluster client closes a dropped node's connections while a command may still use one: its
    stream then is None. The bot's cluster client takes that for a lost connection (tried again), and nothing else."""
    from bot.store import _closed_under_it

    stream = None
    with pytest.raises(AttributeError) as closed:
        stream.writelines([b"PING"])  # type: ignore[attr-defined]
    assert _closed_under_it(closed.value)
    with pytest.raises(AttributeError) as bug:
        object().writelines  # type: ignore[attr-defined]  # noqa: B018
    assert not _closed_under_it(bug.value)
