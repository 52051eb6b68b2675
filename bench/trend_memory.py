"""Trend memory benchmark: what the bot process holds after `/ticket trend` and `/ticket trend month`.

The bot runs as its own process in demo mode (`python app.py --demo`: the sandbox Odoo with its four past
weeks of tickets and the in-process Redis stand-in, both inside the bot's process, so they are counted too),
answering through the Bot Connector stub served from this process. RSS and its peak (VmHWM) are read from
/proc once the process has settled: started, after its first `/ticket trend`, after `/ticket trend month`;
with the seconds each trend took to answer and what its card carries (native charts or a PNG).

`--compare-with REF` runs the same against another commit of this repository (`git archive REF` into a
temporary directory, run with this interpreter): `main`, whose trend card is a PNG drawn by matplotlib,
so both ways of drawing are measured in one run, on the same machine and venv.

    .venv/bin/python bench/trend_memory.py [--compare-with main]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp.test_utils import TestServer

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.memory import answering, settled
from tests.support.connector import ConnectorStub
from tests.support.redis_server import free_port
from tests.support.teams import TeamsClient, TeamsUser, card_elements

ROOT = Path(__file__).resolve().parents[1]
AGENT = TeamsUser("29:bench-trend", "Bench Trend", "bench.trend@mindx.edu.vn")  # the demo makes them an agent


@dataclass(frozen=True)
class Stage:
    name: str
    rss: float
    peak: float
    seconds: float | None = None  # the command's answer
    drawn: str = ""


async def measure(tree: Path) -> list[Stage]:
    """The demo bot of `tree` started, then asked for a week's and a month's trend."""
    stub = ConnectorStub()
    stub.add_member(AGENT.id, AGENT.name, AGENT.email)
    connector = TestServer(stub.app(), host="127.0.0.1")
    await connector.start_server()
    port = free_port()
    env = {**os.environ, "PORT": str(port), "HOST": "127.0.0.1", "PROCESS_PROFILE": "mindx"}
    bot = await asyncio.create_subprocess_exec(sys.executable, str(tree / "app.py"), "--demo", env=env,
                                               cwd=tempfile.gettempdir(),  # no repository's .env
                                               stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
    assert bot.pid is not None
    stages: list[Stage] = []
    try:
        async with aiohttp.ClientSession() as session:
            await answering(session, port, bot)
            stages.append(Stage("started (demo desk, 4 past weeks)", *await settled(bot.pid)))
            teams = TeamsClient(f"http://127.0.0.1:{port}/api/messages", str(connector.make_url("")).rstrip("/"),
                                stub, session, AGENT)
            await teams.card("/ticket help")  # the first turn's own costs (the user made an agent), not the trend's
            stages.append(Stage("after a first command (/ticket help)", *await settled(bot.pid)))
            for command in ("/ticket trend", "/ticket trend month"):
                began = time.perf_counter()
                card = await teams.card(command)
                took = time.perf_counter() - began
                stages.append(Stage(f"after {command}", *await settled(bot.pid), took, _drawn(card)))
    finally:
        bot.terminate()
        await asyncio.wait_for(bot.wait(), 30)
        await connector.close()
    return stages


def _drawn(card: dict[str, Any]) -> str:
    """What the card draws with: its chart elements, or an image's size."""
    found = [e for e in card_elements(card) if isinstance(e.get("type"), str)]
    charts = [e["type"] for e in found if e["type"].startswith("Chart.")]
    images = [e for e in found if e["type"] == "Image" and str(e.get("url", "")).startswith("data:image/png")]
    if charts:
        return f"{len(charts)} native charts ({', '.join(sorted(set(charts)))})"
    if images:
        return f"a PNG ({len(images[0]['url']) / 1024:.1f} KB as a data URI)"
    return "no chart"


def snapshot(ref: str, into: Path) -> str:
    """`ref`'s files (as committed) written into `into`; returns its short commit id."""
    commit = short_commit(ref)
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", "--format=tar", ref], check=True,
                             capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return commit


def report(title: str, stages: list[Stage]) -> None:
    print(f"\n{title}\n")
    print(f"  {'stage':38} {'RSS MB':>7} {'peak MB':>8} {'answer s':>9}  card")
    for stage in stages:
        took = f"{stage.seconds:9.2f}" if stage.seconds is not None else " " * 9
        print(f"  {stage.name:38} {stage.rss:7.1f} {stage.peak:8.1f} {took}  {stage.drawn}")
    print(f"  the trends added {stages[-1].rss - stages[1].rss:+.1f} MB of RSS "
          f"({stages[-1].peak - stages[1].peak:+.1f} MB of peak) to the bot after its first command")


def short_commit(ref: str) -> str:
    return subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", ref], check=True, capture_output=True,
                          text=True).stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--compare-with", metavar="REF", help="also measure this commit (e.g. main)")
    args = parser.parse_args()
    report(f"This tree ({short_commit('HEAD')}, {ROOT}): python app.py --demo", asyncio.run(measure(ROOT)))
    if args.compare_with:
        with tempfile.TemporaryDirectory() as other:
            commit = snapshot(args.compare_with, Path(other))
            report(f"{args.compare_with} ({commit}, git archive): python app.py --demo",
                   asyncio.run(measure(Path(other))))


if __name__ == "__main__":
    main()
