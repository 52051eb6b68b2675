"""The load run behind `tests/test_load.py` (which checks what landed) and `bench/load.py` (which times it).

20 Teams users, each in their 1:1 chat, type 100 commands one after the other (a mix of new, note, update,
hold, resume, show and list on a ticket of their own) through the bot's HTTP endpoint: 2,000 commands. The
bot runs in its own process (`tests/support/bot_process.py`: the app as production builds it, its outbox
relay on) on a real redis-server; the Odoo double and the Bot Connector stub are served here, Odoo behind
the fault proxy. When `cut_after` commands have been answered, Odoo is cut for `cut_seconds`: replies are
swallowed for the first `swallow_seconds` (Odoo acts, the bot never hears), then connections are refused.
Loopback only, and bounded: it ends when every user has typed everything and the outbox is empty.

Every command carries a mark, `[u3-c17]` (user 3, command 17), in the text that lands in Odoo (the note,
the update, the reason, the new ticket's title), so what landed can be counted per command.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp.test_utils import TestServer
from redis.asyncio import Redis

from bot.demo.seed import seed_scenarios
from bot.outbox import Outbox
from bot.store import Store
from odoo_double import OdooSandbox
from tests.support.bot_process import ODOO_API_KEY, ODOO_DB, ODOO_LOGIN, spawn
from tests.support.connector import ConnectorStub
from tests.support.faultproxy import FaultProxy
from tests.support.proxied_odoo import proxy_in_front_of, served_like_odoo
from tests.support.redis_server import free_port
from tests.support.teams import TeamsClient, TeamsUser, card_text

ADMIN = 2
# One round of a user's commands: holds and resumes alternate, so each one fits the ticket's stage.
ROUND = ("note", "show", "update", "hold", "list", "note", "resume", "new", "show", "note")
CHANGES = frozenset({"note", "update", "hold", "resume", "new"})
MARK = re.compile(r"\[u(\d+)-c(\d+)\]")
KEPT = "Your command is saved"
APPLIED = "Odoo is back: your command was applied."
NOT_APPLIED = "Odoo is back: your command was NOT applied"


def command(kind: str, ticket_id: int, mark: str) -> str:
    return {"note": f"/ticket note {ticket_id} Checked the logs {mark}",
            "update": f"/ticket update {ticket_id} Still working on it {mark}",
            "hold": f"/ticket hold {ticket_id} Waiting for the vendor {mark}",
            "resume": f"/ticket resume {ticket_id} Vendor answered {mark}",
            "new": f"/ticket new Printer jam {mark} users:1",
            "show": f"/ticket show {ticket_id}",
            "list": "/ticket list mine"}[kind]


@dataclass
class Turn:
    """One command typed: who, which, when (monotonic seconds), how long until the bot answered, and how."""

    user: int
    seq: int
    kind: str
    activity_id: str
    sent_at: float
    seconds: float
    answer: str

    @property
    def mark(self) -> str:
        return f"[u{self.user}-c{self.seq}]"

    @property
    def kept(self) -> bool:
        return KEPT in self.answer


@dataclass
class LoadRun:
    users: list[TeamsUser]
    tickets: dict[int, int]  # user -> the ticket they work on
    turns: list[Turn]
    odoo: OdooSandbox
    connector: ConnectorStub
    started: float
    cut_from: float
    cut_until: float
    typed: float  # every user typed everything
    drained: float  # the outbox was empty again
    swallowed: int  # Odoo replies the proxy threw away

    @property
    def changes(self) -> list[Turn]:
        return [t for t in self.turns if t.kind in CHANGES]

    def landed(self) -> Counter[str]:
        """How many times each command's mark is in Odoo: chatter messages and ticket titles."""
        found: Counter[str] = Counter()
        for message in self.odoo.call(ADMIN, "mail.message", "search_read",
                                      [[["message_type", "=", "comment"]]], {"fields": ["body"]}):
            found.update(match.group(0) for match in MARK.finditer(message["body"] or ""))
        for ticket in self.odoo.call(ADMIN, "helpdesk.ticket", "search_read", [[]], {"fields": ["name"]}):
            found.update(match.group(0) for match in MARK.finditer(ticket["name"]))
        return found

    def marks_in_chatter(self, user: int) -> list[int]:
        """The command numbers of the user's marks on their ticket, in the order Odoo has the messages."""
        messages = self.odoo.call(ADMIN, "mail.message", "search_read",
                                  [[["model", "=", "helpdesk.ticket"], ["res_id", "=", self.tickets[user]],
                                    ["message_type", "=", "comment"]]], {"fields": ["body"], "order": "id"})
        return [int(m.group(2)) for message in messages for m in MARK.finditer(message["body"] or "")]

    def told_later(self, user: int) -> list[str]:
        """The first line of each "Odoo is back" card posted in the user's chat."""
        chat = f"personal-{self.users[user].id}"
        cards = [card_text(p.card) for p in self.connector.posted if p.card and p.conversation_id == chat]
        return [text.splitlines()[0] for text in cards if text.startswith("Odoo is back")]


