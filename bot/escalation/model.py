"""An escalation (step 4) as the bot keeps it: which ticket went to which team, and where it stands.

Pure data and rules; `store.py` keeps it in Redis, `service.py` posts and answers it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field, ValidationError

from bot.chatter_words import AnswerVerb
from bot.i18n import N_, tr
from bot.parsing import MAX_COMMAND_LENGTH
from bot.payloads import CardPayload, ClickRefused
from bot.privacy import for_management


class Status(StrEnum):
    OPEN = "open"  # posted, nobody answered yet
    ACKNOWLEDGED = "acknowledged"
    NEED_INFO = "need_info"  # the team asked the owner for more
    RESOLVED = "resolved"
    DECLINED = "declined"
    PASSED_ON = "passed_on"  # nobody acknowledged in time: went to the next team of the chain


class Answer(StrEnum):
    """What a team member can answer from the card; the value is the card's verb."""

    ACKNOWLEDGE = "escalation.ack"
    NEED_INFO = "escalation.need_info"
    RESOLVED = "escalation.resolved"
    DECLINE = "escalation.decline"


REFRESH = "escalation.refresh"

# the status each answer leads to, and the statuses it may come from
ANSWERS: dict[Answer, tuple[Status, frozenset[Status]]] = {
    Answer.ACKNOWLEDGE: (Status.ACKNOWLEDGED, frozenset({Status.OPEN, Status.NEED_INFO})),
    Answer.NEED_INFO: (Status.NEED_INFO, frozenset({Status.OPEN, Status.ACKNOWLEDGED})),
    Answer.RESOLVED: (Status.RESOLVED, frozenset({Status.OPEN, Status.ACKNOWLEDGED, Status.NEED_INFO})),
    Answer.DECLINE: (Status.DECLINED, frozenset({Status.OPEN, Status.ACKNOWLEDGED, Status.NEED_INFO})),
}
# the verb of the chatter note an answer writes, "Ann (Dev team) acknowledged the escalation of HD-42"
DONE_WORDS = {Answer.ACKNOWLEDGE: AnswerVerb.ACKNOWLEDGED, Answer.NEED_INFO: AnswerVerb.NEEDS_INFO,
              Answer.RESOLVED: AnswerVerb.RESOLVED, Answer.DECLINE: AnswerVerb.DECLINED}
NEEDS_TEXT = {Answer.NEED_INFO: N_("what you need"), Answer.RESOLVED: N_("what was done"), Answer.DECLINE: N_("why")}
STATUS_NAMES = {Status.OPEN: N_("open"), Status.ACKNOWLEDGED: N_("acknowledged"), Status.NEED_INFO: N_("need info"),
                Status.RESOLVED: N_("resolved"), Status.DECLINED: N_("declined"), Status.PASSED_ON: N_("passed on")}
NOBODY_FURTHER = N_("nobody (end of the chain)")  # who an escalation is passed on to at the end of the chain
TEXT_INPUT = {Answer.NEED_INFO: "info", Answer.RESOLVED: "resolution", Answer.DECLINE: "why"}  # input ids on the card
FINISHED = frozenset({Status.RESOLVED, Status.DECLINED, Status.PASSED_ON})
NOT_KNOWN = N_("This escalation is not known (any more). Ask the ticket's owner to escalate it again.")
NOTHING_CHANGED = N_("Nothing was changed.")
# The ticket, the key of the command that escalated it (or the time of its note: `id_from_notes`), the team.
_ID = re.compile(r"[0-9]{1,12}-[0-9a-f]{1,32}-[a-z0-9][a-z0-9_-]{0,99}")


def is_escalation_id(value: str) -> bool:
    """Whether a card's escalation id has the shape the bot makes (anything else is refused unread)."""
    return bool(_ID.fullmatch(value))


def _escalation_id(value: str) -> str:
    if not is_escalation_id(value):
        raise ValueError("not an escalation id the bot makes")
    return value


