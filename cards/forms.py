"""Forms opened by a command typed without its arguments (Action.Submit back to the same command)."""

from __future__ import annotations

from typing import Any

from bot.i18n import tr
from bot.payloads import CommandForm
from bot.process import ProcessProfile
from cards.elements import card, submit, text, text_input


def new_ticket_form(profile: ProcessProfile) -> dict[str, Any]:
    types = ", ".join(profile.ticket_types)
    return card(
        [
            text(tr("Log a new ticket"), size="Large", weight="Bolder"),
            text(tr("The class of service follows from the users affected and the deadline."), subtle=True),
            text_input("title", tr("Title"), placeholder=tr("What is wrong, in a few words"), required=True,
                       max_length=200),
            text_input("description", tr("Description"), placeholder=tr("What the customer reported"),
                       multiline=True),
            text_input("users", tr("Users affected"), placeholder=tr("e.g. 15")),
            text_input("customer", tr("Customer email"), placeholder=tr("name@example.com")),
            text_input("deadline", tr("Deadline (if any)"), placeholder=tr("tomorrow@09:00 or 2025-01-30 09:00")),
            text_input("type", tr("Type"), placeholder=types),
        ],
        [submit(tr("Log ticket"), CommandForm(command="new").data(), style="positive")],
    )
