"""E-mail drafts (`/ticket email`): the kinds, what posting each one means for the ticket, and a draft
as the bot keeps it between the card that shows it and the click that posts it. Pure data and rules."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field, ValidationError

from bot.i18n import N_, tr
from bot.lifecycle import Move
from bot.payloads import CardPayload, ClickRefused
from bot.process import Action, Stage


class DraftKind(StrEnum):
    """What the e-mail is for; the value is what people type and the template's name."""

    ACK = "ack"
    UPDATE = "update"
    RESOLUTION = "resolution"
    ESCALATION = "escalation"
    MANAGEMENT = "management"


class Recipient(StrEnum):
    CUSTOMER = "customer"  # a customer-visible chatter message addressed to the ticket's customer
    MANAGEMENT = "management"  # the management channel in Teams (and an internal note on the ticket)


@dataclass(frozen=True)
class KindRules:
    """What posting a draft of a kind does: the same as typing the command it stands for."""

    label: str  # "acknowledgment", marked for translation
    recipient: Recipient
    move: Move  # what the ticket's stage must allow (`bot.lifecycle.check`)
    stage: Stage | None = None  # where posting takes the ticket (ack: only a New one)
    action: Action | None = None  # what the process profile's `roles` may restrict


RULES: dict[DraftKind, KindRules] = {
    DraftKind.ACK: KindRules(N_("acknowledgment"), Recipient.CUSTOMER, Move.ACK, Stage.IN_PROGRESS,
                             Action.ACKNOWLEDGE),
    DraftKind.UPDATE: KindRules(N_("progress update"), Recipient.CUSTOMER, Move.UPDATE, action=Action.UPDATE),
    DraftKind.RESOLUTION: KindRules(N_("resolution notice"), Recipient.CUSTOMER, Move.RESOLVE, Stage.RESOLVED,
                                    Action.RESOLVE),
    DraftKind.ESCALATION: KindRules(N_("escalation notice"), Recipient.CUSTOMER, Move.UPDATE,
                                    action=Action.UPDATE),
    DraftKind.MANAGEMENT: KindRules(N_("management summary"), Recipient.MANAGEMENT, Move.EDIT),
}


class DraftAction(StrEnum):
    """The card's buttons (Action.Execute verbs)."""

    POST = "draft.post"  # the draft as stored, whatever the card says
    POST_EDITED = "draft.post_edited"  # the text typed into the card's Edit box


SUBJECT_INPUT = "subject"  # input ids on the card's Edit box
TEXT_INPUT = "text"
MAX_TEXT = 6_000  # characters of an edited draft (the whole click must stay under MAX_COMMAND_LENGTH)
MAX_SUBJECT = 200
_ID = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
_FILL_IN = re.compile(r"\[[^\]\n]{3,}\]")  # "[what you need decided]": a part of the template left to the agent


def is_draft_id(value: str) -> bool:
    """Whether a card's draft id has the shape the bot makes (anything else is refused unread)."""
    return bool(_ID.match(value))


NOT_KNOWN = N_("This draft is no longer known: drafts are kept for a day. Make a new one with "
               "`/ticket email <id> <kind>`.")
NOTHING_POSTED = N_("Nothing was posted.")


def _draft_id(value: str) -> str:
    if not is_draft_id(value):
        raise ValueError("not a draft id the bot makes")
    return value


DraftId = Annotated[str, AfterValidator(_draft_id)]


class DraftClick(CardPayload):
    """Post, on a draft's card: which draft (the card shows it, but the draft as stored is what is posted)."""

    draft: DraftId

    @classmethod
    def refusal(cls, problem: ValidationError) -> ClickRefused:
        return ClickRefused(tr(NOT_KNOWN), tr(NOTHING_POSTED))  # an id the bot never made: no draft has it

    @classmethod
    def on_buttons(cls, draft_id: str) -> dict[str, Any]:
        """What a draft card's buttons carry: the bot's own id, checked when it comes back."""
        return cls.model_construct(draft=draft_id).data()


def _nothing_as_empty(value: object) -> object:
    return "" if value is None else value  # an Edit box left empty may be sent as null


