"""Keeps each ticket's timers in Redis equal to what the policy says it needs.

The timers themselves carry the little state the policy needs besides Odoo's ticket: when the
customer last heard from us (`since` on the update timer), since when a customer message waits
(`since` on the customer-reply timer), when the fix was sent (on the follow-up timer), and how
many reminders were missed (`misses`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from bot.process import ProcessProfile
from bot.reminders.policy import TICKET_KINDS, Due, Kind, ranked, reminders_for
from bot.tickets import Ticket
from bot.timers import Timer, TimerEngine

logger = logging.getLogger(__name__)


def since(timer: Timer | None) -> datetime | None:
    value = timer.data.get("since") if timer else None
    return datetime.fromisoformat(value) if isinstance(value, str) else None


class Reminders:
    def __init__(self, engine: TimerEngine, profile: ProcessProfile, clock: Callable[[], datetime]) -> None:
        self.engine = engine
        self._profile = profile
        self._clock = clock

    async def sync(self, ticket: Ticket, *, customer_updated: bool = False, customer_wrote: bool = False,
                   agent_answered: bool = False) -> list[Due]:
        """Make the ticket's timers match the policy, after whatever just happened to it.

        `customer_updated`: the customer just heard from us (ack, update, resolution, a reply in Odoo);
        `customer_wrote`: a customer message arrived; `agent_answered`: an agent answered it."""
        now = self._clock()
        key = str(ticket.id)
        # a reminder being sent right now (or whose replica died sending it) counts: a start-up rebuild or a
        # poll must not replace it with a fresh one (its missed count, the leads and the channel would be lost)
        current = await self.engine.get_all(key, TICKET_KINDS, claimed=True)
        last_update = now if customer_updated else since(current[Kind.UPDATE])
        waiting = None if (customer_updated or agent_answered) else since(current[Kind.CUSTOMER_REPLY])
        if customer_wrote:
            waiting = waiting or now
        resolved_at = now if customer_updated else since(current[Kind.FOLLOW_UP])
        wanted = reminders_for(ticket, self._profile, now=now, last_update=last_update,
                               customer_waiting_since=waiting, resolved_at=resolved_at)
        by_kind = {due.kind: due for due in wanted}
        changed = []
        for due in wanted:
            moment = {Kind.UPDATE: last_update, Kind.CUSTOMER_REPLY: waiting, Kind.FOLLOW_UP: resolved_at}.get(due.kind)
            data: dict[str, Any] = {**due.data, **({"since": moment.isoformat()} if moment else {})}
            existing = current[due.kind]
            if existing is not None and _same_cycle(existing, due, data):
                # already pending for the same cycle: keep its due time and missed count (its rank follows the class)
                again = ranked(ticket, due.kind, existing.data)
                if again != existing.data and existing.token == "":
                    changed.append((due.kind, key, existing.due, again))
                continue
            changed.append((due.kind, key, due.at, ranked(ticket, due.kind, data)))
        # cancelled even when not pending: one may be in flight, and must not come back when its lease ends
        await self.engine.cancel_all(key, [kind for kind in TICKET_KINDS if kind not in by_kind])
        await self.engine.schedule_many(changed)
        return wanted

    async def forget(self, ticket_id: int) -> None:
        await self.engine.cancel_all(str(ticket_id), TICKET_KINDS)

    async def snooze(self, ticket_id: int, until: datetime) -> list[Kind]:
        """Push every reminder due before `until` to `until` (their cycle and missed count stay)."""
        timers = await self.engine.get_all(str(ticket_id), TICKET_KINDS)
        moved = [timer for timer in timers.values() if timer is not None and timer.due < until]
        await self.engine.schedule_many((timer.kind, timer.key, until, timer.data) for timer in moved)
        return [Kind(timer.kind) for timer in moved]


def _same_cycle(existing: Timer, due: Due, data: dict[str, Any]) -> bool:
    """A pending timer for the same cycle (same `since`, same checkpoint) is kept as it is,
    so a ticket that keeps being edited is not re-nagged from scratch nor pushed later."""
    if existing.kind in (Kind.RECEPTION, Kind.ACK):
        return True
    if existing.kind == Kind.DEADLINE:
        return existing.data.get("fraction") == data.get("fraction")
    return existing.data.get("since") == data.get("since")