@dataclass
class _Cut:
    proxy: FaultProxy
    after: int
    seconds: float
    swallow_seconds: float
    answered: int = 0
    started: asyncio.Event = field(default_factory=asyncio.Event)
    cut_from: float = 0.0
    cut_until: float = 0.0

    def one_answered(self) -> None:
        self.answered += 1
        if self.answered == self.after:
            self.started.set()

    async def run(self) -> None:
        await self.started.wait()
        self.cut_from = time.monotonic()
        self.proxy.swallow_replies()
        await asyncio.sleep(self.swallow_seconds)
        self.proxy.refuse()
        await asyncio.sleep(self.seconds - self.swallow_seconds)
        self.proxy.heal()
        self.cut_until = time.monotonic()


async def run_load(redis_url: str, workdir: Path, *, users: int = 20, commands: int = 2000, cut_after: int = 700,
                   cut_seconds: float = 10.0, swallow_seconds: float = 1.0,
                   progress: Callable[[str], None] = lambda _: None) -> LoadRun:
    """The whole run on an empty Redis; `cut_seconds` 0: no cut."""
    redis = Redis.from_url(redis_url, decode_responses=True)
    await redis.flushall()
    odoo = OdooSandbox(flavour="helpdesk_mgmt", db=ODOO_DB, login=ODOO_LOGIN, password="admin", api_key=ODOO_API_KEY)
    seed_scenarios(odoo)
    stub = ConnectorStub()
    people = [TeamsUser(f"29:load-{u}", f"Load Agent {u}", f"load.agent{u}@example.com") for u in range(users)]
    for person in people:
        odoo.add_user(person.name, person.email, person.email)
        stub.add_member(person.id, person.name, person.email)
    connector = TestServer(stub.app(), host="127.0.0.1")
    await connector.start_server()
    port = free_port()
    try:
        async with served_like_odoo(odoo) as odoo_url, aiohttp.ClientSession() as session:
            with proxy_in_front_of(odoo_url) as proxy, (workdir / "bot.log").open("wb") as log:
                bot = await spawn(port, redis_url, f"http://{proxy.address}", log=log, relay_every=0.5)
                try:
                    clients = [TeamsClient(f"http://127.0.0.1:{port}/api/messages",
                                           str(connector.make_url("")).rstrip("/"), stub, session, person)
                               for person in people]
                    return await _drive(clients, odoo, stub, proxy, Outbox(redis, Store(redis).key("outbox", "")),
                                        commands // users, _Cut(proxy, cut_after, cut_seconds, swallow_seconds),
                                        progress)
                finally:
                    bot.terminate()
                    await bot.wait()
    finally:
        await connector.close()
        await redis.aclose()


async def _drive(clients: list[TeamsClient], odoo: OdooSandbox, stub: ConnectorStub, proxy: FaultProxy,
                 outbox: Outbox, per_user: int, cut: _Cut, progress: Callable[[str], None]) -> LoadRun:
    tickets: dict[int, int] = {}

    async def open_ticket(user: int, client: TeamsClient) -> None:
        title = f"Load agent {user}'s laptop does not boot"
        await client.send(_message(client, f"/ticket new {title} users:1"))
        [found] = odoo.call(ADMIN, "helpdesk.ticket", "search", [[["name", "=", title]]])
        tickets[user] = found

    await asyncio.gather(*(open_ticket(user, client) for user, client in enumerate(clients)))
    progress(f"{len(clients)} users, {per_user} commands each; Odoo cut after {cut.after} answers")
    turns: list[Turn] = []

    async def type_all(user: int, client: TeamsClient) -> None:
        for seq in range(per_user):
            kind = ROUND[seq % len(ROUND)]
            activity = _message(client, command(kind, tickets[user], f"[u{user}-c{seq}]"))
            sent = time.monotonic()
            await client.post(activity)
            seconds = time.monotonic() - sent
            # activity ids are unique per conversation only (each simulated client counts from 1)
            answers = [p for p in stub.posted
                       if p.reply_to == activity["id"] and p.conversation_id == activity["conversation"]["id"]]
            said = "\n".join(card_text(p.card) if p.card else p.text for p in answers)
            turns.append(Turn(user, seq, kind, activity["id"], sent, seconds, said))
            cut.one_answered()

    started = time.monotonic()
    cutting = asyncio.create_task(cut.run()) if cut.seconds else None
    await asyncio.gather(*(type_all(user, client) for user, client in enumerate(clients)))
    typed = time.monotonic()
    if cutting is not None:
        await cutting
    progress(f"{len(turns)} commands typed in {typed - started:.1f} s; {await outbox.waiting()} kept to apply")
    for _ in range(6000):  # the relay (another process) applies what was kept: look every 50 ms, at most 5 min
        if not await outbox.waiting():
            break
        await asyncio.sleep(0.05)
    drained = time.monotonic()
    kept = Counter(t.user for t in turns if t.kept)
    run = LoadRun([c.user for c in clients], tickets, turns, odoo, stub, started, cut.cut_from, cut.cut_until,
                  typed, drained, proxy.replies_swallowed)
    # The relay tells each chat in order, behind the applying, within Teams' budget of 60 messages per chat in
    # 30 s (bot/notify.py; each kept command is a notice and its answer): wait for the last notices, at most 2 min.
    for _ in range(240):
        if all(len(run.told_later(user)) >= kept[user] for user in range(len(clients))):
            break
        await asyncio.sleep(0.5)
    return run


def _message(client: TeamsClient, text: str) -> dict[str, Any]:
    return {**client._base(client.personal()), "type": "message", "text": text}
