"""Turn benchmark: the bot's commands vs a bare botbuilder echo bot, in one run.

Both are served the same way (aiohttp + botbuilder CloudAdapter, auth off) and answer through
the same Bot Connector stub over loopback HTTP; the bot talks to the Odoo double at zero latency
and to a real redis-server. Reports median and p99 turn time per command, the ratio to the echo
bot, and the number of Odoo calls each command makes.

    .venv/bin/python bench/turns.py [--turns 200]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiohttp
from aiohttp.test_utils import TestServer

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.echo_bot import create_echo_app
from bench.stats import percentile
from bot.demo.seed import seed_scenarios
from bot.server import create_app
from bot.settings import Mode, OdooSettings, Settings
from odoo_double import OdooSandbox, create_sandbox_app
from tests.support.connector import ConnectorStub
from tests.support.redis_server import redis_server
from tests.support.teams import TeamsClient, TeamsUser

AGENT = TeamsUser("29:agent-tien", "Đỗ Doãn Tiến", "tien.dd@mindx.edu.vn")


async def timed(turns: int, send: Callable[[int], Awaitable[None]]) -> list[float]:
    for i in range(min(20, turns)):  # warm-up
        await send(i)
    samples = []
    for i in range(turns):
        start = time.perf_counter()
        await send(i)
        samples.append((time.perf_counter() - start) * 1000)
    return samples


async def serve(app: object) -> TestServer:
    server = TestServer(app, host="127.0.0.1")  # type: ignore[arg-type]
    await server.start_server()
    return server


async def run(turns: int, redis_url: str) -> None:
    sandbox = OdooSandbox(flavour="helpdesk_mgmt", db="helpdesk", login="admin", password="admin",
                          api_key="bench-key")
    seed_scenarios(sandbox)
    stub = ConnectorStub()
    stub.add_member(AGENT.id, AGENT.name, AGENT.email)
    odoo_server, connector_server = await serve(create_sandbox_app(sandbox)), await serve(stub.app())
    settings = Settings(mode=Mode.DEV, redis_url=redis_url, odoo=OdooSettings(
        url=str(odoo_server.make_url("")).rstrip("/"), db="helpdesk", login="admin", api_key="bench-key"))
    bot_server, echo_server = await serve(create_app(settings)), await serve(create_echo_app())
    connector_url = str(connector_server.make_url("")).rstrip("/")
    async with aiohttp.ClientSession() as session:
        bot = TeamsClient(str(bot_server.make_url("/api/messages")), connector_url, stub, session, AGENT)
        echo = TeamsClient(str(echo_server.make_url("/api/messages")), connector_url, stub, session, AGENT)
        await bot.say("/ticket new Benchmark ticket users:3 customer:bench@example.com")
        [ticket] = sandbox.call(2, "helpdesk.ticket", "search_read", [[["name", "=", "Benchmark ticket"]]],
                                {"fields": ["id"]})
        tid = ticket["id"]
        commands = {
            "echo bot (baseline)": (echo, "hello"),
            "help": (bot, "/ticket help"),
            "show": (bot, f"/ticket show {tid}"),
            "list open": (bot, "/ticket list open"),
            "note": (bot, f"/ticket note {tid} benchmark note"),
            "update": (bot, f"/ticket update {tid} benchmark update"),
            "users (reclassify)": (bot, f"/ticket users {tid} 3"),
            "hold / resume (moves)": (bot, (f"/ticket hold {tid} waiting for the product team",
                                            f"/ticket resume {tid}")),
            "new": (bot, "/ticket new Bench {i} users:2"),
        }
        results: dict[str, tuple[list[float], float]] = {}
        for name, (client, text) in commands.items():
            sandbox.calls.clear()
            texts = text if isinstance(text, tuple) else (text,)
            samples = await timed(turns, lambda i, c=client, t=texts: c.say(t[i % len(t)].format(i=i)))  # type: ignore[misc]
            calls = sum(sandbox.calls.values()) / (turns + min(20, turns))
            results[name] = (samples, calls)
    for server in (bot_server, echo_server, odoo_server, connector_server):
        await server.close()

    base_median = statistics.median(results["echo bot (baseline)"][0])
    base_p99 = percentile(results["echo bot (baseline)"][0], 0.99)
    print(f"turns per command: {turns}; Odoo double at zero latency; real redis-server; loopback HTTP")
    print(f"{'command':22} {'median ms':>10} {'p99 ms':>8} {'x median':>9} {'x p99':>7} {'Odoo calls':>11}")
    for name, (samples, calls) in results.items():
        median, p99 = statistics.median(samples), percentile(samples, 0.99)
        print(f"{name:22} {median:10.2f} {p99:8.2f} {median / base_median:9.2f} {p99 / base_p99:7.2f} "
              f"{calls:11.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--turns", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, redis_server(Path(tmp)) as url:
        asyncio.run(run(args.turns, url))


if __name__ == "__main__":
    main()