def _written(value: object) -> str:
    """What was written in an answer's box. The box sends text; anything else is nothing written, so the card asks
    for it again (as for a box left empty) rather than refusing the click."""
    return value.strip() if isinstance(value, str) else ""


Written = Annotated[str, BeforeValidator(_written), Field(max_length=MAX_COMMAND_LENGTH)]


class EscalationClick(CardPayload):
    """A button on an escalation card (an answer, or the card asking for its state; management's incident card
    carries Acknowledge and Decline): which escalation, and what was written in the answer's box (TEXT_INPUT)."""

    escalation: Annotated[str, AfterValidator(_escalation_id)]
    info: Written = ""
    resolution: Written = ""
    why: Written = ""

    @classmethod
    def refusal(cls, problem: ValidationError) -> ClickRefused:
        return ClickRefused(tr(NOT_KNOWN), tr(NOTHING_CHANGED))  # an id the bot never made: no escalation has it

    @classmethod
    def on_buttons(cls, escalation_id: str) -> dict[str, Any]:
        """What an escalation's buttons carry: the bot's own id, checked when it comes back."""
        return cls.model_construct(escalation=escalation_id).data()

    def said(self, answer: Answer) -> str:
        """What was written in `answer`'s box ("" for Acknowledge, which has none)."""
        box = TEXT_INPUT.get(answer)
        return str(getattr(self, box)) if box else ""  # the boxes' input ids are the fields' names


def id_from_notes(ticket_id: int, tagged: str, at: datetime, team: str) -> str:
    """An escalation's id as its notes in Odoo give it: the id they carry (`tagged`: bot.chatter_words'
    `escalation_tag`), else, for notes written before ids were kept, one made of the ticket, the time of the
    escalation note and the team's key, the same for every reader (the rebuild gives the escalation back under it;
    the management card's buttons carry it)."""
    return tagged or f"{ticket_id}-{int(at.timestamp())}-{team}"


@dataclass(frozen=True)
class TicketContext:
    """What the team needs to know, captured when the escalation is posted (the card is re-drawn
    from it without asking Odoo)."""

    ticket_id: int
    label: str  # HT00012
    title: str
    service_class: str  # "Priority"
    users: int | None
    customer: str
    owner: str
    owner_id: int | None
    stage: str
    url: str
    deadline: datetime | None = None
    description: str = ""
    findings: tuple[str, ...] = ()  # the diagnosis notes (what was tried, errors, logs, metrics)

    def to_json(self) -> dict[str, Any]:
        return {**self.__dict__, "deadline": self.deadline.isoformat() if self.deadline else None,
                "findings": list(self.findings)}

    def for_management_channel(self) -> TicketContext:
        """What an escalation card may show in the management channel (the end of the chain): business words
        (`bot.privacy`), no diagnosis notes, no link into Odoo."""
        return replace(self, title=for_management(self.title) or self.label, customer=for_management(self.customer),
                       description=for_management(self.description), findings=(), url="")

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TicketContext:
        deadline = data.get("deadline")
        return cls(**{**data, "deadline": datetime.fromisoformat(deadline) if deadline else None,
                      "findings": tuple(data.get("findings") or ())})


@dataclass(frozen=True)
class Escalation:
    id: str
    team: str
    team_label: str
    ticket: TicketContext
    reason: str  # the business impact / why, as the agent wrote it
    escalated_by: str
    posted_at: datetime
    ack_due: datetime
    conversation_id: str = ""  # the team channel it was posted in
    activity_id: str = ""  # the posted card, updated in place
    status: Status = Status.OPEN
    acknowledged_by: str = ""
    acknowledged_at: datetime | None = None
    answered_by: str = ""  # the last answer
    answered_at: datetime | None = None
    answer: str = ""
    passed_to: str = ""
    previous: str = ""  # the team whose escalation this one took over (nobody there acknowledged)
    successor: str = ""  # the escalation that took this one over
    card_pending: bool = False  # saved, its card not posted yet (being posted, or waiting for the team's channel)

    @property
    def finished(self) -> bool:
        return self.status in FINISHED
