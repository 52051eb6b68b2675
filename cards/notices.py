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
