"""Memory benchmark: resident memory of the bot process with 10k tracked tickets.

The bot runs as its own process (`python app.py --dev`, so that what is measured is the bot
alone) against a real redis-server and the Odoo double served from this process over loopback
HTTP. RSS and its peak (VmHWM) are read from /proc at each stage:

  1. started against the demo desk (a handful of open tickets): the baseline;
  2. restarted after 10k more open tickets were logged in Odoo: the start-up rebuild gives each
     its reminders (paged reads), then the bot idles with them tracked;
  3. all 10k are changed in Odoo at once: the next poll (every second here) re-syncs them;
  4. after 200 `/ticket` commands from Teams (through the Bot Connector stub), then 600 more:
     a leak would keep growing.

    .venv/bin/python bench/memory.py [--tickets 10000] [--commands 200]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp.test_utils import TestServer
from redis.asyncio import Redis

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.demo.seed import seed_scenarios
from odoo_double import OdooSandbox, create_sandbox_app
from tests.support.connector import ConnectorStub
from tests.support.redis_server import free_port, redis_server
from tests.support.teams import TeamsClient, TeamsUser

ROOT = Path(__file__).resolve().parents[1]
AGENT = TeamsUser("29:agent-tien", "Đỗ Doãn Tiến", "tien.dd@mindx.edu.vn")
TIMERS = "{ticketbot:timers}:due"  # the engine's sorted set of pending timers
POLL_CURSOR = "ticketbot:poll:write_date"


def memory_mb(pid: int) -> tuple[float, float]:
    """(VmRSS, VmHWM) of `pid` in MB."""
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines())
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


async def start_bot(odoo_url: str, redis_url: str) -> tuple[asyncio.subprocess.Process, str, float]:
    """The bot in its own process; returns it, its /api/messages URL and the seconds until it answered."""
    port = free_port()
    env = {**os.environ, "PORT": str(port), "HOST": "127.0.0.1", "REDIS_URL": redis_url, "ODOO_URL": odoo_url,
           "ODOO_DB": "helpdesk", "ODOO_LOGIN": "admin", "ODOO_API_KEY": "bench-key", "ODOO_POLL_SECONDS": "1",
           "PROCESS_PROFILE": "mindx"}
    began = time.perf_counter()
    process = await asyncio.create_subprocess_exec(sys.executable, str(ROOT / "app.py"), "--dev", env=env,
                                                   cwd=tempfile.gettempdir(),  # not the repository's .env, if any
                                                   stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
    async with aiohttp.ClientSession() as session:
        await answering(session, port, process)
    return process, f"http://127.0.0.1:{port}/api/messages", time.perf_counter() - began


async def answering(session: aiohttp.ClientSession, port: int, bot: asyncio.subprocess.Process) -> None:
    """Until the bot started as `bot` answers /healthz on `port`; RuntimeError if it exits first."""
    while True:
        if bot.returncode is not None:
            raise RuntimeError(f"the bot exited with {bot.returncode}")
        try:
            async with session.get(f"http://127.0.0.1:{port}/healthz") as response:
                if response.status == 200:
                    return
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.05)


async def stop(process: asyncio.subprocess.Process) -> None:
    process.terminate()
    await asyncio.wait_for(process.wait(), 30)


def log_tickets(sandbox: OdooSandbox, count: int) -> None:
    """`count` open tickets owned by the agent, half Standard and half Priority, in batches."""
    [agent] = sandbox.call(sandbox.admin_uid, "res.users", "search", [[["login", "=", AGENT.email]]])
    for start in range(0, count, 1000):
        sandbox.call(sandbox.admin_uid, "helpdesk.ticket", "create", [[
            {"name": f"Bench ticket {i}", "description": f"<p>Bench ticket {i}: users cannot log in.</p>",
             "user_id": agent, "priority": "2" if i % 2 else "1"} for i in range(start, min(count, start + 1000))]])


async def settled(pid: int) -> tuple[float, float]:
    """Wait until the bot's RSS stops moving for 2 s, then read it."""
    previous, steady_since = -1.0, time.monotonic()
    while time.monotonic() - steady_since < 2:
        await asyncio.sleep(0.25)
        rss, _ = memory_mb(pid)
        if abs(rss - previous) > 0.5:
            previous, steady_since = rss, time.monotonic()
    return memory_mb(pid)


