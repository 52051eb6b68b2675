"""Durations as people write them in profiles and commands: ``30s``, ``15m``, ``24h``, ``7d``, ``1h30m``.

A duration is one or more ``<whole number><unit>`` parts with the units d, h, m, s, each used at
most once and in that order (largest first). Nothing else is accepted: no spaces inside, no
fractions, no signs, no words ("15 minutes"), no capital letters (``15M`` could mean months).
"""

import re
from datetime import timedelta
from typing import Final

from bot.numbers import whole_number

DURATION_FORMS: Final = "write 30s, 15m, 24h or 7d, or combine them as in 1h30m"
"""The accepted forms, as quoted in every error message about a duration."""

_DURATION: Final = re.compile(r"(?:([0-9]+)d)?(?:([0-9]+)h)?(?:([0-9]+)m)?(?:([0-9]+)s)?")
_UNITS: Final = (("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1))
_MOST: Final = 10**15  # a part above it is past what timedelta holds anyway


def parse_duration(text: str) -> timedelta:
    """Turn ``"1h30m"`` into ``timedelta(hours=1, minutes=30)``.

    Surrounding whitespace is ignored. Raises ``ValueError`` naming the text and the accepted
    forms for anything else (including non-strings and values too large for ``timedelta``).
    """
    if not isinstance(text, str):
        raise ValueError(f"{text!r} is not a duration ({DURATION_FORMS})")
    match = _DURATION.fullmatch(text.strip())
    if match is None or not any(match.groups()):
        raise ValueError(f"{text!r} is not a duration ({DURATION_FORMS})")
    read = [whole_number(part, maximum=_MOST) if part else 0 for part in match.groups()]
    parts = [part for part in read if part is not None]
    if len(parts) != len(read):
        raise ValueError(f"{text!r} is too long a duration")
    days, hours, minutes, seconds = parts
    try:
        return timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)
    except OverflowError:
        raise ValueError(f"{text!r} is too long a duration") from None


def format_duration(value: timedelta) -> str:
    """Write a duration the way :func:`parse_duration` reads it, largest units first.

    ``timedelta(hours=1, minutes=30)`` -> ``"1h30m"``, ``timedelta(hours=48)`` -> ``"2d"``,
    ``timedelta(0)`` -> ``"0s"``. Fractions of a second are dropped, so
    ``parse_duration(format_duration(d)) == d`` for every whole-second duration ``d``.
    Raises ``ValueError`` for a negative duration.
    """
    if value < timedelta(0):
        raise ValueError(f"cannot write a negative duration ({value})")
    remaining = value.days * 86_400 + value.seconds
    parts: list[str] = []
    for unit, size in _UNITS:
        count, remaining = divmod(remaining, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts) or "0s"
