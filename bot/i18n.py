"""The reader's language: every sentence the bot says goes through `tr`.

The English sentence in the code is the key; the files `bot/locales/<language>/*.yaml` map it to a
translation (placeholders in `{braces}` kept as they are; one file per area of the bot). A sentence kept
in a constant is marked with `N_` where it is written, so the catalogue test finds it, and translated
with `tr` where it is said. The language is chosen per turn from the Teams locale
(`speaking(incoming.locale)`), and per reader for messages the bot sends by itself. A sentence
missing from a catalogue is said in English rather than not at all.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import timedelta
from functools import cache
from pathlib import Path

import yaml

ENGLISH = "en"
LOCALES = Path(__file__).with_name("locales")

_language: ContextVar[str] = ContextVar("language", default=ENGLISH)


@cache
def catalogue(language: str) -> dict[str, str]:
    merged: dict[str, str] = {}
    for path in sorted((LOCALES / language).glob("*.yaml")) if language != ENGLISH else ():
        merged.update(yaml.safe_load(path.read_text(encoding="utf-8")) or {})
    return merged


@cache
def shipped() -> tuple[str, ...]:
    return (ENGLISH, *sorted(path.name for path in LOCALES.iterdir() if path.is_dir() and path.name != ENGLISH))


def language_of(locale: str | None) -> str:
    """`vi-VN` -> `vi` when Vietnamese is shipped; English otherwise."""
    language = (locale or "").replace("_", "-").split("-")[0].lower()
    return language if language in shipped() else ENGLISH


def current() -> str:
    return _language.get()


@contextmanager
def speaking(locale: str | None) -> Iterator[str]:
    """Within the block, `tr` answers in the language of `locale` (a Teams locale like `vi-VN`)."""
    token = _language.set(language_of(locale))
    try:
        yield _language.get()
    finally:
        _language.reset(token)


def N_(message: str) -> str:
    """Marks a sentence kept in a constant as one to translate; `tr` translates it where it is said."""
    return message


def tr(message: str, /, **values: object) -> str:
    """`message` in the current language, with `values` filled into its `{placeholders}`."""
    said = catalogue(_language.get()).get(message) or message
    return said.format(**values) if values else said


def joined(items: Sequence[str]) -> str:
    """`a`, `a and b`, `a, b and c` in the current language."""
    return _listed(items, N_("{items} and {last}"))


def either(items: Sequence[str]) -> str:
    """`a`, `a or b`, `a, b or c` in the current language."""
    return _listed(items, N_("{items} or {last}"))


def _listed(items: Sequence[str], sentence: str) -> str:
    if len(items) < 2:
        return "".join(items)
    return tr(sentence, items=", ".join(items[:-1]), last=items[-1])


def spoken_duration(span: timedelta) -> str:
    """A duration as people say it, in the current language: `15 minutes`, `2 hours 45 minutes`, `24 hours`,
    `3 days 4 hours`; to the minute (hours stay hours up to two days, as service levels are said)."""
    minutes = max(1, round(span.total_seconds() / 60))
    days, minutes = divmod(minutes, 24 * 60) if minutes >= 48 * 60 else (0, minutes)
    hours, minutes = divmod(minutes, 60)
    if days:  # beyond two days, minutes are noise: to the hour
        hours += round(minutes / 60)
        minutes = 0
    parts = [_count(days, N_("1 day"), N_("{count} days")), _count(hours, N_("1 hour"), N_("{count} hours")),
             _count(minutes, N_("1 minute"), N_("{count} minutes"))]
    return " ".join(part for part in parts if part)


def _count(count: int, one: str, many: str) -> str:
    if count == 0:
        return ""
    return tr(one) if count == 1 else tr(many, count=count)
