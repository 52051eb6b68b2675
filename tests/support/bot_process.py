"""One bot process for the multi-process tests: the app as production builds it (`create_app`, dev mode:
no auth), background tasks off, served on a loopback port until SIGTERM, SIGKILL, or its parent's end.

    python tests/support/bot_process.py PORT REDIS_URL ODOO_URL [--turn-lease 2] [--odoo-timeout 10]

Prints "ready" on stdout once it serves.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from aiohttp import web

from bot.server import create_app
from bot.settings import Mode, OdooSettings, Settings

ODOO_DB, ODOO_LOGIN, ODOO_API_KEY = "helpdesk", "admin", "test-api-key"  # the tests' Odoo double (conftest)


async def main(args: argparse.Namespace) -> None:
    settings = Settings(mode=Mode.DEV, host="127.0.0.1", port=args.port, redis_url=args.redis_url,
                        odoo=OdooSettings(url=args.odoo_url, db=ODOO_DB, login=ODOO_LOGIN, api_key=ODOO_API_KEY,
                                          timeout=args.odoo_timeout),
                        background_tasks=False, turn_lease=args.turn_lease)
    runner = web.AppRunner(create_app(settings), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, settings.host, settings.port).start()
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    print("ready", flush=True)
    parent = os.getppid()
    try:
        while not stop.is_set() and os.getppid() == parent:  # a test that dies must not leave us running
            try:
                await asyncio.wait_for(stop.wait(), 0.5)
            except TimeoutError:
                pass
    finally:
        await runner.cleanup()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("port", type=int)
    parser.add_argument("redis_url")
    parser.add_argument("odoo_url")
    parser.add_argument("--turn-lease", type=float, default=10.0)
    parser.add_argument("--odoo-timeout", type=float, default=10.0)
    asyncio.run(main(parser.parse_args()))
