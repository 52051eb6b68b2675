"""Turn benchmark: the bot's commands vs a bare botbuilder echo bot, in one run.

Each in its own process, as in production: the bot (`python app.py --dev`: auth off, its background loops
running), the echo bot (bench/echo_bot.py: aiohttp + botbuilder CloudAdapter, auth off) and the Odoo double
(bench/odoo_process.py, zero latency: its time is Odoo's, not the bot's), with a real redis-server. This
process is Teams: it types the commands and serves the Bot Connector stub both bots answer through, over
loopback HTTP. Reports per command the median and p99 turn time and their ratio to the echo bot's, the CPU
time the bot's process spent per turn (utime + stime from /proc, over the command's timed turns) and its
ratio to the echo bot's, the Odoo calls per turn (counted by the double) and the double's own CPU per turn
(Odoo's time, inside the turn's wall time), and the Redis commands per turn (those a script runs included).

    .venv/bin/python bench/turns.py [--turns 200] [--bot-root PATH] [--profile FILE] [--only help show ...]

`--bot-root`: the tree whose app.py runs as the bot (another checkout, to compare builds in one benchmark).
`--profile`: samples the bot process with py-spy (`pip install py-spy`: not a dependency) while the commands run,
and writes the folded stacks to FILE (`--profile x.json`: speedscope's format).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import aiohttp
from aiohttp.test_utils import TestServer
from redis.asyncio import Redis

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.odoo_process import API_KEY, DB, LOGIN
from bench.stats import percentile
from tests.support.connector import ConnectorStub
from tests.support.redis_server import free_port, redis_server
from tests.support.teams import TeamsClient, TeamsUser

ROOT = Path(__file__).resolve().parents[1]
AGENT = TeamsUser("29:agent-tien", "Đỗ Doãn Tiến", "tien.dd@mindx.edu.vn")
WARM_UP = 20
TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """utime + stime of process `pid` (all its threads), in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # fields 14 and 15 of proc(5), after the name


@dataclass
class Result:
    samples: list[float]  # ms per turn
    cpu_ms: float  # the bot process's CPU per turn
    calls: float  # Odoo calls per turn
    redis: float  # Redis commands per turn (a pipeline's or a script's each count)
    odoo_cpu_ms: float  # the Odoo double's CPU per turn: Odoo's time, in the turn's wall time


