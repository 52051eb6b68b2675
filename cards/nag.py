"""The reminder ("nag") card: the ticket, why it is late, and one click to act."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.i18n import tr
from bot.payloads import CommandForm
from bot.process import ProcessProfile
from bot.reminders.policy import NextStep
from bot.tickets import Ticket
from cards.elements import card, submit, text_input
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