async def until(condition: Callable[[], Awaitable[Any]]) -> None:
    """Wait for something the bot process does (there is no event to wait on across processes)."""
    while True:
        if await condition():
            return
        await asyncio.sleep(0.1)


async def moved(redis: Redis, cursor: str | None) -> bool:
    return await redis.get(POLL_CURSOR) != cursor


async def run(tickets: int, commands: int, redis_url: str) -> None:
    sandbox = OdooSandbox(flavour="helpdesk_mgmt", db="helpdesk", login="admin", password="admin",
                          api_key="bench-key")
    seed_scenarios(sandbox)
    stub = ConnectorStub()
    stub.add_member(AGENT.id, AGENT.name, AGENT.email)
    odoo_server = TestServer(create_sandbox_app(sandbox), host="127.0.0.1")
    connector_server = TestServer(stub.app(), host="127.0.0.1")
    await odoo_server.start_server()
    await connector_server.start_server()
    odoo_url = str(odoo_server.make_url("")).rstrip("/")
    redis = Redis.from_url(redis_url, decode_responses=True)
    rows: list[tuple[str, float, float, str]] = []

    bot, _, took = await start_bot(odoo_url, redis_url)
    assert bot.pid is not None
    rows.append(("started, demo desk only (baseline)", *await settled(bot.pid),
                 f"{await redis.zcard(TIMERS)} timers, up in {took:.1f} s"))
    await stop(bot)

    log_tickets(sandbox, tickets)
    bot, bot_url, took = await start_bot(odoo_url, redis_url)
    assert bot.pid is not None
    rows.append((f"restarted with {tickets:,} more open tickets", *await settled(bot.pid),
                 f"{await redis.zcard(TIMERS):,} timers, rebuilt and up in {took:.1f} s"))

    await until(lambda: redis.exists(POLL_CURSOR))  # the first poll only starts the cursor
    cursor = await redis.get(POLL_CURSOR)
    await asyncio.sleep(1.1)  # Odoo's write_date has seconds: write after the cursor's second
    ids = sandbox.call(sandbox.admin_uid, "helpdesk.ticket", "search", [[["name", "like", "Bench ticket"]]])
    sandbox.call(sandbox.admin_uid, "helpdesk.ticket", "write", [ids, {"priority": "2"}])
    began = time.perf_counter()
    await until(lambda: moved(redis, cursor))
    rows.append((f"{len(ids):,} tickets changed in Odoo, one poll", *await settled(bot.pid),
                 f"re-synced in {time.perf_counter() - began:.1f} s"))

    async with aiohttp.ClientSession() as session:
        teams = TeamsClient(bot_url, str(connector_server.make_url("")).rstrip("/"), stub, session, AGENT)
        sent = 0
        for batch in (commands, 3 * commands):  # a leak keeps growing; a warm cache does not
            for i in range(sent, sent + batch):
                await teams.say(("/ticket show {id}", "/ticket list open", "/ticket note {id} still looking")[i % 3]
                                .format(id=ids[i % len(ids)]))
            sent += batch
            rows.append((f"after {sent:,} /ticket commands (show, list, note)", *await settled(bot.pid), ""))
    await stop(bot)
    await redis.aclose()
    await odoo_server.close()
    await connector_server.close()

    print("\nBot process memory (python app.py --dev; real redis-server; Odoo double served by the bench process)\n")
    print(f"  {'stage':44} {'RSS MB':>7} {'peak MB':>8}")
    for stage, rss, peak, detail in rows:
        print(f"  {stage:44} {rss:7.1f} {peak:8.1f}  {detail}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tickets", type=int, default=10_000)
    parser.add_argument("--commands", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir, redis_server(Path(workdir)) as redis_url:
        asyncio.run(run(args.tickets, args.commands, redis_url))


if __name__ == "__main__":
    main()
