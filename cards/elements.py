"""Small builders for Adaptive Card 1.5 elements (Teams' limit). Pure: dicts in, dicts out."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.i18n import N_, tr

SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
VERSION = "1.5"

Element = dict[str, Any]
WEEKDAYS = (N_("Mon"), N_("Tue"), N_("Wed"), N_("Thu"), N_("Fri"), N_("Sat"), N_("Sun"))
MONTHS = (N_("Jan"), N_("Feb"), N_("Mar"), N_("Apr"), N_("May"), N_("Jun"), N_("Jul"), N_("Aug"), N_("Sep"),
          N_("Oct"), N_("Nov"), N_("Dec"))


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
    return {"type": "FactSet", "facts": [{"title": k, "value": v} for k, v in pairs if v]}


def open_url(title: str, url: str) -> Element:
    return {"type": "Action.OpenUrl", "title": title, "url": url}


def submit(title: str, data: dict[str, Any], *, style: str | None = None) -> Element:
    action: Element = {"type": "Action.Submit", "title": title, "data": data}
    if style:
        action["style"] = style
    return action


def text_input(id_: str, label: str, *, placeholder: str = "", multiline: bool = False, required: bool = False,
               max_length: int | None = None) -> Element:
    element: Element = {"type": "Input.Text", "id": id_, "label": label, "isMultiline": multiline}
    if placeholder:
        element["placeholder"] = placeholder
    if required:
        element["isRequired"] = True
        element["errorMessage"] = tr("{label} is required", label=label)
    if max_length:
        element["maxLength"] = max_length
    return element


def number_input(id_: str, label: str, *, minimum: int = 0, placeholder: str = "") -> Element:
    element: Element = {"type": "Input.Number", "id": id_, "label": label, "min": minimum}
    if placeholder:
        element["placeholder"] = placeholder
    return element


def choice_input(id_: str, label: str, choices: list[tuple[str, str]], *, value: str = "") -> Element:
    element: Element = {"type": "Input.ChoiceSet", "id": id_, "label": label, "style": "compact",
                        "choices": [{"title": title, "value": val} for title, val in choices]}
    if value:
        element["value"] = value
    return element


def when(moment: datetime | None, tz: ZoneInfo, now: datetime | None = None) -> str:
    """`16:50 (in 25 min)`, `Thu 30 Jan 09:00 (in 14 h)`, `15:20 (10 min ago)` in the reader's zone and language."""
    if moment is None:
        return ""
    local = moment.astimezone(tz)
    same_day = now is not None and now.astimezone(tz).date() == local.date()
    label = local.strftime("%H:%M") if same_day else day_and_time(local)
    if now is None:
        return label
    delta = moment - now
    return f"{label} ({_relative(delta)})"


def day_and_time(local: datetime) -> str:
    """`Thu 30 Jan 09:00` (`T5, 30 thg 1 09:00`)."""
    return tr("{weekday} {day} {month} {time}", weekday=tr(WEEKDAYS[local.weekday()]), day=local.strftime("%d"),
              month=tr(MONTHS[local.month - 1]), time=local.strftime("%H:%M"))


def _relative(delta: timedelta) -> str:
    seconds = int(abs(delta.total_seconds()))
    if seconds < 90:
        return tr("now")
    if seconds < 90 * 60:
        amount = tr("{count} min", count=round(seconds / 60))
    elif seconds < 48 * 3600:
        amount = tr("{count} h", count=round(seconds / 3600))
    else:
        amount = tr("{count} days", count=round(seconds / 86400))
    return tr("in {amount}", amount=amount) if delta.total_seconds() > 0 else tr("{amount} ago", amount=amount)
