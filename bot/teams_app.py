"""What Teams shows about the app before anyone talks to the bot: its name, its descriptions, the
command menu and the message actions (a message's "..." menu), in each language the bot speaks.

The menu's descriptions are the commands' own help summaries (`/ticket help` says the same), so the menu
never drifts from the code and is translated where the help is. `manifest/write_texts.py` writes them into
the Teams app manifest (English) and its localization files (`manifest/<language>.json`).
"""

from __future__ import annotations

from collections.abc import Mapping

from bot.context import Command
from bot.i18n import N_, speaking, tr

NAME_SHORT = N_("Ticket Desk")
NAME_FULL = N_("Ticket Desk: the IT support desk on Odoo, run from Teams")
DESCRIPTION_SHORT = N_("Log, move and resolve IT support tickets in Odoo from a Teams chat.")
DESCRIPTION_FULL = N_(
    "Support agents type ticket commands in a 1:1 chat with the bot, or @mention it in a channel or group chat. "
    "The bot creates and moves the tickets in Odoo, writes every step to the ticket's chatter and answers with a "
    "card that says what is due next: the initial response, the customer updates, the resolution and its "
    "confirmation. Type 'ticket help' for every command.")
# The commands in the menu, in its order (Teams shows at most 10 per scope).
MENU = ("new", "show", "list", "ack", "note", "update", "assign", "resolve", "confirm", "help")
# The message actions (the manifest's composeExtensions, bot/handlers/messages.py): id -> title, description.
MESSAGE_ACTIONS = {
    "createTicket": (N_("Create ticket"), N_("Log a ticket in Odoo from this message, filled in from it.")),
    "addToTicket": (N_("Add to ticket"), N_("Add this message to an open ticket's chatter in Odoo, with a link back.")),
}


def menu_title(name: str) -> str:
    """What the person picks in the menu, and what Teams types for them: the command without its slash."""
    return f"ticket {name}"


def listing(commands: Mapping[str, Command], language: str) -> dict[str, str]:
    """The app's texts in `language`: `name.short`, `name.full`, `description.short`, `description.full`,
    `menu.<command>` for each command of MENU (its help summary as plain text: a menu shows no Markdown), and
    `action.<id>.title` and `.description` for each message action."""
    with speaking(language):
        texts = {"name.short": tr(NAME_SHORT), "name.full": tr(NAME_FULL),
                 "description.short": tr(DESCRIPTION_SHORT), "description.full": tr(DESCRIPTION_FULL)}
        texts |= {f"menu.{name}": tr(commands[name].summary).replace("`", "") for name in MENU}
        for action, (title, description) in MESSAGE_ACTIONS.items():
            texts |= {f"action.{action}.title": tr(title), f"action.{action}.description": tr(description)}
    return texts
