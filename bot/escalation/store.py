"""Escalations in Redis: one hash each, answered with a compare-and-set script so that a double
click, a retried invoke or two people clicking at once give one outcome (the first wins)."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime
from typing import Any

from redis.asyncio import Redis

from bot.escalation.model import ANSWERS, Answer, Escalation, Status, TicketContext

TTL_SECONDS = 90 * 24 * 3600  # an escalation card can still be clicked months later: it says where it stands

# KEYS[1] escalation hash; ARGV: statuses it may come from (comma-separated), new status, who, when, text.
# Returns 1 if applied, 0 if the status did not allow it, -1 if there is no such escalation.
_ANSWER = """
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return -1 end
for allowed in string.gmatch(ARGV[1], '[^,]+') do
  if allowed == status then
    redis.call('HSET', KEYS[1], 'status', ARGV[2], 'answered_by', ARGV[3], 'answered_at', ARGV[4], 'answer', ARGV[5])
    if ARGV[2] == 'acknowledged' and redis.call('HEXISTS', KEYS[1], 'acknowledged_by') == 0 then
      redis.call('HSET', KEYS[1], 'acknowledged_by', ARGV[3], 'acknowledged_at', ARGV[4])
    end
    return 1
  end
end
return 0
"""


def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


class EscalationStore:
    def __init__(self, redis: Redis, prefix: str) -> None:
        self._redis = redis
        self._prefix = prefix
        self._answer = redis.register_script(_ANSWER)

    def _key(self, escalation_id: str) -> str:
        return f"{self._prefix}{escalation_id}"

    async def new_id(self, ticket_id: int) -> str:
        return f"{ticket_id}-{await self._redis.incr(self._prefix + 'seq')}"

    async def save(self, escalation: Escalation) -> None:
        fields: dict[str, Any] = {
            "id": escalation.id, "team": escalation.team, "team_label": escalation.team_label,
            "ticket": json.dumps(escalation.ticket.to_json()), "reason": escalation.reason,
            "escalated_by": escalation.escalated_by, "posted_at": escalation.posted_at.isoformat(),
            "ack_due": escalation.ack_due.isoformat(), "conversation_id": escalation.conversation_id,
            "activity_id": escalation.activity_id, "status": escalation.status.value,
            "previous": escalation.previous, "passed_to": escalation.passed_to,
        }
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hset(self._key(escalation.id), mapping=fields)
            pipe.expire(self._key(escalation.id), TTL_SECONDS)
            await pipe.execute()

    async def get(self, escalation_id: str) -> Escalation | None:
        raw = await self._redis.hgetall(self._key(escalation_id)) if escalation_id else {}
        if not raw:
            return None
        return Escalation(
            id=raw["id"], team=raw["team"], team_label=raw["team_label"],
            ticket=TicketContext.from_json(json.loads(raw["ticket"])), reason=raw.get("reason", ""),
            escalated_by=raw.get("escalated_by", ""), posted_at=datetime.fromisoformat(raw["posted_at"]),
            ack_due=datetime.fromisoformat(raw["ack_due"]), conversation_id=raw.get("conversation_id", ""),
            activity_id=raw.get("activity_id", ""), status=Status(raw["status"]),
            acknowledged_by=raw.get("acknowledged_by", ""), acknowledged_at=_time(raw.get("acknowledged_at")),
            answered_by=raw.get("answered_by", ""), answered_at=_time(raw.get("answered_at")),
            answer=raw.get("answer", ""), passed_to=raw.get("passed_to", ""), previous=raw.get("previous", ""),
            successor=raw.get("successor", ""))

    async def posted(self, escalation: Escalation, activity_id: str) -> Escalation:
        await self._redis.hset(self._key(escalation.id), "activity_id", activity_id)
        return replace(escalation, activity_id=activity_id)

    async def answer(self, escalation_id: str, answer: Answer, by: str, at: datetime, text: str) -> bool:
        """Apply the answer if the escalation's status allows it (atomically); False if it did not."""
        status, allowed = ANSWERS[answer]
        return await self._apply(escalation_id, allowed, status, by, at, text)

    async def pass_on(self, escalation_id: str, to_team: str, at: datetime) -> bool:
        """Still open: it goes to the next team (only one replica gets True)."""
        if not await self._apply(escalation_id, frozenset({Status.OPEN}), Status.PASSED_ON, "", at, ""):
            return False
        await self._redis.hset(self._key(escalation_id), "passed_to", to_team)
        return True

    async def handed_over(self, escalation_id: str, successor_id: str) -> None:
        await self._redis.hset(self._key(escalation_id), "successor", successor_id)

    async def _apply(self, escalation_id: str, allowed: frozenset[Status], status: Status, by: str, at: datetime,
                     text: str) -> bool:
        result = await self._answer(keys=[self._key(escalation_id)],
                                    args=[",".join(sorted(allowed)), status.value, by, at.isoformat(), text])
        return int(result) == 1
