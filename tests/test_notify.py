"""Outbound messages: Teams' per-conversation limits, throttling retries, no blind re-posts."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from botbuilder.schema import Activity
from redis.asyncio import Redis

from bot.adapter import TeamsAdapter, to_incoming
from bot.notify import MAX_WAIT, NO_TENANT, Outbound, TeamsBudget, tenant_of
from bot.settings import Mode, OdooSettings, Settings
from bot.turn import Outcome, Reply, SendFailed
from tests.conftest import redis_client
from tests.support.connector import ConnectorStub, TeamsLimits, most_in_any_window


class FakeTime:
    def __init__(self) -> None:
        self.ms = 1_000_000.0
        self.slept: list[float] = []

    def now_ms(self) -> float:
        return self.ms

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.ms += seconds * 1000


async def _no_turn(*_: object) -> Outcome:
    return Outcome()


@pytest.fixture
def outbound_parts(redis: Redis, connector: tuple[ConnectorStub, str]) -> tuple[Outbound, FakeTime, dict[str, object]]:
    url = connector[1]
    settings = Settings(mode=Mode.DEV, odoo=OdooSettings(url=None, db="x", login="x", api_key="x"))
    adapter = TeamsAdapter(settings, _no_turn)
    time = FakeTime()
    outbound = Outbound(adapter, redis, prefix="test:rate:", clock_ms=time.now_ms, sleep=time.sleep,
                        jitter=lambda: 0.5)
    reference = {"serviceUrl": url, "channelId": "msteams", "conversation": {"id": "19:ops@thread.tacv2"},
                 "bot": {"id": "28:bot"}, "user": {"id": "29:u"}}
    return outbound, time, reference


async def test_throttling_is_retried_honouring_retry_after(
        outbound_parts: tuple[Outbound, FakeTime, dict[str, object]], connector: tuple[ConnectorStub, str]) -> None:
    outbound, time, reference = outbound_parts
    stub = connector[0]
    stub.failures = [(429, {"Retry-After": "3"}), (412, {})]
    message_id = await outbound.send_to(reference, Reply(text="hello"))
    assert message_id and len(stub.posted) == 1 and stub.attempts == 3
    assert time.slept[0] == 3.0  # Retry-After wins over the shorter backoff
    assert 0.5 <= time.slept[1] <= 1.0


@pytest.mark.parametrize("status", [502, 504])
async def test_an_ambiguous_failure_is_not_reposted(
        status: int, outbound_parts: tuple[Outbound, FakeTime, dict[str, object]],
        connector: tuple[ConnectorStub, str]) -> None:
    outbound, _, reference = outbound_parts
    stub = connector[0]
    stub.failures = [(status, {})]
    with pytest.raises(SendFailed) as failure:
        await outbound.send_to(reference, Reply(text="maybe posted"))
    assert failure.value.ambiguous and stub.attempts == 1


async def test_a_429_storm_is_sat_out_up_to_45_seconds_of_waiting(
        outbound_parts: tuple[Outbound, FakeTime, dict[str, object]], connector: tuple[ConnectorStub, str]) -> None:
    outbound, time, reference = outbound_parts
    stub = connector[0]
    stub.failures = [(429, {})] * 5 + [(503, {})]  # 0.375 + 0.75 + ... + 12 s of backoff: within the 45 s
    await outbound.send_to(reference, Reply(text="x"))
    assert stub.attempts == 7 and len(stub.posted) == 1 and sum(time.slept) <= MAX_WAIT

    stub.failures, stub.attempts = [(429, {"Retry-After": "20"})] * 10, 0
    with pytest.raises(SendFailed):
        await outbound.send_to(reference, Reply(text="y"))
    assert stub.attempts == 3 and len(stub.posted) == 1  # a third wait of 20 s would pass 45 s: given up


async def test_the_per_conversation_budget_is_kept(
        outbound_parts: tuple[Outbound, FakeTime, dict[str, object]], connector: tuple[ConnectorStub, str]) -> None:
    outbound, time, reference = outbound_parts
    start = time.ms
    sent_at: list[float] = []
    for n in range(70):
        await outbound.send_to(reference, Reply(text=f"message {n}"))
        sent_at.append(time.ms - start)
    assert len(connector[0].posted) == 70
    for second in range(int(sent_at[-1] // 1000) + 1):  # never more than 7 in one second
        assert sum(1 for t in sent_at if second * 1000 <= t < (second + 1) * 1000) <= 7
    assert sent_at[60] >= 30_000 - (start % 30_000)  # the 61st waits for the next 30-second window


class Recorder:
    """A Bot Connector that takes every message at once, noting when (the real clock) and where it went."""

    def __init__(self) -> None:
        self.sent: list[tuple[float, str]] = []

    async def send_to(self, reference: dict[str, Any], reply: Reply) -> str:
        self.sent.append((time.monotonic(), reference["conversation"]["id"]))
        return f"msg-{len(self.sent)}"

    async def update_in(self, reference: dict[str, Any], activity_id: str, reply: Reply) -> str:
        return await self.send_to(reference, reply)


async def test_two_replicas_share_one_tenant_budget_never_more_than_50_in_any_second(redis: Redis, redis_url: str
                                                                                    ) -> None:
    """Two Outbound instances (two replicas, each its own Redis connection) posting to 40 conversations of one tenant:
    together never more than 50 messages taken in any second (the tenant's log, watched all along), however the
    conversations' own budgets would allow more. (When each then reaches Teams depends on the machine: a loaded one
    resumes the senders late and bunched; the stub measures that, tests/test_notify.py below.)"""
    recorder = Recorder()
    replicas = [Outbound(recorder, redis_client(redis_url), prefix="test:rate:") for _ in range(2)]
    references = [{"conversation": {"id": f"a:chat-{n}", "tenantId": "Tenant-1"}} for n in range(40)]
    tenant = "test:rate:{tenant:tenant-1}:1000"
    most, done = 0, asyncio.Event()

    async def watch() -> None:  # the tenant's tokens of the last second (and margin), seen all along
        nonlocal most
        while not done.is_set():
            most = max(most, await redis.zcard(tenant))
            await asyncio.sleep(0.005)
    watcher = asyncio.create_task(watch())
    began = time.monotonic()
    await asyncio.gather(*(replicas[n % 2].send_to(references[n % 40], Reply(text=f"reminder {n}"))
                           for n in range(160)))
    done.set()
    await watcher
    moments = [moment - began for moment, _ in recorder.sent]
    assert len(moments) == 160 and 0 < most <= 50
    assert max(moments) >= 2.0  # 160 messages, 50 in any second: the third second is needed at least
    for conversation in {c for _, c in recorder.sent}:  # and each conversation kept its own 7 a second
        assert most_in_any_window([m for m, c in recorder.sent if c == conversation], 1.0) <= 7
    other = {"conversation": {"id": "a:elsewhere", "tenantId": "tenant-2"}}  # another organisation: its own budget
    before = time.monotonic()
    await replicas[0].send_to(other, Reply(text="not held up"))
    assert time.monotonic() - before < 0.5
    for replica in replicas:
        await replica._redis.aclose()


async def test_the_tenant_budget_spent_gives_the_conversations_token_back(redis: Redis) -> None:
    """A message waiting for its tenant's budget does not keep a token of its conversation's meanwhile: the
    conversation counts only messages that went."""
    clock = FakeTime()
    recorder = Recorder()
    budget = TeamsBudget(per_tenant=((1_000, 2),))
    outbound = Outbound(recorder, redis, prefix="test:rate:", clock_ms=clock.now_ms, sleep=clock.sleep,
                        budget=budget)
    for n in range(5):
        await outbound.send_to({"conversation": {"id": f"a:{n}", "tenantId": "t"}}, Reply(text="x"))
    assert len(recorder.sent) == 5 and sum(clock.slept) >= 2.0  # 2 a second: the fifth waits two seconds
    for n in range(5):
        assert await redis.zcard(f"test:rate:{{a:{n}}}:1000") <= 1  # each chat counted its one message once


async def test_the_hourly_budget_of_a_conversation(redis: Redis) -> None:
    clock = FakeTime()
    recorder = Recorder()
    budget = TeamsBudget(per_conversation=((1_000, 100), (3_600_000, 10)))
    outbound = Outbound(recorder, redis, prefix="test:rate:", clock_ms=clock.now_ms, sleep=clock.sleep,
                        budget=budget)
    start = clock.ms
    for n in range(11):
        await outbound.send_to({"conversation": {"id": "a:busy"}}, Reply(text=f"{n}"))
    assert clock.ms - start >= 3_600_000  # the eleventh waits for the hour to pass


def test_the_tenant_of_a_reference() -> None:
    assert tenant_of({"conversation": {"id": "a", "tenantId": "ABC"}}) == "abc"
    assert tenant_of({"conversation": {"id": "a"}, "channelData": {"tenant": {"id": "def"}}}) == "def"
    assert tenant_of({"conversation": {"id": "a"}}, "mine") == "mine"
    assert tenant_of({"conversation": {"id": "a"}}) == NO_TENANT


def test_a_conversation_reference_keeps_its_tenant() -> None:
    """botbuilder drops `conversation.tenantId` from the references it makes; the adapter keeps it, so that a reminder
    sent months later still counts against its organisation's budget."""
    activity = Activity().deserialize({
        "type": "message", "id": "1", "serviceUrl": "http://x", "channelId": "msteams", "from": {"id": "29:u"},
        "recipient": {"id": "28:b"}, "conversation": {"id": "a:1", "conversationType": "personal"},
        "channelData": {"tenant": {"id": "T1"}}})
    reference = to_incoming(activity).reference
    assert reference["conversation"]["tenantId"] == "T1" and tenant_of(reference) == "t1"


