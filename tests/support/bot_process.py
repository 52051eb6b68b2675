"""One bot process for the multi-process tests and the load run: the app as production builds it
(`create_app`, dev mode: no auth), served on a loopback port until SIGTERM, SIGKILL, or its parent's end.
The timer worker and the poller are off; the outbox relay runs only with `--relay-every`, the lapsed turns'
sweeper only with `--sweep-every`.

    python tests/support/bot_process.py PORT REDIS_URL ODOO_URL [--turn-lease 2] [--relay-every 1] [--sweep-every 1]

Prints "ready" on stdout once it serves. `spawn` starts one from a test and waits for that.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
from pathlib import Path
from typing import BinaryIO

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from aiohttp import web

from bot.lapsed import LapsedTurns
from bot.outbox import OutboxRelay
from bot.server import RUNTIME, create_app
from bot.settings import Mode, OdooSettings, Settings

ODOO_DB, ODOO_LOGIN, ODOO_API_KEY = "helpdesk", "admin", "test-api-key"  # the tests' Odoo double (conftest)


async def main(args: argparse.Namespace) -> None:
    settings = Settings(mode=Mode.DEV, host="127.0.0.1", port=args.port, redis_url=args.redis_url,
                        odoo=OdooSettings(url=args.odoo_url, db=ODOO_DB, login=ODOO_LOGIN, api_key=ODOO_API_KEY,
                                          timeout=args.odoo_timeout),
                        background_tasks=False, turn_lease=args.turn_lease)
    app = create_app(settings)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, settings.host, settings.port).start()
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    runtime = app[RUNTIME]
    background: list[asyncio.Task[None]] = []
    if args.relay_every:
        relay = OutboxRelay(runtime.services.outbox, runtime.bot.replay, runtime.services.outbound,
                            draw=runtime.services.draw,
                            remember_user=runtime.services.store.remember_odoo_user, interval=args.relay_every)
        background.append(asyncio.create_task(relay.run(stop)))
    if args.sweep_every:
        sweeper = LapsedTurns(runtime.services.deliveries, runtime.bot.on_turn, runtime.services.outbound,
                              draw=runtime.services.draw,
                              interval=args.sweep_every)
        background.append(asyncio.create_task(sweeper.run(stop)))
    print("ready", flush=True)
    parent = os.getppid()
    try:
        while not stop.is_set() and os.getppid() == parent:  # a test that dies must not leave us running
            try:
                await asyncio.wait_for(stop.wait(), 0.5)
            except TimeoutError:
                pass
    finally:
        stop.set()
        await asyncio.gather(*background)
        await runner.cleanup()


async def spawn(port: int, redis_url: str, odoo_url: str, *, log: BinaryIO, turn_lease: float = 10.0,
                relay_every: float = 0.0, sweep_every: float = 0.0) -> asyncio.subprocess.Process:
    """Start a bot process and wait until it serves (its stderr goes to `log`)."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, __file__, str(port), redis_url, odoo_url, "--turn-lease", str(turn_lease),
        "--relay-every", str(relay_every), "--sweep-every", str(sweep_every),
        stdout=asyncio.subprocess.PIPE, stderr=log)
    assert process.stdout is not None
    line = await asyncio.wait_for(process.stdout.readline(), 60)
    if line.strip() != b"ready":
        process.kill()
        await process.wait()
        raise RuntimeError(f"the bot process on port {port} did not start; see its log")
    return process


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("port", type=int)
    parser.add_argument("redis_url")
    parser.add_argument("odoo_url")
    parser.add_argument("--turn-lease", type=float, default=10.0)
    parser.add_argument("--odoo-timeout", type=float, default=10.0)
    parser.add_argument("--relay-every", type=float, default=0.0)
    parser.add_argument("--sweep-every", type=float, default=0.0)
    asyncio.run(main(parser.parse_args()))
