"""The Odoo double in a process of its own, for the benchmarks: its time is Odoo's, not the bot's.

Serves the double (helpdesk_mgmt, seeded with the demo scenarios, zero latency) on loopback, and two routes
for the benchmark itself, outside Odoo's API: GET /bench/calls (how many calls Odoo has served) and
GET /bench/ticket?name=... (the id of the ticket with that name).

    .venv/bin/python bench/odoo_process.py --port 8069
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.demo.seed import seed_scenarios
from odoo_double import OdooSandbox, create_sandbox_app

DB, LOGIN, API_KEY = "helpdesk", "admin", "bench-key"


def create_bench_odoo() -> web.Application:
    sandbox = OdooSandbox(flavour="helpdesk_mgmt", db=DB, login=LOGIN, password="admin", api_key=API_KEY)
    seed_scenarios(sandbox)
    app = create_sandbox_app(sandbox)

    async def calls(_: web.Request) -> web.Response:
        return web.json_response({"calls": sum(sandbox.calls.values())})

    async def ticket(request: web.Request) -> web.Response:
        found = sandbox.call(sandbox.admin_uid, "helpdesk.ticket", "search", [[["name", "=", request.query["name"]]]])
        return web.json_response({"id": found[0] if found else None})

    app.router.add_get("/bench/calls", calls)
    app.router.add_get("/bench/ticket", ticket)
    return app


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, required=True)
    web.run_app(create_bench_odoo(), host="127.0.0.1", port=parser.parse_args().port, access_log=None,
                print=None)
