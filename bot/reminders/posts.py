"""What a due reminder posts (`bot.posts`): the nag, or several due together for one reader (the digest). Data only:
`cards.posts` says why each is due, in the reader's language and time zone."""

from __future__ import annotations

from collections.abc import Sequence
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


DIGEST_LINES = 20  # reminders on one card at most (Teams takes cards up to 28 KB): more are split into several


@dataclass(frozen=True)
class NagDigestPost(Post):
    """Several reminders due together for one reader (a person, a channel) on one card, a line each (its ticket, why
    it is due, its buttons), the most important first: `part` of `parts` when there were more than one card holds."""

    nags: tuple[NagPost, ...]
    part: int = 1
    parts: int = 1


def digests(nags: Sequence[NagPost]) -> list[NagDigestPost]:
    """`nags` on as few cards as hold them (DIGEST_LINES each), in their order."""
    chunks = [tuple(nags[at:at + DIGEST_LINES]) for at in range(0, len(nags), DIGEST_LINES)]
    return [NagDigestPost(chunk, part, len(chunks)) for part, chunk in enumerate(chunks, 1)]
