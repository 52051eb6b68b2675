"""One timer worker process, for the multi-process tests and `bench/timers.py`.

Runs a TimerWorker on the real clock until SIGTERM. Its handler records each firing exactly
once: the writes it returns are committed by `complete` in the same Lua script, only if the
claim was still held, so a claim that was lost (lease ended, killed process) records nothing.

    {prefix}:fired     hash  "kind|key|due µs" -> how many times that timer's firing was recorded
    {prefix}:fired_at  hash  "kind|key|due µs" -> "fire time µs:attempt:pid"
    {prefix}:running:<pid>  set  firings this process started and has not completed (with --mark-running)

Prints "ready" on stdout once connected.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bot.store import connect_redis
from bot.timers import Timer, TimerEngine, TimerWorker, Write
from bot.timers.engine import to_micros


def now() -> datetime:
    return datetime.now(UTC)


async def main(args: argparse.Namespace) -> None:
    redis = connect_redis(args.redis_url, max_connections=args.concurrency + 4)  # one server, a cluster or sentinels
    engine = TimerEngine(redis, prefix=args.prefix, lease=timedelta(seconds=args.lease))
    pid = os.getpid()
    running = engine.key(f"running:{pid}")

    async def record(timer: Timer) -> list[Write]:
        fired_at = to_micros(now())
        firing = f"{timer.member}|{to_micros(timer.due)}"
        writes: list[Write] = [("HINCRBY", engine.key("fired"), firing, 1),
                               ("HSET", engine.key("fired_at"), firing, f"{fired_at}:{timer.attempt}:{pid}")]
        if args.mark_running:
            await redis.sadd(running, firing)
            writes.append(("SREM", running, firing))
        if args.handler_sleep:
            await asyncio.sleep(args.handler_sleep)
        return writes

    worker = TimerWorker(engine, record, clock=now, batch=args.batch, concurrency=args.concurrency,
                         idle_sleep=args.idle_sleep)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    watchdog = asyncio.create_task(stop_when_orphaned(stop))
    await redis.ping()
    print("ready", flush=True)
    try:
        await worker.run(stop)
    finally:
        watchdog.cancel()
        await redis.aclose()


async def stop_when_orphaned(stop: asyncio.Event) -> None:
    """A test or bench that dies without stopping its workers must not leave them running."""
    parent = os.getppid()
    while os.getppid() == parent:
        try:
            await asyncio.wait_for(stop.wait(), 0.5)
            return
        except TimeoutError:
            pass
    stop.set()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("redis_url")
    parser.add_argument("--prefix", default="ticketbot:timers")
    parser.add_argument("--lease", type=float, default=60.0)
    parser.add_argument("--handler-sleep", type=float, default=0.0)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--idle-sleep", type=float, default=0.2)
    parser.add_argument("--mark-running", action="store_true")
    asyncio.run(main(parser.parse_args()))