async def test_the_stub_enforces_teams_limits_and_the_429_path_still_delivers(
        redis: Redis, connector: tuple[ConnectorStub, str]) -> None:
    """The Bot Connector stub enforcing Teams' limits: a bot that keeps its budget is never throttled; one whose budget
    is larger than what Teams allows gets 429 with Retry-After, waits as told, and every message is still posted
    once."""
    stub, url = connector
    stub.limits = TeamsLimits()
    settings = Settings(mode=Mode.DEV, odoo=OdooSettings(url=None, db="x", login="x", api_key="x"))
    adapter = TeamsAdapter(settings, _no_turn)
    reference = {"serviceUrl": url, "channelId": "msteams", "conversation": {"id": "a:chat", "tenantId": "t1"},
                 "bot": {"id": "28:bot"}, "user": {"id": "29:u"}}
    within = Outbound(adapter, redis, prefix="test:rate:")
    await asyncio.gather(*(within.send_to(reference, Reply(text=f"kept {n}")) for n in range(10)))
    assert len(stub.posted) == 10 and stub.throttled == 0
    assert stub.posted[0].activity["channelData"] == {"tenant": {"id": "t1"}}  # Teams is told the tenant

    stub.limits = TeamsLimits(per_conversation=((1, 3),))  # Teams stricter than the bot's budget
    stub.posted.clear()
    beyond = Outbound(adapter, redis, prefix="test:other-rate:",
                      base_delay=0.1)
    await asyncio.gather(*(beyond.send_to({**reference, "conversation": {"id": "a:other"}}, Reply(text=f"{n}"))
                           for n in range(7)))
    assert len(stub.posted) == 7 and stub.throttled > 0  # throttled, retried after Retry-After, all posted
    assert len({p.text for p in stub.posted}) == 7  # once each
    assert most_in_any_window([t for t, c, _ in stub.arrivals if c == "a:other"], 1.0) >= 4  # it did ask too fast
