"""The escalation card a team receives in its channel, re-drawn after every answer. Pure functions.
(Management's view of an incident is `cards/management.py`.)"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.escalation.model import (
    NOBODY_FURTHER,
    REFRESH,
    TEXT_INPUT,
    Answer,
    Escalation,
    EscalationClick,
    Status,
    TicketContext,
)
from bot.i18n import N_, tr
from bot.process import format_duration
from bot.wording import literal, when
from cards.elements import Element, card, facts, open_url, text, text_input

FINDINGS_SHOWN = 6
TOLD_OWNER = {Answer.ACKNOWLEDGE: N_("{who} ({team}) acknowledged the escalation of {ticket}"),
              Answer.NEED_INFO: N_("{who} ({team}) needs more information on the escalation of {ticket}"),
              Answer.RESOLVED: N_("{who} ({team}) resolved the escalation of {ticket}"),
              Answer.DECLINE: N_("{who} ({team}) declined the escalation of {ticket}")}


def execute(title: str, answer: Answer | str, escalation_id: str, *, style: str | None = None) -> Element:
    """Action.Execute (Universal Actions), falling back to Action.Submit on clients without it."""
    verb = str(answer)
    data = EscalationClick.on_buttons(escalation_id)
    action: Element = {"type": "Action.Execute", "title": title, "verb": verb, "data": data,
                       "fallback": {"type": "Action.Submit", "title": title, "data": {**data, "verb": verb}}}
    if style:
        action["style"] = style
    return action


def _ask(title: str, answer: Answer, escalation_id: str, placeholder: str) -> Element:
    """A button that opens a text box, then sends the answer with it."""
    return {"type": "Action.ShowCard", "title": title, "card": card(
        [text_input(TEXT_INPUT[answer], title, placeholder=placeholder, multiline=True, required=True,
                    max_length=2000)],
        [execute(tr("Send: {what}", what=title.lower()), answer, escalation_id, style="positive")])}


def acknowledge_button(escalation_id: str) -> Element:
    return execute(tr("Acknowledge"), Answer.ACKNOWLEDGE, escalation_id, style="positive")


def decline_button(escalation_id: str) -> Element:
    return _ask(tr("Decline"), Answer.DECLINE, escalation_id, tr("Why, and who should take it instead?"))


def _status(escalation: Escalation, tz: ZoneInfo, now: datetime) -> list[Element]:
    lines: list[Element] = []
    if escalation.acknowledged_at is not None:
        took = format_duration(escalation.acknowledged_at - escalation.posted_at)
        lines.append(text(tr("Acknowledged by {who} {when} ({took} after it was posted)",
                             who=literal(escalation.acknowledged_by), when=when(escalation.acknowledged_at, tz, now),
                             took=took), color="good", weight="Bolder"))
    status = escalation.status
    said = f": {literal(escalation.answer)}" if escalation.answer else ""
    who = literal(escalation.answered_by)
    if status is Status.OPEN:
        late = now > escalation.ack_due
        waiting = {"team": escalation.team_label, "when": when(escalation.ack_due, tz, now)}
        lines.append(text(tr("Overdue: waiting for the {team} to acknowledge, by {when}", **waiting) if late else
                          tr("waiting for the {team} to acknowledge, by {when}", **waiting),
                          color="attention" if late else "warning", weight="Bolder"))
    elif status is Status.NEED_INFO:
        lines.append(text(tr("{who} needs more information", who=who) + said, color="warning", weight="Bolder"))
    elif status is Status.RESOLVED:
        lines.append(text(tr("Resolved by {who} {when}", who=who, when=when(escalation.answered_at, tz, now)) + said,
                          color="good", weight="Bolder"))
    elif status is Status.DECLINED:
        lines.append(text(tr("Declined by {who}", who=who) + said, color="attention", weight="Bolder"))
    elif status is Status.PASSED_ON:
        lines.append(text(tr("Nobody acknowledged it in time: passed on to the {team}",
                             team=escalation.passed_to or tr(NOBODY_FURTHER)), color="attention", weight="Bolder"))
    return lines


def escalation_card(escalation: Escalation, *, tz: ZoneInfo, now: datetime, notice: str = "") -> dict[str, Any]:
    """`notice`: said to the person who clicked (e.g. "already acknowledged by ..."), above the rest; a name
    in it is to be `literal` already."""
    ticket = escalation.ticket
    body: list[Element] = [text(notice, color="attention", weight="Bolder")] if notice else []
    if escalation.previous:
        body.append(text(tr("The {team} did not acknowledge it in time: it is yours now.", team=escalation.previous),
                         color="attention"))
    body += [
        text(tr("Escalation to the {team}", team=escalation.team_label), weight="Bolder", color="attention",
             spacing="None"),
        text(f"{ticket.label} · {literal(ticket.title)}", size="Large", weight="Bolder"),
        facts([
            (tr("Class of service"), ticket.service_class),
            (tr("Users affected"), str(ticket.users) if ticket.users is not None else tr("not known")),
            (tr("Customer"), ticket.customer or tr("not set")),
            (tr("Deadline"), when(ticket.deadline, tz, now)),
            (tr("Owner"), ticket.owner or tr("nobody yet")),
            (tr("Stage"), ticket.stage),
            (tr("Escalated by"), f"{escalation.escalated_by}, {when(escalation.posted_at, tz, now)}"),
        ]),
    ]
    if escalation.reason:
        body += [text(tr("Impact and urgency"), weight="Bolder"), text(literal(escalation.reason))]
    if ticket.description:
        body += [text(tr("Reported"), weight="Bolder"), text(literal(ticket.description), subtle=True)]
    if ticket.findings:
        body.append(text(tr("What was tried, errors and metrics (diagnosis notes)"), weight="Bolder"))
        body += [{"type": "TextBlock", "text": literal(finding), "wrap": True, "fontType": "Monospace", "size": "Small"}
                 for finding in ticket.findings[-FINDINGS_SHOWN:]]
    body += _status(escalation, tz, now)
    actions: list[Element] = []
    if not escalation.finished:
        if escalation.status is not Status.ACKNOWLEDGED:
            actions.append(acknowledge_button(escalation.id))
        if escalation.status is not Status.NEED_INFO:
            actions.append(_ask(tr("Need info"), Answer.NEED_INFO, escalation.id, tr("What do you need from support?")))
        actions += [_ask(tr("Resolved"), Answer.RESOLVED, escalation.id, tr("What was done?")),
                    decline_button(escalation.id)]
    if ticket.url:
        actions.append(open_url(tr("Open in Odoo"), ticket.url))
    result = card(body, actions or None)
    # every viewer's client asks for the current state when it shows the card (Universal Actions)
    result["refresh"] = {"action": {"type": "Action.Execute", "verb": REFRESH,
                                    "data": EscalationClick.on_buttons(escalation.id)}, "userIds": []}
    return result


def escalation_summary_card(escalations: list[Escalation], *, tz: ZoneInfo, now: datetime) -> dict[str, Any]:
    """For the agent who escalated: where it went and by when the team must acknowledge."""
    ticket = escalations[0].ticket
    body: list[Element] = [text(tr("{ticket} escalated", ticket=ticket.label), size="Large", weight="Bolder")]
    body += [text(tr("{team}: must acknowledge by {when}", team=e.team_label, when=when(e.ack_due, tz, now)))
             for e in escalations]
    body.append(text(tr("I will tell you when they answer, and pass it on if nobody does."), subtle=True))
    return card(body, [open_url(tr("Open in Odoo"), ticket.url)] if ticket.url else None)


def answered_card(*, ticket: str, team: str, who: str, answer: Answer, said: str) -> dict[str, Any]:
    """What the owner of `ticket` (its label) is told when `who` of the `team` answered its escalation (`said`: what
    they wrote)."""
    return card([text(tr(TOLD_OWNER[answer], who=literal(who), team=team, ticket=ticket)
                      + (f": {literal(said)}" if said else "."))])


def not_acknowledged_card(*, ticket: str, team: str, passed_to: str) -> dict[str, Any]:
    """What the owner of `ticket` (its label) is told when the `team` let its escalation's time to acknowledge go
    by: passed on to `passed_to`, or nobody is left up the chain ("")."""
    if passed_to:
        return card([text(tr("The {team} did not acknowledge the escalation of {ticket} in time: passed on to the "
                             "{next}.", team=team, ticket=ticket, next=passed_to))])
    return card([text(tr("The {team} did not acknowledge the escalation of {ticket} in time, and there is nobody "
                         "further up the chain to pass it to: please chase them.", team=team, ticket=ticket))])


def standby_card(ticket: TicketContext, *, team: str, by: str, note: str, at: datetime, tz: ZoneInfo,
                 now: datetime) -> dict[str, Any]:
    """A heads-up in a team's channel: a ticket it may be asked to take. No buttons to answer and no clock: an
    escalation would come as its own card."""
    body: list[Element] = [
        text(tr("Heads-up for the {team}: on standby", team=team), weight="Bolder", color="warning"),
        text(f"{ticket.label} · {literal(ticket.title)}", size="Large", weight="Bolder"),
        facts([
            (tr("Class of service"), ticket.service_class),
            (tr("Users affected"), str(ticket.users) if ticket.users is not None else tr("not known")),
            (tr("Owner"), ticket.owner or tr("nobody yet")),
            (tr("Stage"), ticket.stage),
            (tr("Put on standby by"), f"{literal(by)}, {when(at, tz, now)}"),
        ]),
    ]
    if note:
        body.append(text(literal(note)))
    body.append(text(tr("Nothing to do yet: if support needs you, an escalation comes as its own card, with a time "
                        "to acknowledge it."), subtle=True))
    return card(body, [open_url(tr("Open in Odoo"), ticket.url)] if ticket.url else None)
