"""Time spent: what is logged on a ticket, and an agent's own time over a day or a week."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.i18n import tr
from bot.tickets import Ticket
from bot.timesheets import TimeLine, by_ticket, hours_and_minutes, total
from bot.wording import day, literal
from cards.elements import card, open_url, text

SHOWN = 20  # the newest lines shown on a ticket's card; the total counts them all


def ticket_time_card(ticket: Ticket, lines: Sequence[TimeLine], *, headline: str = "") -> dict[str, Any]:
    """The ticket's timesheet lines, newest first, and their total. `headline`: the bot's sentence, anything people
    wrote in it already `literal`."""
    body = [text(f"{ticket.label} · {literal(ticket.title)}", size="Large", weight="Bolder")]
    if headline:
        body.append(text(headline, color="good"))
    if not lines:
        body.append(text(tr("No time logged on this ticket yet."), subtle=True))
    else:
        body.append(text(_total(lines), weight="Bolder"))
    for line in lines[:SHOWN]:
        when = day(line.day) if line.day else "?"
        body.append({"type": "Container", "separator": True, "spacing": "Small", "items": [
            text(f"**{hours_and_minutes(line.spent)}** · {when} · {literal(line.who)}"),
            text(literal(line.what), subtle=True, spacing="None"),
        ]})
    if len(lines) > SHOWN:
        body.append(text(tr("{count} earlier lines are in Odoo.", count=len(lines) - SHOWN), subtle=True))
    return card(body, [open_url(tr("Open in Odoo"), ticket.url)] if ticket.url else None)


def own_time_card(title: str, lines: Sequence[TimeLine]) -> dict[str, Any]:
    """An agent's time over a period: the total, then the time on each ticket (or project), most first."""
    body = [text(title, size="Medium", weight="Bolder")]
    if not lines:
        body.append(text(tr("No time logged."), subtle=True))
        return card(body)
    body.append(text(_total(lines), weight="Bolder"))
    for ticket_id, where, spent in by_ticket(lines):
        label = f"#{ticket_id} {literal(where)}" if ticket_id else literal(where)
        body.append(text(f"**{hours_and_minutes(spent)}** · {label}", spacing="Small"))
    return card(body)


def _total(lines: Sequence[TimeLine]) -> str:
    spent = hours_and_minutes(total(lines))
    if len(lines) == 1:
        return tr("Total: {spent} (1 line)", spent=spent)
    return tr("Total: {spent} ({count} lines)", spent=spent, count=len(lines))
