"""The reader's language: every sentence the bot says goes through `tr`.

The English sentence in the code is the key; `bot/locales/<language>.yaml` maps it to a translation
(placeholders in `{braces}` kept as they are). The language is chosen per turn from the Teams locale
(`speaking(incoming.locale)`), and per reader for messages the bot sends by itself. A sentence
missing from a catalogue is said in English rather than not at all.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from pathlib import Path

import yaml

ENGLISH = "en"
LOCALES = Path(__file__).with_name("locales")

_language: ContextVar[str] = ContextVar("language", default=ENGLISH)


@cache
def catalogue(language: str) -> dict[str, str]:
    path = LOCALES / f"{language}.yaml"
    if language == ENGLISH or not path.exists():
        return {}
    return yaml.safe_load(path.read_text(encoding="utf-8")) or {}


def shipped() -> tuple[str, ...]:
    return (ENGLISH, *sorted(path.stem for path in LOCALES.glob("*.yaml")))


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


def tr(message: str, /, **values: object) -> str:
    """`message` in the current language, with `values` filled into its `{placeholders}`."""
    said = catalogue(_language.get()).get(message) or message
    return said.format(**values) if values else said
