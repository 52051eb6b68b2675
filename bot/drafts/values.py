"""What a template is filled with: the ticket, what its notes say, who writes and how often the customer
hears from us, worded in the draft's language. Pure: built from the ticket's history read from Odoo.

A template sees these names (profiles/templates/README.md lists them for the people who edit templates):
`ticket` (number, id, title, description, class_key, class_name, kind, stage, users, deadline, reported, url),
`customer`, `agent`, `team`, `lang`, `update_every`, `message`, `cause_found`, `last_update`, `resolution`,
`escalated_to` (a list of team names); a draft for management also `diagnosis`, `root_cause` and `decision`.
Internal notes (the diagnosis, the root cause) never reach a customer's draft: its template has no name for them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.chatter_words import BOT_AUTHOR
from bot.drafts.model import RULES, DraftKind, Recipient
from bot.i18n import speaking, spoken_duration, tr
from bot.insights.findings import root_cause
from bot.insights.model import TicketHistory
from bot.insights.timeline import EventKind, escalations, events
from bot.management.model import open_decision
from bot.process import ProcessProfile, update_interval


@dataclass(frozen=True)
class TicketValues:
    id: int
    number: str  # HT00005 (or #5 where Odoo has no numbers)
    title: str
    description: str  # the report, without the bot's facts block
    class_key: str  # standard | priority | expedite | deadline
    class_name: str  # the profile's label: "Standard"
    kind: str  # what was reported (the profile's ticket types: incident, bug, request, feature), "" when not said
    stage: str  # the Odoo stage's name
    users: int | None  # users affected, when known
    deadline: str  # in the draft's language and the agent's time zone; "" without one
    reported: str  # likewise
    url: str


def template_values(history: TicketHistory, profile: ProcessProfile, kind: DraftKind, *, language: str, agent: str,
                    tz: ZoneInfo, now: datetime, message: str = "") -> dict[str, Any]:
    """The names the template of `kind` may use. Words the bot adds (durations, dates) are in `language`. A draft for
    the team's own managers may read what the internal notes say; a customer's may not."""
    ticket = history.ticket
    timeline = events(history)
    diagnoses = [e.text for e in timeline if e.kind is EventKind.DIAGNOSIS]
    updates = [e.text for e in timeline if e.kind in (EventKind.ACKNOWLEDGED, EventKind.CUSTOMER_UPDATE)
               and e.who != BOT_AUTHOR]
    resolutions = [e.text for e in timeline if e.kind is EventKind.RESOLVED]
    teams = list(dict.fromkeys(record.team for record in escalations(timeline)))
    deadline = ticket.facts.deadline
    with speaking(language):
        try:
            cadence = spoken_duration(update_interval(ticket.cos, profile, now=now, deadline=deadline))
        except ValueError:  # a Fixed Deadline ticket without its deadline: no cadence to promise
            cadence = ""
        values = TicketValues(
            id=ticket.id, number=ticket.label, title=ticket.title, description=ticket.description,
            class_key=ticket.cos.value, class_name=profile.classes[ticket.cos].label, kind=ticket.facts.kind.lower(),
            stage=ticket.stage,
            users=ticket.facts.users, deadline=_moment(deadline, tz), reported=_moment(ticket.facts.reported, tz),
            url=ticket.url)
    cause = root_cause(diagnoses)
    shared = {"ticket": values, "customer": ticket.customer.name if ticket.customer else "", "agent": agent,
              "team": profile.title, "lang": language, "update_every": cadence, "message": message.strip(),
              "cause_found": bool(cause), "last_update": updates[-1] if updates else "",
              "resolution": resolutions[-1] if resolutions else "", "escalated_to": teams}
    if RULES[kind].recipient is not Recipient.MANAGEMENT:
        return shared
    return {**shared, "diagnosis": diagnoses[-1] if diagnoses else "", "root_cause": cause,
            "decision": open_decision(timeline)}


def _moment(moment: datetime | None, tz: ZoneInfo) -> str:
    """`09:00 on 30/01/2025` in the language being spoken, in the agent's time zone."""
    if moment is None:
        return ""
    local = moment.astimezone(tz)
    return tr("{time} on {date}", time=local.strftime("%H:%M"), date=local.strftime("%d/%m/%Y"))
