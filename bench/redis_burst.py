"""A burst of turns at once, and what it leaves open: the bot's connections to Redis (counted by redis-server,
CLIENT LIST, less this script's own) and this process's file descriptors (the bot, the Odoo double, the Bot
Connector stub and the 200 Teams clients run in it: the peak counts both ends of each HTTP connection), before
the burst, at its peak and after it (once the clients' connections are closed).

    .venv/bin/python bench/redis_burst.py [--turns 200] [--max-connections 50]

`--max-connections` is REDIS_MAX_CONNECTIONS (the bot's default when left out).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
from pathlib import Path

import aiohttp
from aiohttp.test_utils import TestServer
from redis.asyncio import Redis

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.demo.seed import seed_scenarios
from bot.server import create_app
from bot.settings import Mode, OdooSettings, Settings
from odoo_double import OdooSandbox, create_sandbox_app
from tests.support.connector import ConnectorStub
from tests.support.redis_server import redis_server
from tests.support.teams import TeamsClient, TeamsUser

AGENT = TeamsUser("29:agent-tien", "Đỗ Doãn Tiến", "tien.dd@mindx.edu.vn")


def fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def _port(url: str) -> str:
    return url.rsplit(":", 1)[1].split("/")[0]


def sockets(peers: dict[str, str]) -> dict[str, int]:
    """How many of this process's TCP sockets are connected to each of `peers` (port: name), from
    /proc/self/net/tcp (IPv4 loopback: where everything here listens)."""
    inodes = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            inodes.add(os.readlink(f"/proc/self/fd/{fd}"))
        except OSError:  # the listing's own descriptor, closed since
            pass
    counted = dict.fromkeys(peers.values(), 0)
    with open("/proc/self/net/tcp") as table:
        for line in table.readlines()[1:]:
            fields = line.split()
            remote, inode = str(int(fields[2].split(":")[1], 16)), fields[9]
            if remote in peers and f"socket:[{inode}]" in inodes:
                counted[peers[remote]] += 1
    return counted


async def burst(redis_url: str, turns: int, max_connections: int | None) -> None:
    odoo = OdooSandbox(flavour="helpdesk_mgmt", db="helpdesk", login="admin", password="admin",
                       api_key="test-api-key")
    seed_scenarios(odoo)
    odoo_server = TestServer(create_sandbox_app(odoo), host="127.0.0.1")
    await odoo_server.start_server()
    stub = ConnectorStub()
    stub.add_member(AGENT.id, AGENT.name, AGENT.email)
    connector = TestServer(stub.app(), host="127.0.0.1")
    await connector.start_server()
    settings = Settings(mode=Mode.DEV, odoo=OdooSettings(url=str(odoo_server.make_url("")).rstrip("/"), db="helpdesk",
                                                         login="admin", api_key="test-api-key"),
                        redis_url=redis_url, background_tasks=False,
                        **({"redis_max_connections": max_connections} if max_connections else {}))
    bot = TestServer(create_app(settings), host="127.0.0.1")
    await bot.start_server()
    probe = Redis.from_url(redis_url)

    async def bots() -> int:
        return len(await probe.client_list()) - 1  # less the probe's own

    peak = {"connections": 0, "fds": 0}
    done = asyncio.Event()

    async def watch() -> None:
        while not done.is_set():
            peak["connections"] = max(peak["connections"], await bots())
            peak["fds"] = max(peak["fds"], fds())
            await asyncio.sleep(0.01)

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=turns)) as session:
        teams = TeamsClient(str(bot.make_url("/api/messages")), str(connector.make_url("")).rstrip("/"), stub,
                            session, AGENT)
        await teams.say("/ticket help")  # warm: the bot has connected, the client's pool is open
        before = (await bots(), fds())
        watcher = asyncio.create_task(watch())
        await asyncio.gather(*(teams.say("/ticket help") for _ in range(turns)))
        done.set()
        await watcher
    await asyncio.sleep(0.5)  # the burst's own HTTP connections (client and server side, both here) are closed
    after = (await bots(), fds())
    ends = sockets({_port(redis_url): "Redis", str(connector.port): "the Bot Connector (stub)"})
    ends["Redis"] -= 1  # the probe's
    answered = len(stub.posted) - 1
    print(f"{turns} turns at once, {answered} answered; max connections: {max_connections or 'default'}")
    print(f"  Redis connections (CLIENT LIST): before {before[0]}, peak {peak['connections']}, after {after[0]}")
    print(f"  file descriptors (/proc/self/fd): before {before[1]}, peak {peak['fds']}, after {after[1]} "
          "(the burst's HTTP connections closed)")
    print("  the bot's sockets after: " + ", ".join(f"{count} to {peer}" for peer, count in ends.items()))
    await probe.aclose()
    for server in (bot, connector, odoo_server):
        await server.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=200)
    parser.add_argument("--max-connections", type=int, default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as work, redis_server(Path(work)) as url:
        asyncio.run(burst(url, args.turns, args.max_connections))


if __name__ == "__main__":
    main()
