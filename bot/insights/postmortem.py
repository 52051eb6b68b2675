"""The post-incident review of one ticket, assembled from its own history in Odoo, and its Markdown text.

The timeline, the root cause and the service levels come from the chatter (see `timeline`); what
went well and what to improve are the service-level checks, met and missed, plus the follow-up
(confirmation, root cause recorded, reminders snoozed). The action items are suggestions with
an owner and a due date left for the review meeting to fill in.

The review is said in the language being spoken; the Markdown, posted to Odoo's chatter, is written from a
review built in English (`bot/handlers/insights.py`), like every note the bot writes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.chatter_words import POSTMORTEM_HEADING
from bot.i18n import N_, tr
from bot.insights.findings import root_cause
from bot.insights.model import TicketHistory
from bot.insights.service_levels import Check, Measure, checks, rounded
from bot.insights.timeline import Event, EventKind, Milestones, events, milestones
from bot.process import ProcessProfile, Stage
from bot.tickets import Ticket
from bot.wording import day_and_time

TIMELINE_EXCERPT = 160
SNOOZES_WORTH_A_LOOK = 2

_FOLLOW_UPS = {
    Measure.RECEPTION: N_("Find out why the report took longer than the target to reach Odoo"),
    Measure.ACKNOWLEDGMENT: N_("Find out what delayed the first answer to the customer"),
    Measure.UPDATES: N_("Agree who keeps the customer updated, and how often, during an incident like this one"),
    Measure.ESCALATION: N_("Check how the escalation team is alerted and who covers it"),
    Measure.DEADLINE: N_("Review how the work was planned against the deadline"),
}


@dataclass(frozen=True)
class PostMortem:
    ticket: Ticket
    class_label: str
    moments: Milestones
    timeline: tuple[Event, ...]
    root_cause: str  # "" when no note states one
    findings: tuple[Event, ...]  # the diagnosis notes
    went_well: tuple[str, ...]
    to_improve: tuple[str, ...]
    action_items: tuple[str, ...]

    @property
    def draft(self) -> bool:
        """Written while the ticket is still open."""
        return not self.ticket.closed

    @property
    def impact(self) -> str:
        users = self.ticket.facts.users
        if users is None:
            affected = tr("Users affected not recorded")
        else:
            affected = tr("{count} user affected", count=users) if users == 1 else \
                tr("{count} users affected", count=users)
        return f"{affected} · {self.class_label}"


def build_postmortem(history: TicketHistory, profile: ProcessProfile, *, now: datetime) -> PostMortem:
    ticket = history.ticket
    timeline = events(history)
    moments = milestones(history, timeline)
    measured = checks(history, timeline, moments, profile, now)
    findings = tuple(e for e in timeline if e.kind is EventKind.DIAGNOSIS)
    cause = root_cause(e.text for e in findings)
    snoozes = sum(1 for e in timeline if e.kind is EventKind.SNOOZED)
    return PostMortem(
        ticket=ticket, class_label=profile.classes[ticket.cos].label, moments=moments, timeline=tuple(timeline),
        root_cause=cause, findings=findings,
        went_well=tuple(_went_well(measured, moments, cause)),
        to_improve=tuple(_to_improve(ticket, measured, moments, cause, snoozes)),
        action_items=tuple(_action_items(ticket, measured, cause)),
    )


def _went_well(measured: Sequence[Check], moments: Milestones, cause: str) -> list[str]:
    found = [c.text for c in measured if c.met]
    if moments.confirmed:
        found.append(tr("The customer confirmed the fix before the ticket was closed"))
    if cause:
        found.append(tr("The root cause was found and recorded"))
    return found


def _to_improve(ticket: Ticket, measured: Sequence[Check], moments: Milestones, cause: str,
                snoozes: int) -> list[str]:
    found = [c.text for c in measured if not c.met]
    if ticket.closed and not moments.confirmed and ticket.stage_key is not Stage.CANCELLED:
        found.append(tr("Closed without the customer's confirmation"))
    if not cause:
        found.append(tr("No root cause recorded in the diagnosis notes"))
    if snoozes >= SNOOZES_WORTH_A_LOOK:
        found.append(tr("Reminders were snoozed {count} times", count=snoozes))
    return found


def _action_items(ticket: Ticket, measured: Sequence[Check], cause: str) -> list[str]:
    missed = dict.fromkeys(c.measure for c in measured if not c.met)
    items = [tr(_FOLLOW_UPS[measure]) for measure in missed]
    items.append(tr("Prevent a recurrence of: {cause}", cause=cause) if cause else
                 tr("Record the root cause (`/ticket diag {id} Root cause: ...`)", id=ticket.id))
    items.append(tr("Decide whether this needs a knowledge-base article or a runbook"))
    return items


def stamps(moments: Sequence[datetime], tz: ZoneInfo) -> list[str]:
    """Times in the reader's zone: with the date for the first of each day ("Wed 29 Jan 15:33"), then "15:37"."""
    shown: list[str] = []
    day = None
    for moment in moments:
        local = moment.astimezone(tz)
        shown.append(local.strftime("%H:%M") if local.date() == day else day_and_time(local))
        day = local.date()
    return shown


