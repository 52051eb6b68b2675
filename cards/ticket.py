"""The ticket card and the ticket list: what an agent sees after every command."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.lifecycle import NextStep
from bot.process import ClassOfService, ProcessProfile
from bot.tickets import Ticket
from cards.elements import card, facts, open_url, text, when

PRIORITY_LABELS = {"0": "Low", "1": "Medium", "2": "High", "3": "Urgent"}
CLASS_COLORS = {
    ClassOfService.STANDARD: "default",
    ClassOfService.PRIORITY: "warning",
    ClassOfService.EXPEDITE: "attention",
    ClassOfService.FIXED_DEADLINE: "accent",
}
DESCRIPTION_EXCERPT = 400


def _excerpt(value: str) -> str:
    return value if len(value) <= DESCRIPTION_EXCERPT else value[: DESCRIPTION_EXCERPT - 1].rstrip() + "…"


def ticket_card(ticket: Ticket, profile: ProcessProfile, *, tz: ZoneInfo, now: datetime,
                step: NextStep | None, headline: str = "", alert: str = "",
                actions: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """`alert`: a reminder shown above the ticket; `actions`: buttons before "Open in Odoo"."""
    service_class = profile.classes[ticket.cos]
    body = [text(alert, color="attention", weight="Bolder")] if alert else []
    body += [
        text(f"{ticket.label} · {ticket.title}", size="Large", weight="Bolder"),
        text(f"{service_class.label} · {PRIORITY_LABELS.get(ticket.priority, ticket.priority)} priority · "
             f"{ticket.stage}", color=CLASS_COLORS[ticket.cos], weight="Bolder", spacing="None"),
    ]
    if headline:
        body.append(text(headline, color="good"))
    body.append(facts([
        ("Customer", ticket.customer.name if ticket.customer else "not set"),
        ("Owner", ticket.owner.name if ticket.owner else "nobody yet"),
        ("Users affected", str(ticket.facts.users) if ticket.facts.users is not None else ""),
        ("Deadline", when(ticket.facts.deadline, tz, now)),
        ("Reported", when(ticket.facts.reported, tz, now)),
        ("Type", ticket.facts.kind),
        ("Team", ticket.team),
        ("Category", ticket.category),
        ("Tags", ", ".join(ticket.tags)),
    ]))
    if step is not None:
        late = step.overdue(now)
        due = f" by {when(step.due, tz, now)}" if step.due else ""
        body.append(text(f"{'Overdue: ' if late else 'Next: '}{step.what}{due}",
                         color="attention" if late else "accent", weight="Bolder"))
    if ticket.description:
        body.append(text(_excerpt(ticket.description), subtle=True))
    buttons = [*(actions or []), *([open_url("Open in Odoo", ticket.url)] if ticket.url else [])]
    return card(body, buttons or None)


def ticket_list_card(title: str, tickets: list[tuple[Ticket, NextStep | None]], profile: ProcessProfile, *,
                     tz: ZoneInfo, now: datetime) -> dict[str, Any]:
    body: list[dict[str, Any]] = [text(title, size="Medium", weight="Bolder")]
    if not tickets:
        body.append(text("No tickets.", subtle=True))
    for ticket, step in tickets:
        owner = ticket.owner.name if ticket.owner else "unassigned"
        due = ""
        if step is not None and step.due is not None:
            due = f" · {'OVERDUE ' if step.overdue(now) else ''}{step.what.lower()} by {when(step.due, tz, now)}"
        body.append({
            "type": "Container", "separator": True, "spacing": "Small",
            "selectAction": open_url("Open", ticket.url) if ticket.url else None,
            "items": [
                text(f"**{ticket.label}** {ticket.title}", wrap=True),
                text(f"{profile.classes[ticket.cos].label} · {ticket.stage} · {owner}{due}", subtle=True,
                     spacing="None", color="attention" if step and step.overdue(now) else None),
            ],
        })
        if body[-1]["selectAction"] is None:
            del body[-1]["selectAction"]
    return card(body)
