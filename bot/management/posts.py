"""What the management service posts (`bot.posts`): an incident's card, and the digest of the desk. Data only,
masked already (`bot.privacy`): `cards.posts` draws them."""

from __future__ import annotations

from dataclasses import dataclass

from bot.management.digest import Digest
from bot.management.model import IncidentSummary
from bot.posts import Post


@dataclass(frozen=True)
class IncidentPost(Post):
    """The one card of an incident in the management channel; `notice`, said to whoever clicked, above it."""

    summary: IncidentSummary
    notice: str = ""


@dataclass(frozen=True)
class DigestPost(Post):
    """The desk at a glance: the periodic digest (and `/ticket summary today|week`)."""

    digest: Digest
