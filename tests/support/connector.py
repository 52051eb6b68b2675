"""A Bot Connector stub: the part of Teams' REST API the bot calls, over real HTTP.

It records every activity the bot posts or updates, answers member lookups from a roster (by the member's Teams
id or AAD object id, as Teams does), refuses posts in conversations the bot is no member of (403, as Teams does
for a message action in a chat without the bot),
and can be told to answer 429 a number of times (Teams throttling), to post a message and still
answer an error (a gateway that took it, then failed), or to hold posts (`before_post`).

With `limits` (`TeamsLimits()`: Teams' documented numbers) it enforces Teams' rate limits as Teams states them,
"at most N in any window" (sliding windows, measured when a request arrives): per conversation 7 requests a second,
60 in 30 s and 1,800 in an hour, and per tenant (the activity's `channelData.tenant.id` or `conversation.tenantId`)
50 a second across all its conversations; a request beyond them is answered 429 with `Retry-After` and not posted.
Every request it received is in `arrivals` (moment, conversation, tenant) and every 429 it answered for a limit is
counted in `throttled`. Off by default (existing tests care about other things).
"""

from __future__ import annotations

import bisect
import itertools
import math
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
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


@dataclass(frozen=True)
class TeamsLimits:
    """(window in seconds, requests allowed in it): Teams' documented limits for a bot."""

    per_conversation: Sequence[tuple[float, int]] = ((1, 7), (30, 60), (3600, 1800))
    per_tenant: Sequence[tuple[float, int]] = ((1, 50),)


def most_in_any_window(moments: Sequence[float], window: float) -> int:
    """The most of `moments` within any `window` seconds (every start, not calendar seconds)."""
    ordered = sorted(moments)
    return max((bisect.bisect_left(ordered, start + window) - i for i, start in enumerate(ordered)), default=0)


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
    limits: TeamsLimits | None = None  # Teams' rate limits enforced (429 with Retry-After beyond them)
    clock: Callable[[], float] = time.monotonic  # seconds, for the limits
    arrivals: list[tuple[float, str, str]] = field(default_factory=list)  # (moment, conversation, tenant) of each
    throttled: int = 0  # 429s answered because a limit was reached
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1000))
    _seen: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))  # accepted, by budget key

    def _over_limit(self, conversation: str, activity: dict[str, Any]) -> float | None:
        """None when Teams' limits allow this request now (then it counts), else the seconds to wait (Retry-After)."""
        now = self.clock()
        tenant = str(((activity.get("channelData") or {}).get("tenant") or {}).get("id")
                     or (activity.get("conversation") or {}).get("tenantId") or "unknown").lower()
        self.arrivals.append((now, conversation, tenant))
        if self.limits is None:
            return None
        budgets = [(f"conversation:{conversation}", window, limit) for window, limit in self.limits.per_conversation]
        budgets += [(f"tenant:{tenant}", window, limit) for window, limit in self.limits.per_tenant]
        wait = 0.0
        for key, window, limit in budgets:
            seen = self._seen[key]
            inside = len(seen) - bisect.bisect_right(seen, now - window)
            if inside >= limit:
                wait = max(wait, seen[len(seen) - limit] + window - now)
        if wait > 0:
            self.throttled += 1
            return wait
        for key in {key for key, _, _ in budgets}:
            self._seen[key].append(now)
        return None

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
        wait = self._over_limit(request.match_info["cid"], activity)
        if wait is not None:
            return web.json_response({"error": {"code": "Throttled", "message": "Too many requests"}}, status=429,
                                     headers={"Retry-After": str(max(1, math.ceil(wait)))})
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
        activity = await request.json()
        wait = self._over_limit(request.match_info["cid"], activity)
        if wait is not None:
            return web.json_response({"error": {"code": "Throttled"}}, status=429,
                                     headers={"Retry-After": str(max(1, math.ceil(wait)))})
        posted = Posted(request.match_info["cid"], activity, id=request.match_info["aid"])
        self.updated.append(posted)
        return web.json_response({"id": posted.id})

    async def _member(self, request: web.Request) -> web.Response:
        wanted = request.match_info["mid"]
        member = self.roster.get(wanted) or next(
            (known for known in self.roster.values() if known["aadObjectId"] == wanted), None)
        if member is None:
            return web.json_response({"error": {"code": "MemberNotFoundInConversation"}}, status=404)
        return web.json_response(member)
