"""What the insights read from Odoo: a ticket with its close date and its chatter."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.tickets import Ticket


@dataclass(frozen=True)
class ChatterEntry:
    """One chatter message (a comment or an e-mail; not Odoo's own tracking notifications)."""

    date: datetime
    author: str  # the person the bot signed it for ("Name (via Teams)"), else Odoo's author
    by_agent: bool  # written by an internal user or through the bot, not by the customer
    customer_visible: bool  # to or from the customer; False for an internal note
    text: str  # plain text, without the bot's signature line
    hidden: tuple[str, ...] = ()  # what the bot left in HTML comments (an escalation's id), unseen in Odoo


@dataclass(frozen=True)
class TicketHistory:
    ticket: Ticket
    closed_at: datetime | None  # Odoo's close date (set when the ticket enters a closing stage)
    chatter: tuple[ChatterEntry, ...]  # oldest first
