"""What the escalation service posts (`bot.posts`): an escalation's card, a team's heads-up, the leads' alert of a
new ticket, and what the ticket's owner is told of the teams' answers. Data only: `cards.posts` draws them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.escalation.model import Answer, Escalation, TicketContext
from bot.posts import Post
from bot.tickets import Ticket


@dataclass(frozen=True)
class EscalationPost(Post):
    """An escalation's card as it stands, with its buttons; `notice`, said to the reader already, above it."""

    escalation: Escalation
    notice: str = ""


@dataclass(frozen=True)
class StandbyPost(Post):
    """A team put on standby (`team`: its label): a heads-up with no clock, by `by` at `at`, with their `note`."""

    ticket: TicketContext
    team: str
    by: str
    note: str
    at: datetime


@dataclass(frozen=True)
class NewTicketAlert(Post):
    """A new ticket whose class alerts the team leads (`service_class`: its label), logged by `by`."""

    ticket: Ticket
    service_class: str
    by: str


@dataclass(frozen=True)
class EscalationAnswered(Post):
    """The owner of `ticket` (its label) hears that `who` of the `team` answered its escalation, with what they
    wrote (`said`)."""

    ticket: str
    team: str
    who: str
    answer: Answer
    said: str = ""


@dataclass(frozen=True)
class NotAcknowledged(Post):
    """The owner of `ticket` (its label) hears that the `team` did not acknowledge its escalation in time: passed
    on to `passed_to` (a team's label), or "" when nobody is left up the chain."""

    ticket: str
    team: str
    passed_to: str = ""
