"""Load benchmark: the run of tests/test_load.py, timed. 20 Teams users type 2,000 commands through the
bot's HTTP endpoint (one bot process, real redis-server, the Odoo double behind the fault proxy, the Bot
Connector stub), once with Odoo up throughout and once with Odoo cut for 10 s in the middle (replies
swallowed for the first second, then connections refused).

Reports throughput, p50/p99 turn latency (the HTTP round trip of one typed command, its answer posted),
with and without the cut and inside the cut's window, how many changes were kept and how long the outbox
took to drain, and the exactly-once check (missing / duplicated effects in Odoo).

    .venv/bin/python bench/load.py [--users 20] [--commands 2000] [--cut 10]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.stats import percentile
from tests.support.load import LoadRun, Turn, run_load
from tests.support.redis_server import redis_server


def latency(turns: list[Turn]) -> str:
    ms = [turn.seconds * 1000 for turn in turns]
    return f"p50 {percentile(ms, 0.5):,.0f} ms, p99 {percentile(ms, 0.99):,.0f} ms ({len(ms)} turns)"


def report(name: str, run: LoadRun) -> None:
    typing = run.typed - run.started
    landed = run.landed()
    effects = [landed[turn.mark] for turn in run.changes]
    print(f"\n{name}")
    print(f"  throughput      {len(run.turns) / typing:,.1f} commands/s ({len(run.turns)} in {typing:.1f} s)")
    print(f"  turn latency    {latency(run.turns)}")
    if run.cut_until:
        inside = [t for t in run.turns if run.cut_from <= t.sent_at < run.cut_until]
        outside = [t for t in run.turns if t.sent_at < run.cut_from]
        kept = [t for t in run.changes if t.kept]
        print(f"  before the cut  {latency(outside)}")
        print(f"  during the cut  {latency(inside)}")
        print(f"  kept            {len(kept)} of {len(run.changes)} changes; {run.swallowed} Odoo replies swallowed")
        print(f"  outbox drained  {run.drained - run.typed:.1f} s after the last command "
              f"({run.drained - run.cut_until:.1f} s after Odoo came back)")
    print(f"  exactly once    {sum(n == 1 for n in effects)} of {len(effects)} changes; "
          f"missing {sum(n == 0 for n in effects)}, duplicated {sum(n > 1 for n in effects)}")


async def main(args: argparse.Namespace, redis_url: str, workdir: Path) -> None:
    print(f"{args.users} users, {args.commands} commands; one bot process; loopback")
    steady = await run_load(redis_url, workdir, users=args.users, commands=args.commands, cut_seconds=0)
    report("Odoo up throughout", steady)
    cut = await run_load(redis_url, workdir, users=args.users, commands=args.commands,
                         cut_after=int(args.commands * 0.35), cut_seconds=args.cut, progress=lambda _: None)
    report(f"Odoo cut for {args.cut:g} s after {int(args.commands * 0.35)} commands", cut)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--commands", type=int, default=2000)
    parser.add_argument("--cut", type=float, default=10.0)
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, redis_server(Path(tmp)) as url:
        asyncio.run(main(arguments, url, Path(tmp)))
