"""What the bot posts, as typed data: each feature decides what to post and hands over a `Post` (a frozen dataclass
of the domain data it shows: `bot.escalation.posts`, `bot.management.posts`, `bot.reminders.posts`,
`bot.drafts.posts`, and the turn's own notices below); one renderer turns every post into its card
(`cards.posts.render`, given to the services by bot.server), so no feature builds a card.

A post is drawn in the language being spoken when it is rendered (a channel's, a person's), so what it carries is
data, not sentences; where it carries a sentence (a problem's message, a notice said to whoever clicked), that
sentence was said in the reader's language already."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from zoneinfo import ZoneInfo

from bot.turn import Reply


@dataclass(frozen=True)
class Post:
    """Something the bot posts (or answers with), before it is a card."""


class Render(Protocol):
    """The one renderer (`cards.posts.render`): a post as a card, in the language being spoken, its times in `tz`,
    as of `now`."""

    def __call__(self, post: Post, *, tz: ZoneInfo, now: datetime) -> Reply: ...


Draw = Callable[[Post], Reply]
"""A post drawn as its card in the language being spoken, in the team's zone, as of now (`Services.draw`): what the
turn's own machinery (bot.deadlines, bot.lapsed, bot.outbox) is given, to say what it says."""


@dataclass(frozen=True)
class Problem(Post):
    """Something went wrong or was refused: `message` and `hint` said in the reader's language, with what people
    typed in them `literal` already."""

    message: str
    hint: str = ""


@dataclass(frozen=True)
class Queued(Post):
    """A command kept while Odoo was not answering (bot.outbox): `landed`, once Odoo is back, whether it was
    applied (True) or refused (False), None while it waits; `waiting`: the commands kept before it."""

    command: str
    landed: bool | None = None
    waiting: int = 0
