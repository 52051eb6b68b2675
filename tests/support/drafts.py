"""Reading an e-mail draft's card (`/ticket email`) as a person does: its id, and its text with the blanks the
template left (`[...]`) written in, ready for the Edit box's **Fill in and post**."""

from __future__ import annotations

from typing import Any

from bot.drafts.model import SUBJECT_INPUT, TEXT_INPUT, fill_ins
from tests.support.teams import card_elements


def draft_id(card: dict[str, Any]) -> str:
    """The draft id every button of the card carries."""
    ids = {str(e["data"]["draft"]) for e in card_elements(card) if e.get("type") == "Action.Execute"}
    [found] = ids
    return found


def edit_box(card: dict[str, Any]) -> dict[str, str]:
    """The Edit box's subject and text as the card fills them."""
    return {str(e["id"]): str(e.get("value", "")) for e in card_elements(card)
            if e.get("type") == "Input.Text" and e["id"] in (SUBJECT_INPUT, TEXT_INPUT)}


def filled_in(card: dict[str, Any], words: str = "the agent's own words") -> dict[str, str]:
    """The Edit box's subject and text with every blank written in (`words`)."""
    box = edit_box(card)
    for blank in fill_ins(box[TEXT_INPUT]):
        box[TEXT_INPUT] = box[TEXT_INPUT].replace(blank, words)
    return box
