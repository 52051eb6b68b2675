"""The 7-step lifecycle as pure rules: which moves are allowed, and what is due next.

No I/O: handlers ask these functions, then write to Odoo.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from bot.i18n import N_, joined, tr
from bot.process import ClassOfService, ProcessProfile, Stage, update_interval
from bot.reminders.policy import Due, Kind, not_logged_yet
from bot.tickets import Ticket
from cards.elements import literal


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
# The lifecycle stages as people read them (the Odoo stage names are the profile's, shown as Odoo has them).
STAGE_NAMES = {Stage.NEW: N_("new"), Stage.IN_PROGRESS: N_("in progress"), Stage.ON_HOLD: N_("on hold"),
               Stage.WAITING_CUSTOMER: N_("waiting customer"), Stage.RESOLVED: N_("resolved"), Stage.DONE: N_("done"),
               Stage.CANCELLED: N_("cancelled")}


def check(ticket: Ticket, move: Move) -> None:
    """Raise NotAllowed when `move` makes no sense for the ticket as it stands."""
    stage = ticket.stage_key
    closed = ticket.closed or stage in _CLOSED
    said = {"ticket": ticket.label, "stage": literal(ticket.stage), "id": ticket.id}  # the stage is Odoo's name
    if move is Move.REOPEN:
        if not closed and stage is not Stage.RESOLVED:
            raise NotAllowed(tr("{ticket} is still open ({stage}); there is nothing to reopen.", **said))
        return
    if closed:
        raise NotAllowed(tr("{ticket} is closed ({stage}). Reopen it first: `/ticket reopen {id} <reason>`.", **said))
    if move is Move.RESUME and stage not in _PAUSED:
        raise NotAllowed(tr("{ticket} is not on hold or blocked (it is {stage}).", **said))
    if move is Move.CONFIRM and stage is not Stage.RESOLVED:
        raise NotAllowed(tr("{ticket} has not been resolved yet. Record the fix first: "
                            "`/ticket resolve {id} <what was done>`.", **said))
    if move in (Move.HOLD, Move.BLOCK) and stage in _PAUSED:
        raise NotAllowed(tr("{ticket} is already paused ({stage}). `/ticket resume {id}` first.", **said))


# The stage a move takes the ticket into (ack only moves a New ticket; the others always move).
TARGET_STAGE: Mapping[Move, Stage] = {
    Move.ACK: Stage.IN_PROGRESS, Move.HOLD: Stage.ON_HOLD, Move.BLOCK: Stage.WAITING_CUSTOMER,
    Move.RESUME: Stage.IN_PROGRESS, Move.RESOLVE: Stage.RESOLVED, Move.CONFIRM: Stage.DONE, Move.CLOSE: Stage.DONE,
    Move.CANCEL: Stage.CANCELLED, Move.REOPEN: Stage.IN_PROGRESS,
}


def arrived(ticket: Ticket, move: Move) -> bool:
    """The ticket already stands where `move` takes it. For a command run again (replayed from the
    outbox, re-delivered after a crash) that means its move landed the first time: applied, not refused."""
    target = TARGET_STAGE.get(move)
    return target is not None and ticket.stage_key is target


def check_required_fields(ticket: Ticket, move: Move, required: Mapping[Stage, Mapping[str, str]], *,
                          time_field: str | None = None) -> None:
    """Refuse a move into a stage whose mandatory Odoo fields (field -> label) are still empty. `time_field`: the
    field of the ticket's timesheets, which `/ticket time` fills."""
    target = TARGET_STAGE.get(move)
    if target is None or (move is Move.ACK and ticket.stage_key not in (None, Stage.NEW)):
        return
    empty = [field for field in required.get(target, {}) if field not in ticket.filled]
    if empty:
        said = tr("{ticket} cannot move to {stage} yet: fill in {fields} in Odoo first.", ticket=ticket.label,
                  stage=tr(STAGE_NAMES[target]), fields=", ".join(required[target][field] for field in empty))
        if time_field in empty:
            said += " " + tr("Log the time spent with `/ticket time {id} <duration> <what was done>`.", id=ticket.id)
        raise NotAllowed(said)


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
