"""Past fixes: the resolved tickets most like a ticket, with what was wrong and what was done (bot.insights.similar),
as a section of the new ticket's card and as `/ticket similar`'s card."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.i18n import tr
from bot.insights.similar import PastFix
from bot.tickets import Ticket
from bot.wording import literal
from cards.elements import Element, card, text


def similar_section(fixes: Sequence[PastFix]) -> list[Element]:
    """The section a card shows them in; nothing at all when there are none (no empty heading)."""
    if not fixes:
        return []
    body: list[Element] = [{**text(tr("Resolved tickets like this one"), weight="Bolder"), "separator": True}]
    for fix in fixes:
        name = f"[{fix.label}]({fix.url})" if fix.url else f"**{fix.label}**"  # the url is the bot's own (Odoo's + id)
        items = [text(f"{name} {literal(fix.title)}")]
        if fix.cause:
            items.append(text(tr("Cause: {cause}", cause=literal(fix.cause)), subtle=True, spacing="None"))
        if fix.fix:
            items.append(text(tr("Fix: {fix}", fix=literal(fix.fix)), spacing="None"))
        body.append({"type": "Container", "spacing": "Small", "items": items})
    return body


def similar_card(ticket: Ticket, fixes: Sequence[PastFix], *, ready: bool = True) -> dict[str, Any]:
    """`/ticket similar`: the ticket, then its past fixes, or why there are none."""
    body: list[Element] = [text(f"{ticket.label} · {literal(ticket.title)}", size="Medium", weight="Bolder")]
    if not ready:
        body.append(text(tr("I am still reading the resolved tickets from Odoo; try again in a minute."),
                         subtle=True))
    elif not fixes:
        body.append(text(tr("No resolved ticket is like this one yet."), subtle=True))
    body += similar_section(fixes)
    return card(body)
