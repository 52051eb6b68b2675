"""Short cards for refusals and errors: what went wrong and how to write it right."""

from __future__ import annotations

from typing import Any

from bot.i18n import tr
from bot.tickets import Ticket
from bot.wording import literal
from cards.elements import card, open_url, text


def problem_card(message: str, *, hint: str = "", reference: str = "") -> dict[str, Any]:
    """`message` and `hint` are the bot's sentences, with what the person typed in them already `literal`."""
    body = [text(message, color="attention", weight="Bolder")]
    if hint:
        body.append(text(hint))
    if reference:
        body.append(text(tr("Reference: {reference}", reference=reference), subtle=True, size="Small"))
    return card(body)


def queued_card(command: str, *, landed: bool | None = None, waiting: int = 0) -> dict[str, Any]:
    """A command kept while Odoo was not answering; `landed`: Odoo is back and it was applied (True)
    or refused (False); its answer follows."""
    if landed is not None:
        said = tr("Odoo is back: your command was applied.") if landed else \
            tr("Odoo is back: your command was NOT applied:")
        return card([text(said, color="good" if landed else "attention", weight="Bolder"),
                      text(f"`{literal(command)}`", subtle=True)])
    saved = tr("Odoo is not answering right now. Your command is saved and will be applied as soon as Odoo is back "
               "({waiting} before it, applied in order); I will tell you here.", waiting=waiting) if waiting else \
        tr("Odoo is not answering right now. Your command is saved and will be applied as soon as Odoo is back; I "
           "will tell you here.")
    return card([text(saved, color="warning", weight="Bolder"), text(f"`{literal(command)}`", subtle=True)])


def alert_card(ticket: Ticket, *, service_class: str, by: str) -> dict[str, Any]:
    """An alert the bot posts on its own: a team lead told of a new ticket whose class alerts them (`service_class`:
    its label), logged by `by`."""
    headline = tr("New {service_class} ticket: {ticket}", service_class=service_class, ticket=ticket.label)
    detail = tr("{title} · logged by {who}", title=literal(ticket.title), who=literal(by))
    return card([text(headline, color="warning", weight="Bolder"), text(detail)],
                [open_url(tr("Open in Odoo"), ticket.url)] if ticket.url else None)
