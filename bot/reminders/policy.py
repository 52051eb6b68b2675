"""Which reminders a ticket needs right now, and what its owner has to do next: pure functions of the ticket and
the process.

Every change (a command in Teams, a change seen in Odoo, a fired timer) ends with the same
question, "what timers should this ticket have now?", answered here in one place. The timer
engine then makes Redis match the answer: one pending timer per (kind, ticket). The same rules said to
people are the next step the ticket and reminder cards show (`next_step`), due when its reminder is.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from bot.i18n import N_, joined, tr
from bot.process import ClassOfService, ProcessProfile, Stage, deadline_checkpoints, update_interval
from bot.tickets import Ticket


class Kind(StrEnum):
    RECEPTION = "reception"  # a report not logged yet: no owner or no class of service (step 1)
    ACK = "ack"  # initial response due (step 2)
    UPDATE = "update"  # the customer is due an update (step 5)
    DEADLINE = "deadline"  # a Fixed Deadline checkpoint (50/75/90/100 %)
    FOLLOW_UP = "follow_up"  # resolved, waiting for the customer's confirmation (step 6)
    CUSTOMER_REPLY = "customer_reply"  # a customer message nobody answered yet
    URGENT = "urgent"  # a Fixed Deadline ticket's priority rises to urgent (deadline.urgent_within before it)


TICKET_KINDS = tuple(Kind)
REMINDER_NAMES = {Kind.RECEPTION: N_("reception"), Kind.ACK: N_("ack"), Kind.UPDATE: N_("update"),
                  Kind.DEADLINE: N_("deadline"), Kind.FOLLOW_UP: N_("follow up"),
                  Kind.CUSTOMER_REPLY: N_("customer reply"), Kind.URGENT: N_("priority rise")}  # as people read them


@dataclass(frozen=True)
class Due:
    kind: Kind
    at: datetime
    data: dict[str, Any] = field(default_factory=dict)


_CLOSED = {Stage.DONE, Stage.CANCELLED}
_PAUSED = {Stage.ON_HOLD, Stage.WAITING_CUSTOMER}


def reminders_for(ticket: Ticket, profile: ProcessProfile, *, now: datetime, last_update: datetime | None,
                  customer_waiting_since: datetime | None = None, resolved_at: datetime | None = None) -> list[Due]:
    """The reminders the ticket should have. Kinds not listed must be cancelled.

    `last_update`: when the customer last heard from us (None: never since it was acknowledged).
    `customer_waiting_since`: a customer message nobody has answered yet.
    `resolved_at`: when the fix was sent (defaults to `last_update`)."""
    stage = ticket.stage_key
    if ticket.closed or stage in _CLOSED:
        return []
    service_class = profile.classes[ticket.cos]
    found: list[Due] = []
    if stage in (None, Stage.NEW):
        if not_logged_yet(ticket, profile):
            found.append(Due(Kind.RECEPTION, (ticket.facts.reported or ticket.created) + profile.reception_within))
        found.append(Due(Kind.ACK, ticket.created + service_class.acknowledge_within))
    elif stage is Stage.IN_PROGRESS and not (ticket.cos is ClassOfService.FIXED_DEADLINE and
                                              ticket.facts.deadline is None):
        since = last_update or now
        interval = update_interval(ticket.cos, profile, now=since, deadline=ticket.facts.deadline)
        found.append(Due(Kind.UPDATE, since + interval))
    elif stage is Stage.RESOLVED:
        since = resolved_at or last_update or now
        found.append(Due(Kind.FOLLOW_UP, since + profile.follow_up_after, {"resolved_at": since.isoformat()}))
    if customer_waiting_since is not None and stage not in _PAUSED:
        found.append(Due(Kind.CUSTOMER_REPLY, customer_waiting_since + profile.customer_reply_within))
    checkpoint = next_checkpoint(ticket, profile, now)
    if checkpoint is not None and stage is not Stage.RESOLVED:
        found.append(checkpoint)
    if rise := priority_rise(ticket, profile):
        found.append(rise)
    return found


_CLASS_RANK = {ClassOfService.EXPEDITE: 0, ClassOfService.PRIORITY: 2}  # the rest: 4


def importance(ticket: Ticket, kind: Kind, data: Mapping[str, Any]) -> int:
    """The rank of a reminder's timer (bot.timers: 0 goes first when many are due at once): Expedite before Priority
    before the rest, and within each a reminder about something overdue (the owner missed the last one, the deadline
    has come) before one that is merely due."""
    overdue = int(data.get("misses", 0)) >= 1 or (kind is Kind.DEADLINE and float(data.get("fraction", 0)) >= 1)
    return _CLASS_RANK.get(ticket.cos, 4) + (0 if overdue else 1)


def ranked(ticket: Ticket, kind: Kind, data: Mapping[str, Any]) -> dict[str, Any]:
    """`data` with the reminder's rank (`importance`), as its timer is scheduled."""
    return {**data, "rank": importance(ticket, kind, data)}


