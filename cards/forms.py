"""Forms opened by a command typed without its arguments (Action.Submit back to the same command)."""

from __future__ import annotations

from typing import Any

from bot.process import ProcessProfile
from cards.elements import card, submit, text, text_input


def new_ticket_form(profile: ProcessProfile) -> dict[str, Any]:
    types = ", ".join(profile.ticket_types)
    return card(
        [
            text("Log a new ticket", size="Large", weight="Bolder"),
            text("The class of service follows from the users affected and the deadline.", subtle=True),
            text_input("title", "Title", placeholder="What is wrong, in a few words", required=True,
                       max_length=200),
            text_input("description", "Description", placeholder="What the customer reported", multiline=True),
            text_input("users", "Users affected", placeholder="e.g. 15"),
            text_input("customer", "Customer email", placeholder="name@example.com"),
            text_input("deadline", "Deadline (if any)", placeholder="tomorrow@09:00 or 2025-01-30 09:00"),
            text_input("type", "Type", placeholder=types),
        ],
        [submit("Log ticket", {"command": "new"}, style="positive")],
    )
