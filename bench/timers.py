"""Timer benchmark: schedule 100k timers, fire the 20k due in the same minute with 3 worker
processes (one SIGKILLed mid-run), and compare with `redis-benchmark` ZADD on the same server.

Everything runs on loopback against its own redis-server and stops by itself:
  1. 100k timers scheduled by 50 concurrent tasks (one `schedule` each: ZADD + HSET in MULTI/EXEC):
     80k due in 1-30 days, a "backlog" of 10k all due at the same instant S, and 10k "spread"
     over S+5 s .. S+15 s.
  2. 3 worker processes (tests/support/timer_worker_process.py: a TimerWorker on the real clock,
     default idle sleep 0.2 s, batch 100, concurrency 8, lease 2 s) fire them; each firing is
     recorded exactly-once, atomically with `complete`. Worker 1 is SIGKILLed while the backlog
     drains (30% of it fired) while it runs handlers, so it dies holding claims; they fire again
     after the lease.
  3. Once nothing due is left pending or in flight: fired/s, lateness (fire time - due time),
     duplicates, misses, early fires; then `redis-benchmark -t zadd -n 100000 -q`.

    .venv/bin/python bench/timers.py [--timers 100000] [--due 10000] [--lease 2]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import re
import shutil
import signal
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlparse

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from redis.asyncio import Redis

from bench.stats import percentile, print_rows
from bot.timers import TimerEngine
from bot.timers.engine import from_micros, to_micros
from tests.support.redis_server import redis_server

WORKER = Path(__file__).resolve().parents[1] / "tests" / "support" / "timer_worker_process.py"
PREFIX = "bench:timers"
SCHEDULERS = 50  # like redis-benchmark's default 50 clients
TIME_LIMIT = 120.0  # seconds after S: give up waiting (counted as misses)


def now() -> datetime:
    return datetime.now(UTC)


async def schedule_all(engine: TimerEngine, timers: list[tuple[str, datetime]]) -> float:
    """Schedule with SCHEDULERS concurrent tasks; returns the elapsed seconds."""
    position = 0

    async def scheduler() -> None:
        nonlocal position
        while position < len(timers):
            key, due = timers[position]
            position += 1
            await engine.schedule("bench", key, due, {"k": key})

    began = time.perf_counter()
    await asyncio.gather(*(scheduler() for _ in range(SCHEDULERS)))
    return time.perf_counter() - began


async def start_worker(redis_url: str, lease: float, *options: str) -> asyncio.subprocess.Process:
    process = await asyncio.create_subprocess_exec(
        sys.executable, str(WORKER), redis_url, "--prefix", PREFIX, "--lease", str(lease), *options,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL)
    assert process.stdout is not None
    if await asyncio.wait_for(process.stdout.readline(), 30) != b"ready\n":
        raise RuntimeError("a worker process did not start")
    return process


async def redis_benchmark_zadd(redis_url: str) -> float:
    binary = shutil.which("redis-benchmark")
    if binary is None:
        raise RuntimeError("redis-benchmark is not installed (Debian package redis-tools / redis-server)")
    port = str(urlparse(redis_url).port)
    process = await asyncio.create_subprocess_exec(
        binary, "-h", "127.0.0.1", "-p", port, "-t", "zadd", "-n", "100000", "-q",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    output, _ = await asyncio.wait_for(process.communicate(), 120)
    rates = re.findall(r"ZADD: ([\d.]+) requests per second", output.decode())
    if not rates:
        raise RuntimeError(f"could not read redis-benchmark's output: {output.decode()!r}")
    return float(rates[-1])


async def run(redis_url: str, total: int, due_count: int, lease: float) -> int:
    redis = Redis.from_url(redis_url, decode_responses=True, max_connections=SCHEDULERS + 10)
    engine = TimerEngine(redis, prefix=PREFIX, lease=timedelta(seconds=lease))
    # the victim marks the claims it is running (one more round trip per timer), so that it is
    # killed holding some
    workers = await asyncio.gather(start_worker(redis_url, lease, "--mark-running"),
                                   *(start_worker(redis_url, lease) for _ in range(2)))
    try:
        rng = random.Random(7)
        future = [(f"future-{i}", now() + timedelta(days=rng.uniform(1, 30))) for i in range(total - 2 * due_count)]
        elapsed = await schedule_all(engine, future)
        start = now() + timedelta(seconds=3) + timedelta(seconds=2 * due_count / 10_000)  # S: after the rest is in
        backlog = [(f"backlog-{i}", start) for i in range(due_count)]
        spread = [(f"spread-{i}", start + timedelta(seconds=rng.uniform(5, 15))) for i in range(due_count)]
        elapsed += await schedule_all(engine, backlog + spread)
        late_scheduling = now() > start
        due = {f"bench|{key}|{to_micros(when)}": when for key, when in backlog + spread}

        killed, in_flight_at_kill = None, 0
        last_due = max(due.values())
        while True:
            await asyncio.sleep(0.01 if killed is None else 0.05)
            moment = now()
            if (killed is None and await redis.hlen(engine.key("fired")) >= 0.3 * due_count
                    and await redis.scard(engine.key(f"running:{workers[0].pid}"))):
                killed = workers[0].pid
                in_flight_at_kill = await engine.in_flight()
                workers[0].send_signal(signal.SIGKILL)
                await workers[0].wait()
            if moment > last_due and killed is not None:
                pending_due = await redis.zcount(engine.key("due"), "-inf", to_micros(moment))
                if pending_due == 0 and await engine.in_flight() == 0:
                    break  # nothing due is left anywhere: nothing more can fire
            if moment > start + timedelta(seconds=TIME_LIMIT):
                print(f"gave up waiting after {TIME_LIMIT:.0f} s", file=sys.stderr)
                break

        counts = await redis.hgetall(engine.key("fired"))
        details = await redis.hgetall(engine.key("fired_at"))
    finally:
        for worker in workers:
            if worker.returncode is None:
                worker.send_signal(signal.SIGTERM)
        for worker in workers:
            await asyncio.wait_for(worker.wait(), 30)
    zadd_rate = await redis_benchmark_zadd(redis_url)
    await redis.aclose()

    fired_at = {firing: from_micros(value.split(":")[0]) for firing, value in details.items()}
    attempt = {firing: int(value.split(":")[1]) for firing, value in details.items()}
    recovered = [f for f in fired_at if attempt[f] > 1]
    duplicates = sum(int(n) - 1 for n in counts.values())
    misses = sum(1 for firing in due if firing not in counts)
    early = sum(1 for firing in counts if firing not in due or fired_at[firing] < due[firing])

    def lateness_ms(firings: list[str]) -> list[float]:
        return [(fired_at[f] - due[f]).total_seconds() * 1000 for f in firings]

    def phase(prefix: str) -> tuple[float, list[float]]:
        """Firings per second on a first attempt (the lease wait of the killed worker's claims is not
        throughput), and the lateness of every firing."""
        firings = [f for f in due if f.startswith(f"bench|{prefix}-") and f in fired_at]
        first = [f for f in firings if attempt[f] == 1]
        span = (max(fired_at[f] for f in first) - min(due[f] for f in first)).total_seconds() if first else 0
        return len(first) / span if span > 0 else float("nan"), lateness_ms(firings)

    backlog_rate, backlog_late = phase("backlog")
    spread_rate, spread_late = phase("spread")
    recovered_late = lateness_ms(recovered)
    schedule_rate = total / elapsed

    print(f"\nTimer engine on one redis-server ({total:,} timers scheduled, 3 worker processes, "
          f"lease {lease:g} s; one SIGKILLed with the backlog 30% fired and {in_flight_at_kill} claims in flight)\n")
    rows = [
        ("schedule (50 concurrent tasks, ZADD+HSET in MULTI/EXEC)", f"{schedule_rate:,.0f} timers/s"),
        (f"backlog: {due_count:,} due at the same instant S, fired/s (1st attempts)", f"{backlog_rate:,.0f} /s"),
        ("backlog lateness p50 / p99",
         f"{percentile(backlog_late, .5):,.0f} / {percentile(backlog_late, .99):,.0f} ms"),
        (f"spread: {due_count:,} due over S+5..15 s, fired/s (due-rate bound)", f"{spread_rate:,.0f} /s"),
        ("spread lateness p50 / p99 / max", f"{percentile(spread_late, .5):,.0f} / "
         f"{percentile(spread_late, .99):,.0f} / {max(spread_late, default=float('nan')):,.0f} ms"),
        ("claims whose lease ended (the killed worker's), fired again", f"{len(recovered):,}"),
        (f"  their lateness max (lease {lease:g} s + reaping)", f"{max(recovered_late, default=float('nan')):,.0f} ms"),
        ("duplicates (must be 0)", f"{duplicates:,}"),
        ("misses (must be 0)", f"{misses:,}"),
        ("fired before their due time (must be 0)", f"{early:,}"),
        ("redis-benchmark -t zadd -n 100000 (50 clients)", f"{zadd_rate:,.0f} ZADD/s"),
        ("ratio engine fired/s (backlog) : ZADD/s", f"1 : {zadd_rate / backlog_rate:,.1f}"),
        ("ratio engine schedule/s : ZADD/s", f"1 : {zadd_rate / schedule_rate:,.1f}"),
    ]
    print_rows(rows)
    if not recovered:
        print("\n  note: the killed worker held no claim when it died; nothing was recovered from it")
    if late_scheduling:
        print("\n  note: scheduling ended after S; the backlog's lateness includes that wait")
    return 0 if duplicates == misses == early == 0 else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--timers", type=int, default=100_000)
    parser.add_argument("--due", type=int, default=10_000, help="timers in the backlog, and again in the spread")
    parser.add_argument("--lease", type=float, default=2.0)
    args = parser.parse_args()
    if args.timers < 2 * args.due:
        parser.error("--timers must be at least twice --due")
    with tempfile.TemporaryDirectory() as workdir, redis_server(Path(workdir)) as redis_url:
        return asyncio.run(run(redis_url, args.timers, args.due, args.lease))


if __name__ == "__main__":
    sys.exit(main())
