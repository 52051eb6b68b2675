"""A Teams client for tests: sends activities shaped like Teams' (personal chat, channel with
an @mention, Action.Submit, Action.Execute) to the bot over real HTTP and reads what the bot
posted back to the Bot Connector stub."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from tests.support.connector import ConnectorStub, Posted

BOT_ID = "28:bot-id"
BOT_NAME = "Ticket Bot"
TENANT = "tenant-1"


@dataclass
class TeamsUser:
    id: str
    name: str
    email: str


@dataclass
class TeamsClient:
    bot_url: str
    connector_url: str
    connector: ConnectorStub
    session: aiohttp.ClientSession
    user: TeamsUser
    headers: dict[str, str] = field(default_factory=dict)
    timezone: str = "Asia/Ho_Chi_Minh"  # what the Teams client reports in its clientInfo entity
    locale: str = "en-US"  # the language of the user's Teams client (`vi-VN`), on every activity
    tenant: str = TENANT  # the user's Microsoft 365 tenant (channelData.tenant.id and conversation.tenantId)
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))

    def _base(self, conversation: dict[str, Any], channel_data: dict[str, Any] | None = None,
              sender: TeamsUser | None = None) -> dict[str, Any]:
        who = sender or self.user
        return {
            "id": f"act-{next(self._ids)}",
            "channelId": "msteams",
            "serviceUrl": self.connector_url,
            "from": {"id": who.id, "name": who.name, "aadObjectId": f"aad-{who.id}"},
            "recipient": {"id": BOT_ID, "name": BOT_NAME},
            "conversation": conversation,
            "channelData": {"tenant": {"id": self.tenant}, **(channel_data or {})},
            "locale": self.locale,
            "entities": [{"type": "clientInfo", "locale": self.locale, "timezone": self.timezone}],
        }

    def personal(self, sender: TeamsUser | None = None) -> dict[str, Any]:
        who = sender or self.user
        return {"id": f"personal-{who.id}", "conversationType": "personal", "tenantId": self.tenant}

    async def post(self, activity: dict[str, Any]) -> aiohttp.ClientResponse:
        async with self.session.post(self.bot_url, json=activity, headers=self.headers) as response:
            await response.read()
            return response

    async def say(self, text: str, *, sender: TeamsUser | None = None) -> list[Posted]:
        """Type `text` in the 1:1 chat; returns what the bot posted in answer."""
        activity = {**self._base(self.personal(sender), sender=sender), "type": "message", "text": text}
        return await self.send(activity)

    def _in_channel(self, channel: str, sender: TeamsUser | None = None) -> dict[str, Any]:
        return self._base({"id": f"{channel};messageid=1", "conversationType": "channel", "isGroup": True,
                           "tenantId": self.tenant},
                          {"teamsTeamId": "team-1", "teamsChannelId": channel, "team": {"id": "team-1"},
                           "channel": {"id": channel}}, sender)

    async def say_in_channel(self, text: str, channel: str = "19:support@thread.tacv2", *,
                             sender: TeamsUser | None = None) -> list[Posted]:
        """Type `text` in `channel`, @mentioning the bot (as `sender`, the client's user by default)."""
        mention = f"<at>{BOT_NAME}</at>"
        activity = {**self._in_channel(channel, sender), "type": "message", "text": f"{mention} {text}"}
        activity["entities"].append({"type": "mention", "text": mention,
                                     "mentioned": {"id": BOT_ID, "name": BOT_NAME}})
        return await self.send(activity)

    async def submit(self, value: dict[str, Any], *, channel: str | None = None) -> list[Posted]:
        """Action.Submit from a card in the 1:1 chat, or in `channel` (arrives as a message with `value`)."""
        base = self._in_channel(channel) if channel else self._base(self.personal())
        activity = {**base, "type": "message", "value": value}
        return await self.send(activity)

    async def invoke(self, verb: str, data: dict[str, Any], reply_to: str = "msg-1", *, channel: str | None = None,
                     sender: TeamsUser | None = None) -> tuple[int, dict[str, Any]]:
        """Action.Execute on a card in the 1:1 chat (or in `channel`, clicked by `sender`): the HTTP
        status and the invoke response body."""
        base = self._in_channel(channel, sender) if channel else self._base(self.personal(sender), sender=sender)
        activity = {**base, "type": "invoke", "name": "adaptiveCard/action",
                    "replyToId": reply_to,
                    "value": {"action": {"type": "Action.Execute", "verb": verb, "data": data}, "trigger": "manual"}}
        async with self.session.post(self.bot_url, json=activity, headers=self.headers) as response:
            return response.status, await response.json()

    def group_chat(self) -> dict[str, Any]:
        return {"id": "19:group-chat@unq.gbl.spaces", "conversationType": "groupChat", "isGroup": True,
                "tenantId": self.tenant}

    async def message_action(self, command_id: str, message: Message, *, data: dict[str, Any] | None = None,
                             where: str = "personal", channel: str = "19:support@thread.tacv2",
                             sender: TeamsUser | None = None) -> tuple[int, dict[str, Any]]:
        """A message's "..." menu: `command_id` opened on `message` (composeExtension/fetchTask), or, with `data`,
        its dialog submitted (composeExtension/submitAction); `where`: personal, groupChat or channel. The HTTP
        status and the invoke response body."""
        conversation = (self._in_channel(channel, sender) if where == "channel" else
                        self._base(self.group_chat() if where == "groupChat" else self.personal(sender), sender=sender))
        value: dict[str, Any] = {"commandId": command_id, "commandContext": "message",
                                 "context": {"theme": "default"}, "messagePayload": message.payload()}
        if data is not None:
            value["data"] = data
        name = "composeExtension/submitAction" if data is not None else "composeExtension/fetchTask"
        activity = {**conversation, "type": "invoke", "name": name, "value": value}
        async with self.session.post(self.bot_url, json=activity, headers=self.headers) as response:
            return response.status, await response.json()

    async def send(self, activity: dict[str, Any]) -> list[Posted]:
        before = len(self.connector.posted)
        response = await self.post(activity)
        assert response.status in (200, 201), f"bot answered HTTP {response.status}"
        return self.connector.posted[before:]

    async def card(self, text: str, *, sender: TeamsUser | None = None) -> dict[str, Any]:
        """The one card the bot answered `text` with in the 1:1 chat it was typed in (typed by `sender`,
        the client's user by default); what the bot posted elsewhere meanwhile is not an answer."""
        chat = self.personal(sender)["id"]
        replies = await self.say(text, sender=sender)
        cards = [r.card for r in replies if r.card and r.conversation_id == chat]
        assert len(cards) == 1, f"expected one card for {text!r}, got {[r.activity for r in replies]}"
        return cards[0]


@dataclass(frozen=True)
class Message:
    """A Teams message someone wrote, as a message action's `messagePayload` carries it (its body in HTML)."""

    html: str
    author: TeamsUser
    id: str = "1733000000000"

    def payload(self) -> dict[str, Any]:
        return {"id": self.id, "messageType": "message", "createdDateTime": "2026-12-07T09:30:00.000Z",
                "linkToMessage": f"https://teams.microsoft.com/l/message/19:chat/{self.id}",
                "from": {"user": {"id": f"aad-{self.author.id}", "displayName": self.author.name,
                                  "userIdentityType": "aadUser"}},
                "body": {"contentType": "html", "content": self.html}, "attachments": [], "mentions": []}


def card_text(card: dict[str, Any]) -> str:
    """Every piece of text a person would read on the card, one per line."""
    out: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "TextBlock":
                out.append(node.get("text", ""))
            if node.get("type") == "FactSet":
                out.extend(f"{f['title']}: {f['value']}" for f in node.get("facts", []))
            if node.get("type", "").startswith("Action."):
                out.append(f"[{node.get('title', '')}]")
            for key in ("body", "items", "columns", "actions"):
                walk(node.get(key))
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(card)
    return "\n".join(out)


def card_elements(node: Any) -> Iterator[dict[str, Any]]:
    """Every object with a `type` in a card (elements, actions, select actions), depth first."""
    if isinstance(node, dict):
        if "type" in node:
            yield node
        for value in node.values():
            yield from card_elements(value)
    elif isinstance(node, list):
        for item in node:
            yield from card_elements(item)
