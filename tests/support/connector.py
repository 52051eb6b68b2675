"""A Bot Connector stub: the part of Teams' REST API the bot calls, over real HTTP.

It records every activity the bot posts or updates, answers member lookups from a roster (by the member's Teams
id or AAD object id, as Teams does), refuses posts in conversations the bot is no member of (403, as Teams does
for a message action in a chat without the bot),
and can be told to answer 429 a number of times (Teams throttling), to post a message and still
answer an error (a gateway that took it, then failed), or to hold posts (`before_post`).
"""

from __future__ import annotations

import itertools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


@dataclass
class Posted:
    conversation_id: str
    activity: dict[str, Any]
    reply_to: str = ""
    id: str = ""

    @property
    def text(self) -> str:
        return self.activity.get("text") or ""

    @property
    def card(self) -> dict[str, Any] | None:
        for attachment in self.activity.get("attachments") or []:
            if attachment.get("contentType") == "application/vnd.microsoft.card.adaptive":
                return attachment["content"]
        return None


@dataclass
class ConnectorStub:
    roster: dict[str, dict[str, Any]] = field(default_factory=dict)  # Teams user id -> member JSON
    posted: list[Posted] = field(default_factory=list)
    updated: list[Posted] = field(default_factory=list)
    auth_headers: list[str] = field(default_factory=list)  # Authorization of each post, as received
    failures: list[tuple[int, dict[str, str]]] = field(default_factory=list)  # answered to the next posts
    posted_despite: set[int] = field(default_factory=set)  # failure statuses answered after posting anyway
    # called before each post is recorded (conversation id, activity); may wait; False: not posted (504)
    before_post: Callable[[str, dict[str, Any]], Awaitable[bool]] | None = None
    attempts: int = 0  # posts received, failed ones included
    not_a_member: set[str] = field(default_factory=set)  # conversations whose posts are refused (403)
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1000))

    def cards_in(self, conversation: str) -> list[Posted]:
        """The cards posted in a conversation (a channel's id also matches the threads in it)."""
        return [p for p in self.posted if p.conversation_id.startswith(conversation) and p.card]

    def add_member(self, user_id: str, name: str, email: str) -> None:
        self.roster[user_id] = {"id": user_id, "name": name, "email": email, "userPrincipalName": email,
                                "aadObjectId": f"aad-{user_id}"}

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/v3/conversations/{cid}/activities", self._post)
        app.router.add_post("/v3/conversations/{cid}/activities/{aid}", self._post)
        app.router.add_put("/v3/conversations/{cid}/activities/{aid}", self._put)
        app.router.add_get("/v3/conversations/{cid}/members/{mid}", self._member)
        return app

    async def _post(self, request: web.Request) -> web.Response:
        self.attempts += 1
        if self.failures:
            status, headers = self.failures.pop(0)
            if status in self.posted_despite:
                self._record(request, await request.json())
            return web.json_response({"error": {"code": "Throttled" if status == 429 else "Failed"}},
                                     status=status, headers=headers)
        activity = await request.json()
        if request.match_info["cid"] in self.not_a_member:
            return web.json_response({"error": {"code": "BotNotInConversationRoster",
                                                "message": "The bot is not part of the conversation roster."}},
                                     status=403)
        if self.before_post is not None and not await self.before_post(request.match_info["cid"], activity):
            return web.json_response({"error": {"code": "GatewayTimeout"}}, status=504)
        return web.json_response({"id": self._record(request, activity).id})

    def _record(self, request: web.Request, activity: dict[str, Any]) -> Posted:
        self.auth_headers.append(request.headers.get("Authorization", ""))
        posted = Posted(request.match_info["cid"], activity, request.match_info.get("aid", ""),
                        f"msg-{next(self._ids)}")
        self.posted.append(posted)
        return posted

    async def _put(self, request: web.Request) -> web.Response:
        posted = Posted(request.match_info["cid"], await request.json(), id=request.match_info["aid"])
        self.updated.append(posted)
        return web.json_response({"id": posted.id})

    async def _member(self, request: web.Request) -> web.Response:
        wanted = request.match_info["mid"]
        member = self.roster.get(wanted) or next(
            (known for known in self.roster.values() if known["aadObjectId"] == wanted), None)
        if member is None:
            return web.json_response({"error": {"code": "MemberNotFoundInConversation"}}, status=404)
        return web.json_response(member)
