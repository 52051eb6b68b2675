"""The 7-step lifecycle as pure rules: which moves are allowed from where a ticket stands, and where they take it.

No I/O: handlers ask these functions, then write to Odoo. What is due next, and by when, is the reminders' policy
(`bot.reminders.policy.next_step`).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from enum import StrEnum

from bot.i18n import N_, tr
from bot.process import Stage
from bot.tickets import Ticket
from bot.wording import literal


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
                          time_field: str | None = None, links: Collection[str] = ()) -> None:
    """Refuse a move into a stage whose mandatory Odoo fields (field -> label) are still empty. `time_field`: the
    field of the ticket's timesheets, which `/ticket time` fills; `links`: those `/ticket set` fills."""
    target = TARGET_STAGE.get(move)
    if target is None or (move is Move.ACK and ticket.stage_key not in (None, Stage.NEW)):
        return
    empty = [field for field in required.get(target, {}) if field not in ticket.filled]
    if empty:
        said = tr("{ticket} cannot move to {stage} yet: fill in {fields} in Odoo first.", ticket=ticket.label,
                  stage=tr(STAGE_NAMES[target]), fields=", ".join(required[target][field] for field in empty))
        if time_field in empty:
            said += " " + tr("Log the time spent with `/ticket time {id} <duration> <what was done>`.", id=ticket.id)
        if settable := [field.removesuffix("_id") for field in empty if field in links]:
            said += " " + tr("Fill in {fields} from here with `/ticket set {id} <field> <name>`.",
                             fields=", ".join(f"`{field}`" for field in settable), id=ticket.id)
        raise NotAllowed(said)
