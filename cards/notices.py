"""Short cards for refusals and errors: what went wrong and how to write it right."""

from __future__ import annotations

from typing import Any

from cards.elements import card, text


def problem_card(message: str, *, hint: str = "", reference: str = "") -> dict[str, Any]:
    body = [text(message, color="attention", weight="Bolder")]
    if hint:
        body.append(text(hint))
    if reference:
        body.append(text(f"Reference: {reference}", subtle=True, size="Small"))
    return card(body)


def queued_card(command: str, *, landed: bool | None = None, waiting: int = 0) -> dict[str, Any]:
    """A command kept while Odoo was not answering; `landed`: Odoo is back and it was applied (True)
    or refused (False); its answer follows."""
    if landed is not None:
        said = "your command was applied." if landed else "your command was NOT applied:"
        return card([text(f"Odoo is back: {said}", color="good" if landed else "attention", weight="Bolder"),
                      text(f"`{command}`", subtle=True)])
    ahead = f" ({waiting} before it, applied in order)" if waiting else ""
    return card([text("Odoo is not answering right now. Your command is saved and will be applied as soon as "
                      f"Odoo is back{ahead}; I will tell you here.", color="warning", weight="Bolder"),
                 text(f"`{command}`", subtle=True)])
