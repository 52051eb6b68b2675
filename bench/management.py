"""Management benchmark: what the digest and the incident card cost in CPU, against the Odoo double.

  1. `/ticket summary week`-like digest over N open tickets, each with a realistic chatter (ack, a diagnosis
     note with a stack trace, an escalation and its answer, updates): the two Odoo reads through the real
     gateway over loopback XML-RPC, then the pure digest and its card, each timed apart;
  2. one incident card: the ticket's history (two reads) and the card, repeated;
  3. `for_management` over report-sized texts (a paragraph with an e-mail, a phone and a log line).

    .venv/bin/python bench/management.py [--tickets 500] [--rounds 20]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import aiohttp
from aiohttp.test_utils import TestServer

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.stats import percentile
from bot.demo.seed import seed_scenarios
from bot.management.digest import build_digest, window_for
from bot.management.model import Trigger, summarise
from bot.odoo.gateway import OdooGateway
from bot.odoo.transport import OdooCredentials, make_transport
from bot.privacy import for_management
from bot.process import load_profile
from cards.management import digest_card, incident_card
from odoo_double import OdooSandbox, create_sandbox_app

START = datetime(2025, 1, 29, 8, 33, tzinfo=UTC)
TZ = ZoneInfo("Asia/Ho_Chi_Minh")
REPORT = ("Final exams in WEB102-HN (20), DATA101-SG (18) and MOBILE201-HN (15) cannot be submitted. "
          "Exam office: exam.office@mindx.edu.vn, 0912 345 678.\n"
          "2025-01-29 08:31:55 ERROR submit-api-7.mindx.local POST /api/exams/submit -> 500")


def fill(sandbox: OdooSandbox, tickets: int) -> None:
    admin = sandbox.admin_uid
    tags = {t["name"]: t["id"] for t in sandbox.call(admin, "helpdesk.ticket.tag", "search_read", [[]],
                                                       {"fields": ["name"]})}
    for n in range(tickets):
        tag = ("expedite", "priority", "standard")[n % 3]
        ticket = sandbox.call(admin, "helpdesk.ticket", "create", [{
            "name": f"Exam submission fails in class {n}", "tag_ids": [[6, 0, [tags[tag]]]],
            "description": f"<p>{REPORT}</p><p><b>Support desk</b><br>Users affected: {n % 60 + 1}<br>"
                           f"Reported: {START:%Y-%m-%d %H:%M} UTC</p>"}])
        for body in ("Support desk (via Teams):\nWe are on it.",
                     "Diagnosis:\nTraceback (most recent call last):\n  File \"submit.py\", line 88\nKeyError",
                     "Escalated to the Dev team: exams blocked",
                     f"Võ Minh Đức (Dev team) acknowledged the escalation of #{ticket}.",
                     "Support desk (via Teams):\nUpdate: the fix is being deployed."):
            sandbox.call(admin, "helpdesk.ticket", "message_post", [[ticket]],
                         {"body": body, "message_type": "comment", "subtype_xmlid": "mail.mt_note"})


def timed(values: list[float]) -> str:
    return f"median {percentile(values, 0.5):.1f} ms, p90 {percentile(values, 0.9):.1f} ms"


async def main(tickets: int, rounds: int) -> None:
    profile = load_profile("mindx")
    sandbox = OdooSandbox(flavour="helpdesk_mgmt", db="helpdesk", login="admin", password="admin",
                          api_key="bench-key", clock=lambda: START)
    seed_scenarios(sandbox)
    fill(sandbox, tickets)
    server = TestServer(create_sandbox_app(sandbox), host="127.0.0.1")
    await server.start_server()
    async with aiohttp.ClientSession() as session:
        transport = make_transport("xmlrpc", session, OdooCredentials(str(server.make_url("")).rstrip("/"),
                                                                       "helpdesk", "admin", "bench-key"))
        odoo = await OdooGateway.connect(transport, profile, base_url="http://odoo.local")
        now = START + timedelta(hours=2)
        reads, builds, cards = [], [], []
        for _ in range(rounds):
            sandbox.calls.clear()
            began = time.perf_counter()
            histories = await odoo.desk_histories(now - timedelta(days=7), limit=tickets + 10)
            read = time.perf_counter()
            digest = build_digest(histories, profile, window_for("week", now, TZ), now=now)
            built = time.perf_counter()
            digest_card(digest, tz=TZ, now=now)
            done = time.perf_counter()
            reads.append((read - began) * 1000)
            builds.append((built - read) * 1000)
            cards.append((done - built) * 1000)
        print(f"digest of {digest.open_total} open tickets, Odoo calls per digest: {dict(sandbox.calls)}")
        print(f"  two Odoo reads (XML-RPC, loopback): {timed(reads)}")
        print(f"  build_digest (pure): {timed(builds)}")
        print(f"  digest_card (pure): {timed(cards)}")
        incident = []
        ticket_id = histories[-1].ticket.id
        for _ in range(rounds * 5):
            began = time.perf_counter()
            history = await odoo.history(ticket_id)
            incident_card(summarise(history, profile, now=now, next_update=None, trigger=Trigger.CLASS), tz=TZ,
                          now=now)
            incident.append((time.perf_counter() - began) * 1000)
        print(f"one incident card (two Odoo reads, summary, card): {timed(incident)}")
    await server.close()
    texts = [f"{REPORT}\nCall {n:04d} 345 678 or mail person{n}@mindx.edu.vn" for n in range(10_000)]
    began = time.perf_counter()
    for text in texts:
        for_management(text)
    spent = time.perf_counter() - began
    print(f"for_management: {len(texts) / spent:,.0f} report-sized texts/s ({spent / len(texts) * 1e6:.0f} µs each)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=20)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.tickets, arguments.rounds))
