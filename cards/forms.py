"""Forms opened by a command typed without its arguments (Action.Submit back to the same command), and the dialogs
of the message actions (a message's "..." menu: Create ticket, Add to ticket; their Action.Submit goes back to the
dialog's own action)."""

from __future__ import annotations

from typing import Any

from bot.i18n import tr
from bot.payloads import AddToTicket, CommandForm, TicketFromMessage
from bot.process import ProcessProfile
from bot.wording import literal
from cards.elements import card, choice_input, submit, text, text_input, toggle


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


def ticket_from_message_form(profile: ProcessProfile, form: TicketFromMessage, *, author: str, problem: str = "",
                             service_class: str = "") -> dict[str, Any]:
    """The new-ticket form of a message's "Create ticket", filled in with `form` (from the message, or as the agent
    left it); `problem`: why it was not logged yet; `service_class`: what the inputs make of it (Check)."""
    body = [text(tr("Create a ticket from this message"), size="Large", weight="Bolder"),
            text(tr("From a message by {author}. The class of service follows from the users affected and the "
                    "deadline.", author=literal(author)), subtle=True)]
    if problem:
        body.append(text(problem, color="Attention"))
    if service_class:
        body.append(text(tr("These details make it {label}.", label=service_class), weight="Bolder"))
    body += [
        text_input("title", tr("Title"), placeholder=tr("What is wrong, in a few words"), required=True,
                   max_length=200, value=form.title),
        text_input("description", tr("Description"), multiline=True, value=form.description),
        text_input("users", tr("Users affected"), placeholder=tr("e.g. 15"), value=form.users),
        text_input("customer", tr("Customer email"), placeholder=tr("name@example.com"), value=form.customer),
        text_input("deadline", tr("Deadline (if any)"), placeholder=tr("tomorrow@09:00 or 2025-01-30 09:00"),
                   value=form.deadline),
        text_input("type", tr("Type"), placeholder=", ".join(profile.ticket_types), value=form.type),
    ]
    return card(body, [submit(tr("Log ticket"), {}, style="positive"),
                       submit(tr("Check the class of service"), TicketFromMessage(check="yes").data())])


def add_to_ticket_form(open_tickets: list[tuple[str, str]], form: AddToTicket, *, author: str,
                       problem: str = "") -> dict[str, Any]:
    """The dialog of a message's "Add to ticket": an open ticket to pick (typing filters them by number or words)
    or its number, and whether the customer sees the message."""
    body = [text(tr("Add this message to a ticket"), size="Large", weight="Bolder"),
            text(tr("From a message by {author}. It goes to the ticket's chatter with a link back to it.",
                    author=literal(author)), subtle=True)]
    if problem:
        body.append(text(problem, color="Attention"))
    if open_tickets:
        body.append(choice_input("ticket", tr("Open ticket"), open_tickets, value=form.ticket, filtered=True))
    body += [text_input("number", tr("Or the ticket's number"), placeholder=tr("e.g. 42"), value=form.number),
             toggle("visible", tr("Send it to the customer too (else an internal note)"), on=form.to_customer)]
    return card(body, [submit(tr("Add to ticket"), {}, style="positive")])