def priority_rise(ticket: Ticket, profile: ProcessProfile) -> Due | None:
    """When a Fixed Deadline ticket's priority rises to the profile's urgent one (`deadline.urgent_within` before
    its deadline, as `priority_for` says), while it has not risen yet."""
    deadline = ticket.facts.deadline
    if ticket.cos is not ClassOfService.FIXED_DEADLINE or deadline is None:
        return None
    if ticket.priority == profile.urgent_priority:
        return None
    return Due(Kind.URGENT, deadline - profile.deadline_urgent_within)


def not_logged_yet(ticket: Ticket, profile: ProcessProfile) -> list[str]:
    """What step 1 still lacks on a ticket that came in by e-mail, the portal or Odoo's UI (one
    logged from Teams has both): an owner, and a class of service (its tag). Marked N_: `tr` them to say them."""
    class_tags = {service_class.tag for service_class in profile.classes.values()}
    return [what for what, done in ((N_("an owner"), ticket.owner is not None),
                                    (N_("a class of service"), bool(class_tags & set(ticket.tags)))) if not done]


def checkpoints(ticket: Ticket, profile: ProcessProfile) -> list[Due]:
    """Every Fixed Deadline checkpoint of the ticket (the deadline itself is the last one)."""
    deadline = ticket.facts.deadline
    start = ticket.facts.reported or ticket.created
    if deadline is None or deadline <= start:
        return []
    points = deadline_checkpoints(start, deadline, profile)
    return [Due(Kind.DEADLINE, moment, {"fraction": fraction})
            for fraction, moment in zip(profile.deadline_checkpoints, points, strict=True)]


def next_checkpoint(ticket: Ticket, profile: ProcessProfile, now: datetime) -> Due | None:
    """The next Fixed Deadline checkpoint still ahead."""
    return next((due for due in checkpoints(ticket, profile) if due.at > now), None)


def checkpoint_holds(ticket: Ticket, profile: ProcessProfile, due: datetime) -> bool:
    """A fired checkpoint still belongs to the ticket: still open, not delivered, same deadline."""
    if ticket.closed or ticket.stage_key in _CLOSED or ticket.stage_key is Stage.RESOLVED:
        return False
    return any(abs((point.at - due).total_seconds()) < 1 for point in checkpoints(ticket, profile))


@dataclass(frozen=True)
class NextStep:
    """What the owner has to do next (said in the language being spoken), and by when."""

    what: str
    due: datetime | None = None

    def overdue(self, now: datetime) -> bool:
        return self.due is not None and self.due < now


def next_step(ticket: Ticket, profile: ProcessProfile, now: datetime,
              reminders: Sequence[Due] = ()) -> NextStep | None:
    """What the owner has to do next, and by when (None once the ticket is closed).

    `reminders`: the ticket's pending reminders, whose due times win over the estimates made
    from Odoo's dates (Odoo does not date the last customer update on the ticket itself).
    Said in the language being spoken."""
    stage = ticket.stage_key
    if ticket.closed or stage in _CLOSED:
        return None
    planned = {due.kind: due.at for due in reminders}
    service_class = profile.classes[ticket.cos]
    if stage is Stage.NEW or stage is None:
        if missing := not_logged_yet(ticket, profile):
            return NextStep(tr("Finish logging it: give it {missing}", missing=joined([tr(m) for m in missing])),
                            planned.get(Kind.RECEPTION, (ticket.facts.reported or ticket.created)
                                        + profile.reception_within))
        return NextStep(tr("Acknowledge the customer"),
                        planned.get(Kind.ACK, ticket.created + service_class.acknowledge_within))
    if stage is Stage.ON_HOLD:
        return NextStep(tr("On hold: no reminders until it is resumed"))
    if stage is Stage.WAITING_CUSTOMER:
        return NextStep(tr("Waiting for the customer"))
    if stage is Stage.RESOLVED:
        return NextStep(tr("Get the customer's confirmation"),
                        planned.get(Kind.FOLLOW_UP, ticket.updated + profile.follow_up_after))
    if ticket.cos is ClassOfService.FIXED_DEADLINE and ticket.facts.deadline is None:
        return NextStep(tr("Record the deadline: `/ticket class {id} deadline deadline:<when>`", id=ticket.id))
    interval: timedelta = update_interval(ticket.cos, profile, now=now, deadline=ticket.facts.deadline)
    return NextStep(tr("Send the customer an update"), planned.get(Kind.UPDATE, ticket.updated + interval))
