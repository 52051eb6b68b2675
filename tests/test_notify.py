"""Outbound messages: Teams' per-conversation limits, throttling retries, no blind re-posts."""

from __future__ import annotations

import pytest
from redis.asyncio import Redis

from bot.adapter import TeamsAdapter
from bot.notify import MAX_WAIT, Outbound
from bot.settings import Mode, OdooSettings, Settings
from bot.turn import Outcome, Reply, SendFailed
from tests.support.connector import ConnectorStub


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
