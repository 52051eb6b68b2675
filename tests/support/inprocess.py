"""The bot without sockets, for runs of thousands of commands (tests/test_fuzz_commands.py).

- `InProcessTeams` hands turns to the running bot's `TicketBot.on_turn`: it skips the HTTP request,
  the JWT check and botbuilder's plumbing (about 1.5 ms of msrest a turn). Typed text and
  Action.Submit data become an `Incoming` as the adapter makes them; an Action.Execute invoke goes
  through the adapter's own `to_incoming`, since unpacking the invoke value is part of what is
  tested. Member lookups are answered from a roster, like the Bot Connector stub does.
- `SandboxWire` is the bot's own XML-RPC transport with its one network seam (`_request`) answered
  by the Odoo double's XML-RPC endpoint in process: every call is still marshalled to XML and back
  and answered with the double's faults, without a TCP connection per call (the double closes each
  one, like Odoo), which costs about 2 ms a call here.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from botbuilder.schema import Activity

from bot.adapter import to_incoming
from bot.bot import TicketBot
from bot.odoo.transport import OdooCredentials, XmlRpcTransport, _Reply
from bot.turn import Conversation, ConversationType, Incoming, Kind, Outcome, Person, Reply
from odoo_double import OdooSandbox
from odoo_double.server import xmlrpc_answer
from tests.support.teams import BOT_ID, BOT_NAME, TENANT, TeamsUser


class SandboxWire(XmlRpcTransport):
    def __init__(self, sandbox: OdooSandbox, session: aiohttp.ClientSession, creds: OdooCredentials, *,
                 timeout: float) -> None:
        super().__init__(session, creds, timeout=timeout)
        self._sandbox = sandbox

    async def _request(self, method: str, path: str, *, data: bytes | None = None,
                       headers: dict[str, str] | None = None) -> _Reply:
        service = path.rsplit("/", 1)[-1]  # /xmlrpc/2/object
        self._sandbox.requests += 1
        return _Reply(200, "text/xml", xmlrpc_answer(self._sandbox, service, data or b"").encode("utf-8"))

SERVICE_URL = "http://127.0.0.1:9"  # nothing listens: handlers answer in the turn, never proactively here


@dataclass
class InProcessTeams:
    bot: TicketBot
    roster: dict[str, TeamsUser]
    sent: list[Reply] = field(default_factory=list)  # what handlers posted mid-turn (TeamsChannel.send)
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))

    async def send(self, reply: Reply) -> str:
        self.sent.append(reply)
        return f"sent-{len(self.sent)}"

    async def member_email(self, person: Person) -> str | None:
        member = self.roster.get(person.id)
        return member.email if member else None

    def _message(self, sender: TeamsUser, *, text: str = "", value: dict[str, Any] | None = None) -> Incoming:
        chat = f"personal-{sender.id}"
        return Incoming(kind=Kind.MESSAGE, activity_id=f"inproc-{next(self._ids)}",
                        conversation=Conversation(chat, ConversationType.PERSONAL, TENANT),
                        sender=Person(sender.id, sender.name, f"aad-{sender.id}"), text=text, value=value,
                        timezone="Asia/Ho_Chi_Minh",
                        reference={"conversation": {"id": chat, "conversationType": "personal", "tenantId": TENANT},
                                   "serviceUrl": SERVICE_URL, "channelId": "msteams",
                                   "user": {"id": sender.id, "name": sender.name},
                                   "bot": {"id": BOT_ID, "name": BOT_NAME}})

    async def say(self, text: str, sender: TeamsUser) -> Outcome:
        return await self.bot.on_turn(self._message(sender, text=text), self)

    async def submit(self, value: Any, sender: TeamsUser) -> Outcome:
        """Action.Submit: a message carrying the card's data (whatever the client put there; the
        adapter keeps it only when it is an object)."""
        return await self.bot.on_turn(self._message(sender, value=value if isinstance(value, dict) else None), self)

    async def invoke(self, value: Any, sender: TeamsUser) -> Outcome:
        """Action.Execute: an adaptiveCard/action invoke; `value` is what the client sent as the invoke's value."""
        activity = {
            "type": "invoke", "name": "adaptiveCard/action", "id": f"inproc-{next(self._ids)}", "value": value,
            "channelId": "msteams", "serviceUrl": SERVICE_URL, "replyToId": "msg-1",
            "from": {"id": sender.id, "name": sender.name, "aadObjectId": f"aad-{sender.id}"},
            "recipient": {"id": BOT_ID, "name": BOT_NAME},
            "conversation": {"id": f"personal-{sender.id}", "conversationType": "personal", "tenantId": TENANT},
            "channelData": {"tenant": {"id": TENANT}}, "locale": "en-US",
        }
        return await self.bot.on_turn(to_incoming(Activity().deserialize(activity)), self)
