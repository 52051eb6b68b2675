"""Escalations in Redis: one hash each, created only if absent and answered with compare-and-set scripts, so
that a double click, a retried invoke or two people clicking at once give one outcome (the first wins), and a
command run again, or a rebuild from Odoo on two replicas, finds the escalation instead of making a second."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime

from bot.escalation.model import ANSWERS, Answer, Escalation, Status, TicketContext
from bot.store import Store, redis_result

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


# KEYS[1] escalation hash; ARGV: its TTL in seconds, then field, value, field, value...
# Returns 1 if it was created, 0 if an escalation with that id exists (left as it is).
_CREATE = """
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV, 2))
redis.call('EXPIRE', KEYS[1], ARGV[1])
return 1
"""


def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


class EscalationStore:
    def __init__(self, store: Store) -> None:
        self._redis = store.redis
        self._prefix = store.key("escalation", "")
        self._answer = self._redis.register_script(_ANSWER)
        self._create = self._redis.register_script(_CREATE)

    def _key(self, escalation_id: str) -> str:
        return f"{self._prefix}{escalation_id}"

    async def create(self, escalation: Escalation) -> tuple[Escalation, bool]:
        """Save it unless an escalation with its id exists (atomically): the one kept, and whether it is this one.
        The id is the same for every run of one command or one rebuild, so only one of them posts its card."""
        created = await self._create(keys=[self._key(escalation.id)], args=[TTL_SECONDS, *_fields(escalation)])
        if int(created) == 1:
            return escalation, True
        return await self.get(escalation.id) or escalation, False

    async def get(self, escalation_id: str) -> Escalation | None:
        raw = await redis_result(self._redis.hgetall(self._key(escalation_id))) if escalation_id else {}
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
            successor=raw.get("successor", ""), card_pending=raw.get("card_pending") == "1")

    async def posted(self, escalation: Escalation, activity_id: str, conversation_id: str) -> Escalation:
        """Its card is in the team's channel (`activity_id` "" when Teams may or may not have taken it)."""
        await redis_result(self._redis.hset(self._key(escalation.id), mapping={
            "activity_id": activity_id, "conversation_id": conversation_id, "card_pending": "0"}))
        return replace(escalation, activity_id=activity_id, conversation_id=conversation_id, card_pending=False)

    async def answer(self, escalation_id: str, answer: Answer, by: str, at: datetime, text: str) -> bool:
        """Apply the answer if the escalation's status allows it (atomically); False if it did not."""
        status, allowed = ANSWERS[answer]
        return await self._apply(escalation_id, allowed, status, by, at, text)

    async def pass_on(self, escalation_id: str, to_team: str, at: datetime) -> bool:
        """Still open: it goes to the next team (only one replica gets True)."""
        if not await self._apply(escalation_id, frozenset({Status.OPEN}), Status.PASSED_ON, "", at, ""):
            return False
        await redis_result(self._redis.hset(self._key(escalation_id), "passed_to", to_team))
        return True

    async def handed_over(self, escalation_id: str, successor_id: str) -> None:
        await redis_result(self._redis.hset(self._key(escalation_id), "successor", successor_id))

    async def _apply(self, escalation_id: str, allowed: frozenset[Status], status: Status, by: str, at: datetime,
                     text: str) -> bool:
        result = await self._answer(keys=[self._key(escalation_id)],
                                    args=[",".join(sorted(allowed)), status.value, by, at.isoformat(), text])
        return int(result) == 1


def _fields(escalation: Escalation) -> list[str]:
    """The hash's fields and values, flat; an answer's fields only once answered (`_ANSWER` looks for them)."""
    fields: dict[str, str] = {
        "id": escalation.id, "team": escalation.team, "team_label": escalation.team_label,
        "ticket": json.dumps(escalation.ticket.to_json()), "reason": escalation.reason,
        "escalated_by": escalation.escalated_by, "posted_at": escalation.posted_at.isoformat(),
        "ack_due": escalation.ack_due.isoformat(), "conversation_id": escalation.conversation_id,
        "activity_id": escalation.activity_id, "status": escalation.status.value,
        "previous": escalation.previous, "passed_to": escalation.passed_to,
        "card_pending": "1" if escalation.card_pending else "0",
    }
    answered: dict[str, str | datetime | None] = {
        "acknowledged_by": escalation.acknowledged_by, "acknowledged_at": escalation.acknowledged_at,
        "answered_by": escalation.answered_by, "answered_at": escalation.answered_at, "answer": escalation.answer}
    fields |= {name: value.isoformat() if isinstance(value, datetime) else value
               for name, value in answered.items() if value}
    return [item for pair in fields.items() for item in pair]
