"""The 7-step lifecycle as pure rules: which moves are allowed, and what is due next.

No I/O: handlers ask these functions, then write to Odoo.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from bot.process import ClassOfService, ProcessProfile, Stage, update_interval
from bot.reminders.policy import Due, Kind, not_logged_yet
from bot.tickets import Ticket


class Move(StrEnum):
    ACK = "ack"
    UPDATE = "update"
    HOLD = "hold"
    BLOCK = "block"
    RESUME = "resume"
    RESOLVE = "resolve"
    CONFIRM = "confirm"
    CLOSE = "close"
    CANCEL = "cancel"
    REOPEN = "reopen"
    MERGE = "merge"
    EDIT = "edit"  # note, diag, assign, class, users


class NotAllowed(ValueError):
    """The move does not fit the ticket's current stage; the message says what to do instead."""


_CLOSED = {Stage.DONE, Stage.CANCELLED}
_PAUSED = {Stage.ON_HOLD, Stage.WAITING_CUSTOMER}


def check(ticket: Ticket, move: Move) -> None:
    """Raise NotAllowed when `move` makes no sense for the ticket as it stands."""
    stage = ticket.stage_key
    closed = ticket.closed or stage in _CLOSED
    if move is Move.REOPEN:
        if not closed and stage is not Stage.RESOLVED:
            raise NotAllowed(f"{ticket.label} is still open ({ticket.stage}); there is nothing to reopen.")
        return
    if closed:
        raise NotAllowed(f"{ticket.label} is closed ({ticket.stage}). Reopen it first: "
                         f"`/ticket reopen {ticket.id} <reason>`.")
    if move is Move.RESUME and stage not in _PAUSED:
        raise NotAllowed(f"{ticket.label} is not on hold or blocked (it is {ticket.stage}).")
    if move is Move.CONFIRM and stage is not Stage.RESOLVED:
        raise NotAllowed(f"{ticket.label} has not been resolved yet. Record the fix first: "
                         f"`/ticket resolve {ticket.id} <what was done>`.")
    if move in (Move.HOLD, Move.BLOCK) and stage in _PAUSED:
        raise NotAllowed(f"{ticket.label} is already paused ({ticket.stage}). `/ticket resume {ticket.id}` first.")


# The stage a move takes the ticket into (ack only moves a New ticket; the others always move).
TARGET_STAGE: Mapping[Move, Stage] = {
    Move.ACK: Stage.IN_PROGRESS, Move.HOLD: Stage.ON_HOLD, Move.BLOCK: Stage.WAITING_CUSTOMER,
    Move.RESUME: Stage.IN_PROGRESS, Move.RESOLVE: Stage.RESOLVED, Move.CONFIRM: Stage.DONE, Move.CLOSE: Stage.DONE,
    Move.CANCEL: Stage.CANCELLED, Move.REOPEN: Stage.IN_PROGRESS,
}


def check_required_fields(ticket: Ticket, move: Move, required: Mapping[Stage, Mapping[str, str]]) -> None:
    """Refuse a move into a stage whose mandatory Odoo fields (field -> label) are still empty."""
    target = TARGET_STAGE.get(move)
    if target is None or (move is Move.ACK and ticket.stage_key not in (None, Stage.NEW)):
        return
    missing = [label for field, label in required.get(target, {}).items() if field not in ticket.filled]
    if missing:
        raise NotAllowed(f"{ticket.label} cannot move to {target.value.replace('_', ' ')} yet: fill in "
                         f"{', '.join(missing)} in Odoo first.")


@dataclass(frozen=True)
class NextStep:
    what: str
    due: datetime | None = None

    def overdue(self, now: datetime) -> bool:
        return self.due is not None and self.due < now


def next_step(ticket: Ticket, profile: ProcessProfile, now: datetime,
              reminders: Sequence[Due] = ()) -> NextStep | None:
    """What the owner has to do next, and by when (None once the ticket is closed).

    `reminders`: the ticket's pending reminders, whose due times win over the estimates made
    from Odoo's dates (Odoo does not date the last customer update on the ticket itself)."""
    stage = ticket.stage_key
    if ticket.closed or stage in _CLOSED:
        return None
    planned = {due.kind: due.at for due in reminders}
    service_class = profile.classes[ticket.cos]
    if stage is Stage.NEW or stage is None:
        if missing := not_logged_yet(ticket, profile):
            return NextStep(f"Finish logging it: give it {' and '.join(missing)}",
                            planned.get(Kind.RECEPTION, (ticket.facts.reported or ticket.created)
                                        + profile.reception_within))
        return NextStep("Acknowledge the customer",
                        planned.get(Kind.ACK, ticket.created + service_class.acknowledge_within))
    if stage is Stage.ON_HOLD:
        return NextStep("On hold: no reminders until it is resumed")
    if stage is Stage.WAITING_CUSTOMER:
        return NextStep("Waiting for the customer")
    if stage is Stage.RESOLVED:
        return NextStep("Get the customer's confirmation",
                        planned.get(Kind.FOLLOW_UP, ticket.updated + profile.follow_up_after))
    if ticket.cos is ClassOfService.FIXED_DEADLINE and ticket.facts.deadline is None:
        return NextStep(f"Record the deadline: `/ticket class {ticket.id} deadline deadline:<when>`")
    interval: timedelta = update_interval(ticket.cos, profile, now=now, deadline=ticket.facts.deadline)
    return NextStep("Send the customer an update", planned.get(Kind.UPDATE, ticket.updated + interval))
