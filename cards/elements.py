"""Small builders for Adaptive Card 1.5 elements (Teams' limit). Pure: dicts in, dicts out."""

from __future__ import annotations

from typing import Any

from bot.i18n import tr
from bot.wording import literal

SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
VERSION = "1.5"

Element = dict[str, Any]


def card(body: list[Element], actions: list[Element] | None = None) -> dict[str, Any]:
    result: dict[str, Any] = {"type": "AdaptiveCard", "$schema": SCHEMA, "version": VERSION,
                              "msteams": {"width": "Full"}, "body": body}
    if actions:
        result["actions"] = actions
    return result


def text(value: str, *, size: str | None = None, weight: str | None = None, color: str | None = None,
         subtle: bool = False, wrap: bool = True, spacing: str | None = None) -> Element:
    block: Element = {"type": "TextBlock", "text": value, "wrap": wrap}
    for key, option in (("size", size), ("weight", weight), ("color", color), ("spacing", spacing)):
        if option:
            block[key] = option
    if subtle:
        block["isSubtle"] = True
    return block


def facts(pairs: list[tuple[str, str]]) -> Element:
    """Titles are the bot's own labels; a value is data (a name, a stage, a time), so it is shown `literal`:
    pass values as they are, not escaped already. Pairs without a value are left out."""
    return {"type": "FactSet", "facts": [{"title": k, "value": literal(v)} for k, v in pairs if v]}


def open_url(title: str, url: str) -> Element:
    return {"type": "Action.OpenUrl", "title": title, "url": url}


def submit(title: str, data: dict[str, Any], *, style: str | None = None) -> Element:
    action: Element = {"type": "Action.Submit", "title": title, "data": data}
    if style:
        action["style"] = style
    return action


def text_input(id_: str, label: str, *, placeholder: str = "", multiline: bool = False, required: bool = False,
               max_length: int | None = None, value: str = "") -> Element:
    element: Element = {"type": "Input.Text", "id": id_, "label": label, "isMultiline": multiline}
    if value:
        element["value"] = value
    if placeholder:
        element["placeholder"] = placeholder
    if required:
        element["isRequired"] = True
        element["errorMessage"] = tr("{label} is required", label=label)
    if max_length:
        element["maxLength"] = max_length
    return element


def toggle(id_: str, title: str, *, on: bool = False) -> Element:
    """A yes/no input: its value is "true" or "false"."""
    return {"type": "Input.Toggle", "id": id_, "title": title, "value": "true" if on else "false",
            "valueOn": "true", "valueOff": "false"}


def number_input(id_: str, label: str, *, minimum: int = 0, placeholder: str = "") -> Element:
    element: Element = {"type": "Input.Number", "id": id_, "label": label, "min": minimum}
    if placeholder:
        element["placeholder"] = placeholder
    return element


def choice_input(id_: str, label: str, choices: list[tuple[str, str]], *, value: str = "",
                 filtered: bool = False) -> Element:
    """A choice among `choices` (title, value); `filtered`: a box the person types in to narrow them down."""
    element: Element = {"type": "Input.ChoiceSet", "id": id_, "label": label,
                        "style": "filtered" if filtered else "compact",
                        "choices": [{"title": title, "value": val} for title, val in choices]}
    if value:
        element["value"] = value
    return element
