"""`read_group` in the Odoo 17 shape, so a summary counts tickets by stage/tag in one call.

Lazy grouping (the default) groups by the first groupby only and names the count
`<field>_count` (plus `__context.group_by` for the remaining ones); `lazy=False` groups by
all of them and names it `__count`. Each group carries its `__domain`; many2one and
many2many group values are `[id, display_name]`; dates accept `:day/:week/:month/:quarter/:year`.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from odoo_double import faults
from odoo_double.domain import normalize
from odoo_double.fields import DATE_FORMAT, DATETIME_FORMAT, X2MANY, Field
from odoo_double.methods import search_rows
from odoo_double.ordering import default_key
from odoo_double.orm import Env, Method, Row

GRANULARITIES = ("day", "week", "month", "quarter", "year")
NUMERIC = frozenset({"integer", "float", "monetary"})
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December")


def _period(value: date, granularity: str) -> tuple[date, date, str]:
    """(start, end, label) of the period holding `value`."""
    if granularity == "day":
        return value, value + timedelta(days=1), value.strftime("%d %b %Y")
    if granularity == "week":
        start = value - timedelta(days=value.weekday())
        return start, start + timedelta(days=7), f"W{value.isocalendar()[1]} {value.isocalendar()[0]}"
    if granularity == "quarter":
        first = 3 * ((value.month - 1) // 3) + 1
        start = date(value.year, first, 1)
        end = date(value.year + (first == 10), (first + 2) % 12 + 1, 1)
        return start, end, f"Q{(first - 1) // 3 + 1} {value.year}"
    if granularity == "year":
        return date(value.year, 1, 1), date(value.year + 1, 1, 1), str(value.year)
    start = date(value.year, value.month, 1)
    end = date(value.year + (value.month == 12), value.month % 12 + 1, 1)
    return start, end, f"{MONTHS[value.month - 1]} {value.year}"


class _GroupBy:
    def __init__(self, env: Env, model: str, spec: str) -> None:
        name, _, granularity = spec.partition(":")
        definition = env.model_def(model)
        field = definition.fields.get(name)
        if field is None:
            raise faults.value_error(f"Invalid field {name!r} on model {model!r}")
        if granularity and (field.type not in ("date", "datetime") or granularity not in GRANULARITIES):
            raise faults.value_error(f"Invalid groupby {spec!r} on model {model!r}")
        self.env, self.model, self.spec, self.field = env, model, spec, field
        self.granularity = granularity or ("month" if field.type in ("date", "datetime") else "")

    @property
    def key(self) -> str:
        return self.spec

    def keys_of(self, row: Row) -> list[Any]:
        """Group keys of one row (a many2many row lands in one group per related record)."""
        value = self.env.value(self.model, row, self.field)
        if self.field.type in X2MANY:
            return list(value) or [False]
        if self.field.type in ("date", "datetime"):
            if not value:
                return [False]
            day = value.date() if isinstance(value, datetime) else value
            return [_period(day, self.granularity)[0]]
        return [value if value not in (None, "") else False]

    def wire_value(self, key: Any) -> Any:
        if key is False:
            return False
        if self.field.relation:
            row = self.env.row(self.field.relation, key)
            return [key, self.env.display_name(self.field.relation, row)] if row else False
        if self.field.type in ("date", "datetime"):
            return _period(key, self.granularity)[2]
        return key

    def leaf_domain(self, key: Any) -> list[Any]:
        name = self.field.name
        if self.field.type in ("date", "datetime"):
            if key is False:
                return [(name, "=", False)]
            span = self.range(key) or {}
            return ["&", (name, ">=", span["from"]), (name, "<", span["to"])]
        return [(name, "=", key)]

    def range(self, key: Any) -> dict[str, Any] | None:
        if self.field.type not in ("date", "datetime") or key is False:
            return None
        start, end, _ = _period(key, self.granularity)
        fmt = DATETIME_FORMAT if self.field.type == "datetime" else DATE_FORMAT
        return {"from": datetime(start.year, start.month, start.day).strftime(fmt),
                "to": datetime(end.year, end.month, end.day).strftime(fmt)}

    def sort_key(self, key: Any) -> tuple[Any, ...]:
        if key is False:
            return (True, ())
        if self.field.relation:
            row = self.env.row(self.field.relation, key)
            return (False, default_key(self.env, self.field.relation, row) if row else (key,))
        return (False, (key,))


def _and(domains: list[list[Any]]) -> list[Any]:
    parts = [normalize(d) for d in domains if d]
    result: list[Any] = ["&"] * (len(parts) - 1)
    for part in parts:
        result.extend(part)
    return result


def _aggregates(env: Env, model: str, specs: list[str]) -> list[tuple[str, Field, str]]:
    definition = env.model_def(model)
    wanted: list[tuple[str, Field, str]] = []
    for spec in specs:
        alias, _, rest = spec.partition(":")
        name, function = alias, "sum"
        if rest:
            function = rest.split("(")[0] or "sum"
            if "(" in rest:
                name = rest[rest.index("(") + 1:rest.rindex(")")]
        field = definition.fields.get(name)
        if field is None:
            if name in ("__count", "count"):
                continue
            raise faults.value_error(f"Invalid field {name!r} on model {model!r}")
        if field.type in NUMERIC and name not in ("id",):
            wanted.append((alias, field, function))
    return wanted


def _aggregate(env: Env, model: str, rows: list[Row], field: Field, function: str) -> Any:
    values = [env.value(model, r, field) or 0 for r in rows]
    if function in ("max", "min"):
        return (max if function == "max" else min)(values) if values else False
    if function == "avg":
        return sum(values) / len(values) if values else False
    if function == "count":
        return len(values)
    return sum(values)


def read_group(env: Env, model: str, domain: Any = None, fields: Any = None, groupby: Any = None, offset: int = 0,
               limit: Any = None, orderby: Any = False, lazy: bool = True) -> list[dict[str, Any]]:
    specs = [groupby] if isinstance(groupby, str) else list(groupby or [])
    if not specs:
        raise faults.value_error("read_group needs at least one groupby field")
    levels = [_GroupBy(env, model, s) for s in specs]
    active = levels[:1] if lazy else levels
    aggregates = _aggregates(env, model, [f for f in (fields or []) if f not in specs])
    rows = search_rows(env, model, domain or [])
    groups: dict[tuple[Any, ...], list[Row]] = {}
    for row in rows:
        combos: list[tuple[Any, ...]] = [()]
        for level in active:
            combos = [(*combo, key) for combo in combos for key in level.keys_of(row)]
        for combo in combos:
            groups.setdefault(combo, []).append(row)
    ordered = sorted(groups, key=lambda combo: tuple(level.sort_key(k) for level, k in zip(active, combo,
                                                                                             strict=True)))
    if orderby and isinstance(orderby, str) and "desc" in orderby.lower().split():
        ordered.reverse()
    start = int(offset or 0)
    ordered = ordered[start:start + int(limit)] if limit else ordered[start:]
    result = []
    for combo in ordered:
        members = groups[combo]
        group: dict[str, Any] = {}
        ranges: dict[str, Any] = {}
        for level, key in zip(active, combo, strict=True):
            group[level.key] = level.wire_value(key)
            span = level.range(key)
            if span:
                ranges[level.key] = span
        group["__count" if not lazy else f"{levels[0].field.name}_count"] = len(members)
        for alias, field, function in aggregates:
            group[alias] = _aggregate(env, model, members, field, function)
        group["__domain"] = _and([*(level.leaf_domain(k) for level, k in zip(active, combo, strict=True)),
                                  list(domain or [])])
        if ranges:
            group["__range"] = ranges
        if lazy and len(levels) > 1:
            group["__context"] = {"group_by": specs[1:]}
        result.append(group)
    return result


READ_GROUP = Method(read_group, False)
