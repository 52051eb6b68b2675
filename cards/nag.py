"""The reminder ("nag") card: the ticket, why it is late, and one click to act."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.i18n import joined, spoken_duration, tr
from bot.payloads import CommandForm
from bot.process import ProcessProfile, update_interval
from bot.reminders.policy import Kind, NextStep, not_logged_yet
from bot.tickets import Ticket
from bot.wording import literal, when
from cards.elements import card, open_url, submit, text, text_input
from cards.ticket import ticket_card

SNOOZE = "15m"


def nag_card(ticket: Ticket, profile: ProcessProfile, *, reason: str, tz: ZoneInfo, now: datetime,
             step: NextStep | None, take_it: bool = False) -> dict[str, Any]:
    """`take_it`: a report nobody logged yet, posted to the support channel: one click makes the
    clicker its owner (instead of posting an update)."""
    snooze = submit(tr("Snooze 15 min"), CommandForm(command="snooze", ticket=str(ticket.id), text=SNOOZE).data())
    if take_it:
        take = submit(tr("Take it"), CommandForm(command="assign", ticket=str(ticket.id), text="me").data(),
                      style="positive")
        return ticket_card(ticket, profile, tz=tz, now=now, step=step, alert=reason, actions=[take, snooze])
    post_update = {
        "type": "Action.ShowCard",
        "title": tr("Post update"),
        "card": card(
            [text_input("text", tr("Update for the customer"), placeholder=tr("Where things stand, even with no news"),
                        multiline=True, required=True)],
            [submit(tr("Send to the customer"), CommandForm(command="update", ticket=str(ticket.id)).data(),
                    style="positive")],
        ),
    }
    return ticket_card(ticket, profile, tz=tz, now=now, step=step, alert=reason, actions=[post_update, snooze])


TITLE_ON_A_LINE = 80  # characters of a ticket's title on a card listing reminders (a card holds 28 KB at most)


def nag_digest_card(lines: list[tuple[Ticket, str, bool]], *, part: int, parts: int) -> dict[str, Any]:
    """Several reminders for one reader on one card: a line per ticket (its reasons: one per reminder of it), with
    the buttons of its own card (Post update or Take it, Snooze, Open in Odoo), most important first. Each ticket's
    update has its own input, `text-<ticket id>` (a card's inputs are all sent with any of its buttons)."""
    tickets: dict[int, tuple[Ticket, list[str], bool]] = {}
    for ticket, reason, take_it in lines:
        _, reasons, taken = tickets.setdefault(ticket.id, (ticket, [], False))
        reasons.append(reason)
        tickets[ticket.id] = (ticket, reasons, taken or take_it)
    title = (tr("{count} reminders are due", count=len(lines)) if parts == 1
             else tr("{count} reminders are due (card {part} of {parts})", count=len(lines), part=part, parts=parts))
    body: list[dict[str, Any]] = [text(title, size="Medium", weight="Bolder")]
    for ticket, reasons, take_it in tickets.values():
        ticket_id = str(ticket.id)
        snooze = submit(tr("Snooze 15 min"), CommandForm(command="snooze", ticket=ticket_id, text=SNOOZE).data())
        if take_it:
            first = submit(tr("Take it"), CommandForm(command="assign", ticket=ticket_id, text="me").data(),
                           style="positive")
        else:
            first = {"type": "Action.ShowCard", "title": tr("Post update"), "card": {
                "type": "AdaptiveCard",
                # not required (no error text to carry: 20 fit in 28 KB): sent empty, the command asks for the text
                "body": [text_input(f"text-{ticket_id}", tr("Update for the customer"), multiline=True)],
                "actions": [submit(tr("Send to the customer"), CommandForm(command="update", ticket=ticket_id).data(),
                                   style="positive")]}}
        shown = ticket.title if len(ticket.title) <= TITLE_ON_A_LINE else ticket.title[:TITLE_ON_A_LINE - 1] + "…"
        buttons = [first, snooze, *([open_url(tr("Open in Odoo"), ticket.url)] if ticket.url else [])]
        body.append({"type": "Container", "separator": True, "items": [
            text(f"{ticket.label} · {literal(shown)}", weight="Bolder"),
            *(text(reason, color="attention", spacing="None") for reason in reasons),
            {"type": "ActionSet", "actions": buttons},
        ]})
    return card(body)


def nag_reason(ticket: Ticket, profile: ProcessProfile, kind: Kind, *, misses: int, since: datetime | None, share: int,
               tz: ZoneInfo, now: datetime) -> str:
    """Why a reminder of `kind` is due, the `misses`-th in a row (`since`: the moment it counts from; `share`: the
    percentage of the time to the deadline passed), its times in the reader's zone and language."""
    reason = _reason(ticket, profile, kind, since=since, share=share, tz=tz, now=now)
    return tr("{reason} (reminder {count})", reason=reason, count=misses) if misses > 1 else reason


def _reason(ticket: Ticket, profile: ProcessProfile, kind: Kind, *, since: datetime | None, share: int, tz: ZoneInfo,
            now: datetime) -> str:
    label = ticket.label
    if kind is Kind.RECEPTION:
        missing = joined([tr(what) for what in not_logged_yet(ticket, profile)])
        reported = when(ticket.facts.reported or ticket.created, tz, now)
        return tr("{ticket} came in {reported} and is not logged yet: it needs {missing} (step 1: within "
                  "{within} of the report).", ticket=label, reported=reported, missing=missing,
                  within=spoken_duration(profile.reception_within))
    if kind is Kind.ACK:
        return tr("{ticket} is not acknowledged yet: the customer is waiting since {since}.", ticket=label,
                  since=when(ticket.created, tz, now))
    if kind is Kind.UPDATE:
        every = update_interval(ticket.cos, profile, now=now, deadline=ticket.facts.deadline)
        return tr("The customer of {ticket} is due an update ({service_class}: at least every {every}, even with "
                  "no news).", ticket=label, service_class=profile.classes[ticket.cos].label,
                  every=spoken_duration(every))
    if kind is Kind.DEADLINE:
        deadline = when(ticket.facts.deadline, tz, now)
        return (tr("{ticket}: the deadline {deadline} has come.", ticket=label, deadline=deadline) if share >= 100
                else tr("{ticket}: {share}% of the time to the deadline ({deadline}) has passed.", ticket=label,
                        share=share, deadline=deadline))
    if kind is Kind.FOLLOW_UP:
        return tr("{ticket} was resolved {when}: has the customer confirmed it works?", ticket=label,
                  when=when(since, tz, now))
    return tr("The customer wrote on {ticket} {when} and nobody has answered yet.", ticket=label,
              when=when(since, tz, now))
