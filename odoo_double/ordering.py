"""`order` clauses ("priority desc, id asc") applied to in-memory rows, PostgreSQL style.

Empty values sort last ascending and first descending (PostgreSQL's NULLS LAST/FIRST defaults);
a many2one sorts by the default order of the related model, as Odoo does.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

from odoo_double import faults
from odoo_double.fields import X2MANY

if TYPE_CHECKING:
    from odoo_double.orm import Env

Row = dict[str, Any]


def parse_order(model: str, order: str, known: set[str]) -> list[tuple[str, bool]]:
    """[(field, descending)]; unknown fields raise the recorded ValueError."""
    terms: list[tuple[str, bool]] = []
    for part in order.split(","):
        words = part.strip().split()
        if not words:
            continue
        name = words[0].strip('"')
        direction = words[1].lower() if len(words) > 1 else "asc"
        if name not in known or direction not in ("asc", "desc") or len(words) > 3:
            raise faults.value_error(f"Invalid field {name!r} on model {model!r}")
        terms.append((name, direction == "desc"))
    return terms


def _sort_value(env: Env, model: str, row: Row, name: str, depth: int) -> tuple[bool, Any]:
    field = env.model_def(model).fields[name]
    value = env.value(model, row, field)
    if field.type == "many2one" and value and depth < 2:
        target = env.row(field.relation or model, value)
        if target is None:
            return (True, 0)
        return (False, default_key(env, field.relation or model, target, depth + 1))
    if value is False or value is None or field.type in X2MANY:
        return (True, 0) if field.type != "boolean" else (False, bool(value))
    return (False, value)


def default_key(env: Env, model: str, row: Row, depth: int = 0) -> tuple[Any, ...]:
    definition = env.model_def(model)
    terms = parse_order(model, definition.order, set(definition.fields))
    return tuple(_sort_value(env, model, row, name, depth) for name, _ in terms)


def sort_rows(env: Env, model: str, rows: list[Row], order: str | None) -> list[Row]:
    definition = env.model_def(model)
    terms = parse_order(model, order or definition.order, set(definition.fields))
    if not any(name == "id" for name, _ in terms):
        terms.append(("id", False))
    result = list(rows)
    for name, descending in reversed(terms):
        # (is_empty, value): empty last ascending; reverse=True puts it first when descending
        result.sort(key=functools.partial(_row_key, env, model, name), reverse=descending)
    return result


def _row_key(env: Env, model: str, name: str, row: Row) -> tuple[Any, ...]:
    return _safe(_sort_value(env, model, row, name, 0))


def _safe(key: tuple[Any, ...]) -> tuple[Any, ...]:
    empty, value = key
    return (empty, _Comparable(value))


class _Comparable:
    """Wraps a value so mixed types (never expected, but possible) do not break sorting."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def __lt__(self, other: _Comparable) -> bool:
        try:
            return bool(self.value < other.value)
        except TypeError:
            return str(type(self.value)) < str(type(other.value))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Comparable) and self.value == other.value

    def __hash__(self) -> int:
        return hash(repr(self.value))
