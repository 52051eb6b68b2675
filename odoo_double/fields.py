"""Field definitions of the sandbox models and the conversions Odoo applies to field values.

Rows hold Odoo's *cache* representation: False for an empty value, ints for many2one, lists of
ints for many2many, naive UTC `datetime`/`date` objects. `to_cache` validates and converts a
value sent by a client; `format_scalar` gives the wire representation `read` returns.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from odoo_double import faults
from odoo_double.html_body import sanitize_html

if TYPE_CHECKING:
    from odoo_double.orm import Env

DATETIME_FORMAT = "%Y-%m-%d %H:%M:%S"
DATE_FORMAT = "%Y-%m-%d"
RELATIONAL = frozenset({"many2one", "one2many", "many2many"})
X2MANY = frozenset({"one2many", "many2many"})

Compute = Callable[["Env", dict[str, Any]], Any]


@dataclass(frozen=True)
class Field:
    name: str
    type: str
    string: str
    relation: str | None = None
    required: bool = False
    readonly: bool = False
    selection: tuple[tuple[str, str], ...] | None = None
    default: Any = None  # a value, or a callable(env) -> value
    compute: Compute | None = None  # not stored: computed from the row on read/search
    groups: str | None = None  # readable only by the group with this label
    missing_is_fault: bool = False  # many2one: a missing target raises MissingError (else the FK error)
    inverse: str | None = None  # one2many: the many2one pointing back (fields_get's `relation_field`)

    @property
    def stored(self) -> bool:
        return self.compute is None

    def empty(self) -> Any:
        if self.type in X2MANY:
            return []
        if self.type == "integer":
            return 0
        if self.type == "float":
            return 0.0
        return False

    def describe(self, attributes: list[str] | None) -> dict[str, Any]:
        info: dict[str, Any] = {"string": self.string, "type": self.type, "required": self.required,
                                "readonly": self.readonly or not self.stored}
        if self.relation:
            info["relation"] = self.relation
        if self.inverse:
            info["relation_field"] = self.inverse
        if self.selection is not None:
            info["selection"] = [list(pair) for pair in self.selection]
        return {k: v for k, v in info.items() if not attributes or k in attributes}


def parse_datetime(value: Any) -> datetime | bool:
    if value is False or value is None or value == "":
        return False
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    text = str(value)
    for fmt in (DATETIME_FORMAT, "%Y-%m-%d %H:%M:%S.%f", DATE_FORMAT, "%Y-%m-%dT%H:%M:%S"):
        try:
            return datetime.strptime(text, fmt)
        except ValueError:
            continue
    raise faults.value_error(f"time data {text!r} does not match format '{DATETIME_FORMAT}'")


def parse_date(value: Any) -> date | bool:
    if value is False or value is None or value == "":
        return False
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return datetime.strptime(str(value)[:10], DATE_FORMAT).date()
    except ValueError:
        raise faults.value_error(f"time data {value!r} does not match format '{DATE_FORMAT}'") from None


def apply_x2many_commands(model: str, field: Field, current: list[int], value: Any) -> tuple[list[int], list[Any]]:
    """Apply Odoo's x2many commands; returns the new ids and the (0, 0, vals) creations to perform."""
    if value is False or value is None:
        return [], []
    if not isinstance(value, list | tuple):
        raise faults.wrong_value(model, field.name, value)
    ids = list(current)
    creations: list[Any] = []
    for command in value:
        if isinstance(command, int) and not isinstance(command, bool):
            ids = [*ids, command] if command not in ids else ids  # a bare list of ids adds them
            continue
        if not isinstance(command, list | tuple) or not command:
            raise faults.wrong_value(model, field.name, value)
        op = command[0]
        if op == 6:
            ids = list(dict.fromkeys(int(i) for i in (command[2] or [])))
        elif op == 5:
            ids = []
        elif op == 4:
            if command[1] not in ids:
                ids.append(int(command[1]))
        elif op in (2, 3):
            ids = [i for i in ids if i != command[1]]
        elif op == 1:
            continue
        elif op == 0:
            creations.append(command[2])
        else:
            raise faults.value_error(f"Invalid command {op!r} for {model}.{field.name}")
    return ids, creations


def to_cache(model: str, field: Field, value: Any) -> Any:
    """Validate and convert one value a client sent (x2many commands are applied by the ORM)."""
    kind = field.type
    if value is None:
        return field.empty()
    if kind == "selection":
        if value is False:
            return False
        if not isinstance(value, str) or value not in {key for key, _ in field.selection or ()}:
            raise faults.wrong_value(model, field.name, value)
        return value
    if kind == "many2one":
        if value is False:
            return False
        if isinstance(value, list | tuple) and value and isinstance(value[0], int):
            value = value[0]
        if isinstance(value, bool) or not isinstance(value, int):
            raise faults.wrong_value(model, field.name, value)
        return value
    if kind in ("char", "text"):
        return value if value is False else str(value)
    if kind == "html":
        return False if value is False else sanitize_html(str(value))
    if kind == "many2one_reference":
        return int(value) if value else 0
    if kind == "integer":
        return int(value or 0)
    if kind in ("float", "monetary"):
        return float(value or 0)
    if kind == "boolean":
        return bool(value)
    if kind == "datetime":
        return parse_datetime(value)
    if kind == "date":
        return parse_date(value)
    return value


def format_scalar(field: Field, value: Any) -> Any:
    """Wire representation of a non-relational cache value (what `read` sends)."""
    kind = field.type
    if kind == "datetime":
        return value.strftime(DATETIME_FORMAT) if isinstance(value, datetime) else False
    if kind == "date":
        return value.strftime(DATE_FORMAT) if isinstance(value, date) else False
    if kind == "integer":
        return int(value or 0)
    if kind in ("float", "monetary"):
        return float(value or 0)
    if kind == "boolean":
        return bool(value)
    if kind == "many2one_reference":
        return int(value or 0)
    if kind in ("char", "text", "html", "selection"):
        return False if value is None else value
    return value
