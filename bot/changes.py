""""A ticket changed": what the bot's parts say after anything happened to a ticket (a command, an escalation and
its answers, a change seen in Odoo, a reminder), for whoever follows tickets (management's card:
`bot.management.service.follow`). The followers are registered where the services are wired (bot.server) and
told through `Services.ticket_changed`, so the parts that say it do not know who listens."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.tickets import Ticket


@dataclass(frozen=True)
class TicketChanged:
    ticket: Ticket  # as it stands now
    missed: datetime | None = None  # an update the owner missed (its reminder is being sent): shown as overdue
    asked: bool = False  # escalated to the management team itself, which answers on the ticket's own card