class Process:
    """A child process serving HTTP on loopback, up once `ready_path` answers 200."""

    def __init__(self, name: str, argv: list[str], port: int, ready_path: str, env: dict[str, str] | None = None,
                 cwd: Path | None = None) -> None:
        self.name, self.argv, self.port, self.ready_path = name, argv, port, ready_path
        self.env, self.cwd = env, cwd
        self.process: asyncio.subprocess.Process | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    async def start(self, session: aiohttp.ClientSession) -> None:
        self.process = await asyncio.create_subprocess_exec(
            *self.argv, env={**os.environ, **(self.env or {})}, cwd=self.cwd or tempfile.gettempdir(),
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
        while True:
            if self.process.returncode is not None:
                raise RuntimeError(f"{self.name} exited with {self.process.returncode}")
            try:
                async with session.get(self.url + self.ready_path) as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.05)

    async def stop(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.terminate()
            await asyncio.wait_for(self.process.wait(), 30)


async def timed(turns: int, send: Callable[[int], Awaitable[None]], pid: int,
                odoo_pid: int) -> tuple[list[float], float, float]:
    """Each turn's wall time (ms), and the CPU process `pid` and the Odoo double spent per timed turn (ms)."""
    for i in range(min(WARM_UP, turns)):
        await send(i)
    samples = []
    cpu, odoo_cpu = cpu_seconds(pid), cpu_seconds(odoo_pid)
    for i in range(turns):
        start = time.perf_counter()
        await send(i)
        samples.append((time.perf_counter() - start) * 1000)
    return samples, (cpu_seconds(pid) - cpu) * 1000 / turns, (cpu_seconds(odoo_pid) - odoo_cpu) * 1000 / turns


async def redis_commands(redis: Redis) -> int:
    return int((await redis.info("stats"))["total_commands_processed"]) - 1  # less this INFO itself


async def odoo_calls(session: aiohttp.ClientSession, odoo: Process) -> int:
    async with session.get(odoo.url + "/bench/calls") as response:
        return int((await response.json())["calls"])


async def sampled(pid: int, out: Path) -> asyncio.subprocess.Process:
    """py-spy sampling process `pid` until it is interrupted; folded stacks, or speedscope's JSON for a .json."""
    return await asyncio.create_subprocess_exec(
        "py-spy", "record", "--pid", str(pid), "--rate", "500", "--nonblocking", "-o", str(out),
        "--format", "speedscope" if out.suffix == ".json" else "raw", stdout=asyncio.subprocess.DEVNULL)


async def run(turns: int, redis_url: str, bot_root: Path, profile: Path | None = None,
              only: list[str] | None = None) -> None:
    stub = ConnectorStub()
    stub.add_member(AGENT.id, AGENT.name, AGENT.email)
    connector = TestServer(stub.app(), host="127.0.0.1")
    await connector.start_server()
    connector_url = str(connector.make_url("")).rstrip("/")
    python = sys.executable
    odoo_port, bot_port, echo_port = free_port(), free_port(), free_port()
    odoo = Process("the Odoo double", [python, str(ROOT / "bench" / "odoo_process.py"), "--port", str(odoo_port)],
                   odoo_port, "/web/version")
    bot = Process("the bot", [python, str(bot_root / "app.py"), "--dev"], bot_port, "/healthz", env={
        "PORT": str(bot_port), "HOST": "127.0.0.1", "REDIS_URL": redis_url, "ODOO_URL": odoo.url, "ODOO_DB": DB,
        "ODOO_LOGIN": LOGIN, "ODOO_API_KEY": API_KEY, "PROCESS_PROFILE": "mindx"})
    echo = Process("the echo bot", [python, str(ROOT / "bench" / "echo_bot.py"), "--port", str(echo_port)],
                   echo_port, "/healthz")
    results: dict[str, Result] = {}
    async with aiohttp.ClientSession() as session, Redis.from_url(redis_url) as redis:
        try:
            await odoo.start(session)
            await asyncio.gather(bot.start(session), echo.start(session))
            bot_client = TeamsClient(bot.url + "/api/messages", connector_url, stub, session, AGENT)
            echo_client = TeamsClient(echo.url + "/api/messages", connector_url, stub, session, AGENT)
            await bot_client.say("/ticket new Benchmark ticket users:3 customer:bench@example.com")
            async with session.get(odoo.url + "/bench/ticket", params={"name": "Benchmark ticket"}) as response:
                tid = (await response.json())["id"]
            commands: dict[str, tuple[TeamsClient, Process, tuple[str, ...]]] = {
                "echo bot (baseline)": (echo_client, echo, ("hello",)),
                "help": (bot_client, bot, ("/ticket help",)),
                "show": (bot_client, bot, (f"/ticket show {tid}",)),
                "list open": (bot_client, bot, ("/ticket list open",)),
                "note": (bot_client, bot, (f"/ticket note {tid} benchmark note",)),
                "update": (bot_client, bot, (f"/ticket update {tid} benchmark update",)),
                "users (reclassify)": (bot_client, bot, (f"/ticket users {tid} 3",)),
                "hold / resume (moves)": (bot_client, bot, (f"/ticket hold {tid} waiting for the product team",
                                                            f"/ticket resume {tid}")),
                "new": (bot_client, bot, ("/ticket new Bench {i} users:2",)),
            }
            if only:
                commands = {name: command for name, command in commands.items()
                            if name == "echo bot (baseline)" or any(name.startswith(word) for word in only)}
            spy = await sampled(bot.pid, profile) if profile else None
            for name, (client, served_by, texts) in commands.items():
                before, redis_before = await odoo_calls(session, odoo), await redis_commands(redis)
                samples, cpu_ms, odoo_cpu_ms = await timed(
                    turns, lambda i, c=client, t=texts: c.say(t[i % len(t)].format(i=i)),  # type: ignore[misc]
                    served_by.pid, odoo.pid)
                count = turns + min(WARM_UP, turns)
                calls = (await odoo_calls(session, odoo) - before) / count
                results[name] = Result(samples, cpu_ms, calls, (await redis_commands(redis) - redis_before) / count,
                                       odoo_cpu_ms)
                stub.posted.clear()
            if spy is not None:
                spy.send_signal(signal.SIGINT)
                await spy.wait()
        finally:
            await asyncio.gather(bot.stop(), echo.stop())
            await odoo.stop()
            await connector.close()
    report(turns, results)


def report(turns: int, results: dict[str, Result]) -> None:
    base = results["echo bot (baseline)"]
    base_median, base_p99 = statistics.median(base.samples), percentile(base.samples, 0.99)
    print(f"turns per command: {turns}; the bot, the echo bot and the Odoo double (zero latency) each in its own "
          "process; real redis-server; loopback HTTP")
    print(f"{'command':22} {'median ms':>10} {'p99 ms':>8} {'x median':>9} {'x p99':>7} {'CPU ms':>7} "
          f"{'x CPU':>6} {'Odoo calls':>11} {'Odoo CPU ms':>12} {'Redis cmds':>11}")
    for name, result in results.items():
        median, p99 = statistics.median(result.samples), percentile(result.samples, 0.99)
        print(f"{name:22} {median:10.2f} {p99:8.2f} {median / base_median:9.2f} {p99 / base_p99:7.2f} "
              f"{result.cpu_ms:7.2f} {result.cpu_ms / base.cpu_ms:6.2f} {result.calls:11.1f} "
              f"{result.odoo_cpu_ms:12.2f} {result.redis:11.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--turns", type=int, default=200)
    parser.add_argument("--bot-root", type=Path, default=ROOT, help="the tree whose app.py runs as the bot")
    parser.add_argument("--profile", type=Path, help="sample the bot with py-spy into this file")
    parser.add_argument("--only", nargs="*", help="these commands only (the start of their names), and the echo bot")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, redis_server(Path(tmp)) as url:
        asyncio.run(run(args.turns, url, args.bot_root.resolve(), args.profile, args.only))


if __name__ == "__main__":
    main()
