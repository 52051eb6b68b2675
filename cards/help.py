"""`/ticket help`: built from the command registry, so help never drifts from the code."""

from __future__ import annotations

from typing import Any

from bot.i18n import tr
from cards.elements import card, text


def help_card(commands: list[tuple[str, str]]) -> dict[str, Any]:
    """`commands`: (usage, summary) pairs in the order they should be read (the summaries already said)."""
    body = [text(tr("Ticket commands"), size="Large", weight="Bolder"),
            text(tr("Type them here, or `@mention` me in a channel. Ids: `42`, `#42` or `HT00042`."), subtle=True)]
    for usage, summary in commands:
        body.append(text(f"`{usage}`", weight="Bolder", spacing="Medium"))
        body.append(text(summary, spacing="None"))
    body.append(text(tr("`/ticket help <command>` tells more about one command."), subtle=True, spacing="Large"))
    return card(body)


def command_help_card(usage: str, doc: str) -> dict[str, Any]:
    return card([text(f"`{usage}`", weight="Bolder"), text(doc)])