def one_line(text: str, limit: int = TIMELINE_EXCERPT) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def event_line(event: Event) -> str:
    """"Acknowledged (Phạm Quốc Huy): We are on it" without the time."""
    who = f" ({event.who})" if event.who else ""
    said = f": {one_line(event.text)}" if event.text else ""
    return f"{tr(event.kind.value)}{who}{said}"


def postmortem_markdown(review: PostMortem, *, tz: ZoneInfo) -> str:
    """The post-mortem as a Markdown document (posted as an Odoo note and offered on the card)."""
    ticket, moments = review.ticket, review.moments
    lines = [f"{POSTMORTEM_HEADING}: {ticket.label} · {ticket.title}", ""]
    if review.draft:
        lines += [f"Draft: the ticket is still open ({ticket.stage}).", ""]
    lines += [f"- {name}: {value}" for name, value in _summary(review) if value]
    lines += ["", "## Impact", _impact_sentence(review, tz)]
    lines += ["", f"## Timeline ({tz.key})"]
    lines += [f"- {at} · {event_line(e)}" for at, e in zip(stamps([e.at for e in review.timeline], tz),
                                                          review.timeline, strict=True)]
    lines += ["", "## Root cause", review.root_cause or "Not recorded."]
    if review.findings:
        lines += ["", "## Diagnosis notes"]
        for at, finding in zip(stamps([f.at for f in review.findings], tz), review.findings, strict=True):
            first, *rest = finding.text.splitlines() or [""]
            lines.append(f"- {at} ({finding.who}): {first}")
            lines += [f"  {line}" for line in rest]
    lines += ["", "## What went well", *_bullets(review.went_well)]
    lines += ["", "## What to improve", *_bullets(review.to_improve)]
    lines += ["", "## Action items"]
    lines += [f"- [ ] {item} (owner: ___, due: ___)" for item in review.action_items]
    lines.append("- [ ] ___ (owner: ___, due: ___)")
    if moments.resolved is None and not review.draft:
        lines += ["", "The ticket was closed without a resolution."]
    return "\n".join(lines)


def _summary(review: PostMortem) -> list[tuple[str, str]]:
    ticket = review.ticket
    users = ticket.facts.users
    return [
        ("Class of service", f"{review.class_label} ({ticket.priority_label or ticket.priority} priority)"),
        ("Users affected", str(users) if users is not None else "not recorded"),
        ("Customer", ticket.customer.name if ticket.customer else ""),
        ("Owner", ticket.owner.name if ticket.owner else ""),
        ("Type", ticket.facts.kind),
        ("Category", ticket.category),
        ("Tags", ", ".join(ticket.tags)),
        ("Status", ticket.stage),
    ]


def _impact_sentence(review: PostMortem, tz: ZoneInfo) -> str:
    moments = review.moments
    reported, *rest = stamps([moments.reported, *(m for m in (moments.resolved,) if m)], tz)
    sentence = f"{review.impact}. Reported {reported}"
    if moments.resolved is not None and moments.to_resolve is not None:
        sentence += f"; resolved {rest[0]}, {rounded(moments.to_resolve)} after the report"
    else:
        sentence += "; not resolved yet" if review.draft else ""
    if review.ticket.facts.deadline is not None:
        [deadline] = stamps([review.ticket.facts.deadline], tz)
        sentence += f"; deadline {deadline}"
    return sentence + "."


def _bullets(items: Sequence[str]) -> list[str]:
    return [f"- {item}" for item in items] or ["- Nothing recorded."]
