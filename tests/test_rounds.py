"""The background loops' beat (bot.rounds): a failed round does not end a loop, and a stop is heard at once."""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import timedelta

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError

from bot.odoo.errors import OdooUnavailable
from bot.rounds import UNHEALTHY_AFTER, failed_in_a_row, in_rounds, pause
from bot.server import Runtime


async def test_a_failed_round_is_logged_and_the_next_one_runs(caplog: pytest.LogCaptureFixture) -> None:
    stop = asyncio.Event()
    rounds: list[int] = []

    async def run_once() -> None:
        rounds.append(len(rounds))
        if len(rounds) == 1:
            raise KeyError("a bug in one ticket's data")
        if len(rounds) == 3:
            stop.set()

    with caplog.at_level(logging.ERROR, logger="bot.rounds"):
        await asyncio.wait_for(in_rounds(stop, run_once, every=0.01, what="polling Odoo"), 5)
    assert rounds == [0, 1, 2]
    [failed] = caplog.records
    assert failed.getMessage() == "polling Odoo: a round failed" and failed.exc_info is not None


async def test_a_stop_cuts_the_pause_short() -> None:
    stop = asyncio.Event()
    asyncio.get_running_loop().call_later(0.05, stop.set)
    started = time.monotonic()
    await asyncio.wait_for(pause(stop, 60), 5)
    assert time.monotonic() - started < 30
    rounds: list[str] = []

    async def run_once() -> None:
        rounds.append("round")
    await asyncio.wait_for(in_rounds(stop, run_once, every=60, what="stopped"), 5)
    assert rounds == []  # none once stopped


async def test_the_odoo_poller_goes_on_after_a_bug_in_one_poll(runtime: Runtime, monkeypatch: pytest.MonkeyPatch,
                                                                caplog: pytest.LogCaptureFixture) -> None:
    stop = asyncio.Event()
    polls: list[str] = []
    real_poll = runtime.poller.poll_once

    async def poll_once() -> int:
        polls.append("poll")
        if len(polls) == 1:
            raise ValueError("a message Odoo sent that the bot cannot read")
        stop.set()
        return await real_poll()

    monkeypatch.setattr(runtime.poller, "poll_once", poll_once)
    monkeypatch.setattr(runtime.poller, "_interval", timedelta(milliseconds=10))
    with caplog.at_level(logging.ERROR, logger="bot.rounds"):
        await asyncio.wait_for(runtime.poller.run(stop), 10)
    assert polls == ["poll", "poll"]  # before, the first one ended the poller: no reminder synced again
    assert [r.getMessage() for r in caplog.records] == ["polling Odoo: a round failed"]


async def test_rounds_failed_in_a_row_are_counted_and_a_round_that_works_clears_them(
        caplog: pytest.LogCaptureFixture) -> None:
    stop = asyncio.Event()
    outcomes: list[BaseException | None] = [ValueError("a bug"), KeyError("stage_id"), RedisConnectionError("away"),
                                            OdooUnavailable("away"), *[ValueError("a bug")] * UNHEALTHY_AFTER, None]
    counted: list[int] = []

    async def run_once() -> None:
        task = asyncio.current_task()
        assert task is not None
        counted.append(failed_in_a_row(task))  # as it stood after the rounds before this one
        if len(counted) > len(outcomes):
            stop.set()
            return
        if (error := outcomes[len(counted) - 1]) is not None:
            raise error

    with caplog.at_level(logging.ERROR, logger="bot.rounds"):
        await asyncio.wait_for(in_rounds(stop, run_once, every=0.001, what="polling Odoo"), 5)
    # Redis or Odoo away does not count (a restart would not bring them back), nor does it clear the count
    assert counted == [0, 1, 2, 2, 2, 3, 4, 5, 6, 7, 0]
    assert len([r for r in caplog.records if f"failed {UNHEALTHY_AFTER} rounds in a row" in r.getMessage()]) == 1
