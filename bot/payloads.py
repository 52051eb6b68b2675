"""What a card sends back, as typed models: the data of a button (Action.Execute, or its Action.Submit fallback),
and a form's command.

Each card action registers the model of its data (`CommandGroup.card_action(..., payload=...)`, the models beside
their feature's verbs: `bot.drafts.model`, `bot.escalation.model`); the router parses the data once, as it finds the
turn's command (`Router.asked`), and the handler gets the model on its request, never the raw dict. Data that does
not parse is refused before anything runs, as the bot refuses a stale or forged click (`ClickRefused`: what the
model says, e.g. that the draft is not known), and nothing changes. A form (`CommandForm`) becomes the command as if
typed.

Plain data: pydantic and the reader's language only (the cards draw their buttons' data from these models).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Self

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from bot.i18n import tr
from bot.parsing import MAX_COMMAND_LENGTH


class ClickRefused(Exception):
    """A click or a form the bot does not act on: what the person is told, and the hint under it (that nothing
    was done, or what to do)."""

    def __init__(self, message: str, hint: str) -> None:
        super().__init__(message)
        self.hint = hint


def unknown_button(clicked: str) -> ClickRefused:
    """A button (or form) asking for something the bot does not do: `clicked` is its verb or command ("": none)."""
    return ClickRefused(tr("This button ({action}) is not something I can do.", action=clicked or tr("no action")),
                        tr("Type `/ticket help` to see what I do."))


class CardPayload(BaseModel):
    """The data a card's button sends back. Frozen. Keys the model does not name are ignored, not refused: nothing
    reads them, so they cannot redirect a click (a forged `ticket` or `team` beside the escalation's id), and the
    Action.Submit fallback adds its `verb` to the same data."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    @classmethod
    def parsed(cls, data: Mapping[str, Any]) -> Self:
        """The model of `data` as the client sent it; ClickRefused, saying why, when it does not parse."""
        try:
            return cls.model_validate(data)
        except ValidationError as problem:
            raise cls.refusal(problem) from None

    @classmethod
    def refusal(cls, problem: ValidationError) -> ClickRefused:
        """What the person who clicked is told when the data does not parse: each card says it its own way."""
        raise NotImplementedError(f"{cls.__name__} says nothing when its data does not parse")

    def data(self) -> dict[str, Any]:
        """What a card's button carries: the values set here (the card's inputs add theirs when it is clicked)."""
        return self.model_dump(exclude_unset=True)


def _as_typed(value: object) -> str:
    """A form's input as the command would read it typed. A client sends text; anything else is written out as
    text, so that it meets the command's own checks as a typed word does ("`[1, 2]` is not a ticket id")."""
    return str(value or "").strip()


FormText = Annotated[str, BeforeValidator(_as_typed), Field(max_length=MAX_COMMAND_LENGTH)]


class CommandForm(CardPayload):
    """An Action.Submit that runs a command as if it were typed: the new-ticket form, and the buttons of a
    reminder (Snooze, Take it, Send to the customer). Every input is text (`FormText`), so a tampered form is
    refused like the typed command. Unlike a button's, a form's other keys are kept: they are its inputs, the
    command's options among them (`users`, `customer`...); the router takes only the options its command has."""

    model_config = ConfigDict(frozen=True, extra="allow")
    __pydantic_extra__: dict[str, FormText] = Field(init=False)

    command: FormText
    ticket: FormText = ""
    text: FormText = ""  # the words after the ticket (a button's `15m`, `me`)
    title: FormText = ""  # the new-ticket form's words, when there is no `text`
    description: FormText = ""  # the lines after the first (the new-ticket form's)
    body: FormText = ""

    @classmethod
    def refusal(cls, problem: ValidationError) -> ClickRefused:
        return unknown_button("")  # every input reads as text: only one longer than a message gets here

    @property
    def words(self) -> tuple[str, ...]:
        """The command's words as typed: the ticket, then the text (on a card listing several tickets, each one's
        text is in its own input, `text-<ticket>`: a reminders' digest)."""
        own = (self.__pydantic_extra__ or {}).get(f"text-{self.ticket}", "") if self.ticket else ""
        words = tuple((self.text or self.title or own).split())
        return (self.ticket, *words) if self.ticket else words

    @property
    def lines(self) -> str:
        """What a typed command has on the lines after the first."""
        return self.description or self.body

    def options(self, names: frozenset[str]) -> dict[str, str]:
        """The inputs that are among the command's options (`names`); an empty one is not given."""
        return {name: value for name, value in self if name in names and value}


class TicketFromMessage(CardPayload):
    """The dialog a message's "Create ticket" opens: the new-ticket form, filled in from the message. `check`: the
    agent asked for the class of service these inputs give, before logging the ticket."""

    title: FormText = ""
    description: FormText = ""
    users: FormText = ""
    customer: FormText = ""
    deadline: FormText = ""
    type: FormText = ""
    check: FormText = ""

    @classmethod
    def refusal(cls, problem: ValidationError) -> ClickRefused:
        return unknown_button("createTicket")  # every input reads as text: only one longer than a message gets here

    def options(self) -> dict[str, str]:
        """The inputs that are `/ticket new`'s options, as typed ones (an empty one is not given)."""
        given = {"users": self.users, "customer": self.customer, "deadline": self.deadline, "type": self.type}
        return {name: value for name, value in given.items() if value}


class AddToTicket(CardPayload):
    """The dialog a message's "Add to ticket" opens: the open ticket picked (`ticket`) or its number typed
    (`number`, which wins), and whether the customer sees the message (`visible`: "true") or it is an internal
    note."""

    ticket: FormText = ""
    number: FormText = ""
    visible: FormText = ""

    @classmethod
    def refusal(cls, problem: ValidationError) -> ClickRefused:
        return unknown_button("addToTicket")

    @property
    def chosen(self) -> str:
        return self.number or self.ticket

    @property
    def to_customer(self) -> bool:
        return self.visible.lower() == "true"