def _one_line(value: str) -> str:
    return " ".join(value.split())


EditedSubject = Annotated[str, BeforeValidator(_nothing_as_empty), AfterValidator(_one_line),
                          Field(max_length=MAX_SUBJECT)]
EditedText = Annotated[str, BeforeValidator(_nothing_as_empty), AfterValidator(str.strip),
                       Field(min_length=1, max_length=MAX_TEXT)]


class EditedDraft(DraftClick):
    """Post edited, on a draft's card: the draft, and its subject and text as written in the card's Edit box. Text
    only: a list, an object or a number is refused, never posted as Python's rendering of it; bounded as the box is,
    once the subject is on one line and the text trimmed."""

    subject: EditedSubject = Field("", validation_alias=SUBJECT_INPUT)  # empty: the draft's own
    text: EditedText = Field("", validation_alias=TEXT_INPUT, validate_default=True)  # missing: empty, refused

    @classmethod
    def refusal(cls, problem: ValidationError) -> ClickRefused:
        wrong = {str(error["loc"][0]): error["type"] for error in problem.errors() if error["loc"]}
        if "draft" in wrong:
            return super().refusal(problem)
        if "string_type" in wrong.values():
            said = tr("The edited draft is not text: edit it in the card's box, then post it.")
        elif wrong.get(TEXT_INPUT) == "too_short":
            said = tr("The edited draft is empty: write the text in the box, then post it.")
        else:
            said = tr("The edited draft is too long: at most {text} characters of text and {subject} of subject.",
                      text=MAX_TEXT, subject=MAX_SUBJECT)
        return ClickRefused(said, tr(NOTHING_POSTED))


def fill_ins(text: str) -> list[str]:
    """The `[...]` parts a template left for the agent to write before posting, each once, in order."""
    return list(dict.fromkeys(_FILL_IN.findall(text)))


def left_unfilled(draft_text: str, text: str) -> list[str]:
    """The draft's own `[...]` parts still in `text` as the template wrote them: such a text cannot be posted.
    Brackets the agent wrote are theirs to keep."""
    return [part for part in fill_ins(draft_text) if part in text]


class DraftState(StrEnum):
    OPEN = "open"
    POSTING = "posting"  # one click is posting it right now
    POSTED = "posted"


@dataclass(frozen=True)
class Draft:
    id: str
    kind: DraftKind
    language: str  # "vi", "en": of the e-mail, not of the card around it
    ticket_id: int
    ticket_label: str  # HT00005
    ticket_title: str
    url: str
    recipient: str  # the customer's name ("" when the ticket has none)
    subject: str
    text: str
    made_by: str
    made_at: datetime
    state: DraftState = DraftState.OPEN
    posted_by: str = ""
    posted_at: datetime | None = None

    @property
    def rules(self) -> KindRules:
        return RULES[self.kind]

    def to_redis(self) -> dict[str, str]:
        return {"id": self.id, "kind": self.kind.value, "language": self.language, "ticket_id": str(self.ticket_id),
                "ticket_label": self.ticket_label, "ticket_title": self.ticket_title, "url": self.url,
                "recipient": self.recipient, "subject": self.subject, "text": self.text, "made_by": self.made_by,
                "made_at": self.made_at.isoformat(), "state": self.state.value, "posted_by": self.posted_by,
                "posted_at": self.posted_at.isoformat() if self.posted_at else ""}

    @classmethod
    def from_redis(cls, raw: dict[str, Any]) -> Draft:
        posted_at = raw.get("posted_at") or ""
        return cls(id=raw["id"], kind=DraftKind(raw["kind"]), language=raw["language"],
                   ticket_id=int(raw["ticket_id"]), ticket_label=raw["ticket_label"],
                   ticket_title=raw["ticket_title"], url=raw.get("url", ""), recipient=raw.get("recipient", ""),
                   subject=raw.get("subject", ""), text=raw["text"], made_by=raw.get("made_by", ""),
                   made_at=datetime.fromisoformat(raw["made_at"]), state=DraftState(raw["state"]),
                   posted_by=raw.get("posted_by", ""),
                   posted_at=datetime.fromisoformat(posted_at) if posted_at else None)
