"""Whole numbers read from text, whoever wrote it (a Teams user, a card's form, Odoo's text fields, a setting).

`str.isdigit()` and `int()` both accept more than 0-9, and not the same things: `'²'.isdigit()` is true and
`int('²')` raises; `int('١٢')` is 12; `int()` of more than 4,300 digits raises. Every whole number the bot reads
from text goes through `whole_number`: ASCII digits only, bounded, and None for anything else, never an exception.
"""

from __future__ import annotations

import re

_DIGITS = re.compile(r"[0-9]+")
MAX_RECORD_ID = 2**31 - 1  # an Odoo record's id is a PostgreSQL integer (and XML-RPC's <int> holds no more)


def whole_number(text: object, *, maximum: int) -> int | None:
    """`text` as a whole number from 0 to `maximum`, written in the ASCII digits 0-9 only (leading zeros allowed);
    None for anything else: an empty text, spaces, signs, fractions, other scripts' digits (`١٢`, `４２`),
    superscripts and circled digits (`²`, `①`), or a number above `maximum` (never handed to int() whole, however
    many digits it has)."""
    if not isinstance(text, str) or not _DIGITS.fullmatch(text):
        return None
    significant = text.lstrip("0") or "0"
    if len(significant) > len(str(maximum)):
        return None
    value = int(significant)
    return value if value <= maximum else None
