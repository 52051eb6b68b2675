"""Odoo records read into the bot's typed values, once, at the edge (`bot.odoo.gateway` reads through this).

What Odoo hands back is untrusted: its text fields are written by anyone with an Odoo user, its portal and its
e-mail gateway, and a field can hold what the bot never wrote there. A field that cannot be read is read as absent
(empty text, no date, no partner...) and noted; `Fields.warn` then logs one line naming the record and what could
not be read in it, and the rest of the record, and of the page, goes on. No reader here raises.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

from bot.tickets import within_reason

logger = logging.getLogger(__name__)

ODOO_TIME = "%Y-%m-%d %H:%M:%S"
ODOO_DATE = "%Y-%m-%d"


def parse_odoo_time(value: object) -> datetime | None:
    """Odoo's 'YYYY-MM-DD HH:MM:SS' (UTC; fractions of a second ignored) as a datetime; None for anything else,
    and for a moment out of reason (`bot.tickets.within_reason`)."""
    if not isinstance(value, str):
        return None
    try:
        return within_reason(datetime.strptime(value[:19], ODOO_TIME).replace(tzinfo=UTC))
    except (ValueError, OverflowError):
        return None


def record_id(value: object) -> int | None:
    """An Odoo id: a positive int (not a bool), else None."""
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def shown(value: object, most: int = 40) -> str:
    """A value as a log line shows it: escaped (no line breaks) and short."""
    text = repr(value)
    return text if len(text) <= most else text[:most] + "..."


class Fields:
    """One record, read field by field: each reader returns the field's value in the bot's type, or the absent
    value when the field is missing, False (Odoo's empty), or of a shape it cannot read (noted for `warn`)."""

    def __init__(self, record: object, what: str) -> None:
        self._record: Mapping[str, Any] = record if isinstance(record, Mapping) else {}
        self.what = what  # "ticket 42", "chatter message 7": how the warning names the record
        self.unreadable: list[str] = []

    def note(self, field: str, value: object) -> None:
        self.unreadable.append(f"{field} {shown(value)}")

    def _get(self, field: str | None) -> Any:
        return self._record.get(field) if field else None

    def raw(self, field: str | None) -> Any:
        """The value as Odoo sent it, for comparisons only (a kanban state against the profile's values)."""
        return self._get(field)

    def present(self, field: str) -> bool:
        """Whether the field has a value (a required field filled in)."""
        return bool(self._get(field))

    def text(self, field: str | None) -> str:
        value = self._get(field)
        if isinstance(value, str):
            return value
        if value not in (None, False):
            self.note(str(field), value)
        return ""

    def flag(self, field: str | None) -> bool:
        return bool(self._get(field))

    def id(self, field: str) -> int | None:
        value = self._get(field)
        found = record_id(value)
        if found is None and value not in (None, False):
            self.note(field, value)
        return found

    def many2one(self, field: str | None) -> tuple[int, str] | None:
        """A many2one, `[id, display name]`; None when empty or unreadable (a name that is not text reads as "")."""
        value = self._get(field)
        if value in (None, False):
            return None
        if isinstance(value, list | tuple) and len(value) == 2 and (found := record_id(value[0])) is not None:
            name = value[1]
            if not isinstance(name, str):
                self.note(f"{field} name", name)
                name = ""
            return found, name
        self.note(str(field), value)
        return None

    def ids(self, field: str | None) -> tuple[int, ...]:
        """A one2many or many2many: its ids (those that are not ids are left out, and noted)."""
        value = self._get(field)
        if value in (None, False):
            return ()
        if not isinstance(value, list | tuple):
            self.note(str(field), value)
            return ()
        found = tuple(i for i in map(record_id, value) if i is not None)
        if len(found) != len(value):
            self.note(str(field), value)
        return found

    def time(self, field: str | None) -> datetime | None:
        value = self._get(field)
        found = parse_odoo_time(value)
        if found is None and value not in (None, False):
            self.note(str(field), value)
        return found

    def day(self, field: str) -> date | None:
        """A date field, Odoo's 'YYYY-MM-DD'."""
        value = self._get(field)
        if isinstance(value, str):
            try:
                return datetime.strptime(value, ODOO_DATE).date()
            except ValueError:
                pass
        if value not in (None, False):
            self.note(field, value)
        return None

    def number(self, field: str) -> float:
        """A float or integer field (hours spent...); 0 when empty or unreadable."""
        value = self._get(field)
        if isinstance(value, int | float) and not isinstance(value, bool) and abs(value) < 1e12:
            return float(value)
        if value not in (None, False):
            self.note(field, value)
        return 0.0

    def warn(self, *also: str) -> None:
        """One warning line naming the record and what could not be read in it (`also`: found by other readers,
        like the facts block of a description), when there is anything."""
        unreadable = [*self.unreadable, *also]
        if unreadable:
            logger.warning("%s: read as absent what Odoo holds that the bot cannot read: %s", self.what,
                           "; ".join(unreadable))
