"""What posting a draft posts (`bot.posts`): a draft written for management, in the management channel. Data only:
`cards.posts` draws it."""

from __future__ import annotations

from dataclasses import dataclass

from bot.drafts.model import Draft
from bot.posts import Post


@dataclass(frozen=True)
class ForManagement(Post):
    """A draft for management (an incident report, an update), posted by `by`."""

    draft: Draft
    by: str
