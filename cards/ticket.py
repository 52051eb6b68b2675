"""The ticket card and the ticket list: what an agent sees after every command."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.i18n import tr
from bot.insights.similar import PastFix
from bot.process import ClassOfService, ProcessProfile
from bot.reminders.policy import NextStep
from bot.tickets import Ticket
from bot.wording import literal, when
from cards.elements import card, facts, open_url, text
from cards.similar import similar_section

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
                actions: list[dict[str, Any]] | None = None, similar: Sequence[PastFix] = ()) -> dict[str, Any]:
    """`alert`: a reminder shown above the ticket; `actions`: buttons before "Open in Odoo"; `similar`: resolved
    tickets like it (a new ticket's). `headline` and `alert` are the bot's sentences, with whatever people or Odoo
    wrote in them already `literal`."""
    service_class = profile.classes[ticket.cos]
    priority = ticket.priority_label or ticket.priority
    body = [text(alert, color="attention", weight="Bolder")] if alert else []
    body += [
        text(f"{ticket.label} · {literal(ticket.title)}", size="Large", weight="Bolder"),
        text(tr("{service_class} · {priority} priority · {stage}", service_class=service_class.label,
                priority=literal(tr(priority)), stage=literal(ticket.stage)), color=CLASS_COLORS[ticket.cos],
             weight="Bolder", spacing="None"),
    ]
    if headline:
        body.append(text(headline, color="good"))
    body.append(facts([
        (tr("Customer"), ticket.customer.name if ticket.customer else tr("not set")),
        (tr("Owner"), ticket.owner.name if ticket.owner else tr("nobody yet")),
        (tr("Users affected"), str(ticket.facts.users) if ticket.facts.users is not None else ""),
        (tr("Deadline"), when(ticket.facts.deadline, tz, now)),
        (tr("Reported"), when(ticket.facts.reported, tz, now)),
        (tr("Type"), ticket.facts.kind),
        (tr("Team"), ticket.team),
        (tr("Category"), ticket.category),
        (tr("Tags"), ", ".join(ticket.tags)),
    ]))
    if step is not None:
        body.append(text(_step_line(step, tz, now), color="attention" if step.overdue(now) else "accent",
                         weight="Bolder"))
    if ticket.description:
        body.append(text(literal(_excerpt(ticket.description)), subtle=True))
    body += similar_section(similar)
    buttons = [*(actions or []), *([open_url(tr("Open in Odoo"), ticket.url)] if ticket.url else [])]
    return card(body, buttons or None)


def _step_line(step: NextStep, tz: ZoneInfo, now: datetime) -> str:
    due = when(step.due, tz, now)
    if step.overdue(now):
        return tr("Overdue: {what} by {due}", what=step.what, due=due)
    return tr("Next: {what} by {due}", what=step.what, due=due) if step.due else tr("Next: {what}", what=step.what)


def ticket_list_card(title: str, tickets: list[tuple[Ticket, NextStep | None]], profile: ProcessProfile, *,
                     tz: ZoneInfo, now: datetime) -> dict[str, Any]:
    body: list[dict[str, Any]] = [text(title, size="Medium", weight="Bolder")]
    if not tickets:
        body.append(text(tr("No tickets."), subtle=True))
    for ticket, step in tickets:
        owner = ticket.owner.name if ticket.owner else tr("unassigned")
        due = ""
        if step is not None and step.due is not None:
            said = {"what": step.what.lower(), "due": when(step.due, tz, now)}
            late = step.overdue(now)
            due = " · " + (tr("OVERDUE {what} by {due}", **said) if late else tr("{what} by {due}", **said))
        body.append({
            "type": "Container", "separator": True, "spacing": "Small",
            "selectAction": open_url(tr("Open"), ticket.url) if ticket.url else None,
            "items": [
                text(f"**{ticket.label}** {literal(ticket.title)}", wrap=True),
                text(f"{profile.classes[ticket.cos].label} · {literal(ticket.stage)} · {literal(owner)}{due}",
                     subtle=True, spacing="None", color="attention" if step and step.overdue(now) else None),
            ],
        })
        if body[-1]["selectAction"] is None:
            del body[-1]["selectAction"]
    return card(body)
