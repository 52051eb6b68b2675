"""What a due reminder posts (`bot.posts`): the nag. Data only: `cards.posts` says why it is due, in the reader's
language and time zone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.posts import Post
from bot.process import ProcessProfile
from bot.reminders.policy import Kind
from bot.tickets import Ticket


@dataclass(frozen=True)
class NagPost(Post):
    """A reminder of `kind` about `ticket`, the `misses`-th in a row, under the `profile`'s rules. `since`: the
    moment it counts from (the customer's message, the resolution), when the timer knows it; `share`: the
    percentage of the time to the deadline passed (a Fixed Deadline checkpoint)."""

    ticket: Ticket
    profile: ProcessProfile
    kind: Kind
    misses: int = 1
    since: datetime | None = None
    share: int = 100
