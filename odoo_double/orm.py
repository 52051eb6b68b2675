"""An in-memory ORM with Odoo's external-API semantics.

`Store` holds the tables (one dict of rows per model), id counters and sequences (both survive
a failed call, like PostgreSQL sequences do). `Env` is one call's view: user, context, clock.
The generic methods (create, write, read, search...) follow the recorded Odoo 17 behaviour:
read drops missing ids and keeps the order and duplicates of the ids given, write/unlink fault
on missing ids, unknown fields and bad selection values fault with Odoo's texts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, NamedTuple

from odoo_double import faults
from odoo_double.domain import Predicate
from odoo_double.fields import X2MANY, Field, format_scalar

Row = dict[str, Any]
Clock = Callable[[], datetime]
CreateHook = Callable[["Env", Row, Row], None]  # (env, row, changes)
PrepareHook = Callable[["Env", dict[str, Any]], None]  # (env, raw client vals)
WriteHook = Callable[["Env", Row, Row, Row], None]  # (env, row, old row, changes)
AccessCheck = Callable[["Env", str, list[Row]], None]
RuleFactory = Callable[["Env"], Predicate | None]


class Recordset(NamedTuple):
    """What a method returning records gives back (XML-RPC cannot marshal it; JSON-RPC sends its repr)."""

    model: str
    ids: tuple[int, ...]

    def __repr__(self) -> str:
        return faults.recordset_repr(self.model, self.ids)


@dataclass(frozen=True)
class Method:
    fn: Callable[..., Any]
    on_records: bool  # True: the first positional argument of execute_kw is the record ids


@dataclass
class ModelDef:
    name: str
    description: str
    fields: dict[str, Field]
    order: str = "id"
    rec_name: str = "name"
    search_names: tuple[str, ...] = ()
    display: Callable[[Env, Row], Any] | None = None
    methods: dict[str, Method] = field(default_factory=dict)
    prepare_create: list[PrepareHook] = field(default_factory=list)
    before_write: list[Callable[[Env, Row, Row], None]] = field(default_factory=list)  # (env, row, changes)
    after_create: list[CreateHook] = field(default_factory=list)
    after_write: list[WriteHook] = field(default_factory=list)
    access: AccessCheck | None = None
    rule: RuleFactory | None = None

    @property
    def class_name(self) -> str:
        return "".join(part.capitalize() for part in self.name.split("."))


def base_fields(model: str) -> list[Field]:
    """The magic fields every Odoo model has."""
    return [
        Field("id", "integer", "ID", readonly=True),
        Field("display_name", "char", "Display Name", readonly=True,
              compute=lambda env, row: env.display_name(model, row)),
        Field("create_uid", "many2one", "Created by", relation="res.users", readonly=True),
        Field("create_date", "datetime", "Created on", readonly=True),
        Field("write_uid", "many2one", "Last Updated by", relation="res.users", readonly=True),
        Field("write_date", "datetime", "Last Updated on", readonly=True),
    ]


def define(name: str, description: str, fields: Iterable[Field], **options: Any) -> ModelDef:
    magic = base_fields(name)
    by_name = {magic[0].name: magic[0]}  # "id" first, the other magic fields last (Odoo's read order)
    for f in fields:
        by_name[f.name] = f
    for f in magic[1:]:
        by_name.setdefault(f.name, f)
    return ModelDef(name, description, by_name, **options)


class Store:
    """All tables of one sandbox database."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.major = 17  # the Odoo major version the database behaves as (set by OdooSandbox)
        self.models: dict[str, ModelDef] = {}
        self.tables: dict[str, dict[int, Row]] = {}
        self.next_ids: dict[str, int] = {}
        self.sequences: dict[str, int] = {}
        self.xmlids: dict[str, tuple[str, int]] = {}

    def register(self, definition: ModelDef) -> None:
        self.models[definition.name] = definition
        self.tables.setdefault(definition.name, {})
        self.next_ids.setdefault(definition.name, 1)

    def next_id(self, model: str) -> int:
        value = self.next_ids[model]
        self.next_ids[model] = value + 1
        return value

    def next_sequence(self, code: str) -> int:
        value = self.sequences.get(code, 1)
        self.sequences[code] = value + 1
        return value

    def snapshot(self) -> dict[str, dict[int, Row]]:
        """A copy to roll back to: rows and their id lists are copied; other values are immutable."""
        return {model: {record_id: _copy_row(row) for record_id, row in table.items()}
                for model, table in self.tables.items()}

    def restore(self, tables: dict[str, dict[int, Row]]) -> None:
        self.tables = tables


def _copy_row(row: Row) -> Row:
    copied = dict(row)
    for key, value in copied.items():
        if type(value) is list:
            copied[key] = value[:]
    return copied


class Env:
    """One call: the store seen by user `uid` with a context."""

    def __init__(self, store: Store, uid: int, context: dict[str, Any] | None = None) -> None:
        self.store = store
        self.uid = uid
        self.context = dict(context or {})

    # ---- time ---------------------------------------------------------------------------------
    def now(self) -> datetime:
        """Naive UTC with microseconds (create_date/write_date keep them, as PostgreSQL's now() does)."""
        moment = self.store.clock()
        if moment.tzinfo is not None:
            moment = moment.astimezone(UTC).replace(tzinfo=None)
        return moment

    def now_seconds(self) -> datetime:
        """fields.Datetime.now(): truncated to the second."""
        return self.now().replace(microsecond=0)

    def log_time(self) -> datetime:
        """create_date/write_date: with microseconds up to 18; 19 stores them to the second (recorded: a
        `write_date > <the value read>` poll no longer returns the record written in that second)."""
        return self.now() if self.store.major < 19 else self.now_seconds()

    # ---- models and rows -------------------------------------------------------------------------
    def model_def(self, model: str) -> ModelDef:
        definition = self.store.models.get(model)
        if definition is None:
            raise faults.unknown_model(model)
        return definition

    def rows(self, model: str) -> list[Row]:
        self.model_def(model)
        return [self.store.tables[model][k] for k in sorted(self.store.tables[model])]

    def row(self, model: str, record_id: Any) -> Row | None:
        if isinstance(record_id, bool) or not isinstance(record_id, int):
            return None
        return self.store.tables.get(model, {}).get(record_id)

    def related_rows(self, model: str, value: Any) -> list[Row]:
        ids = value if isinstance(value, list) else ([] if not value else [value])
        return [r for r in (self.row(model, i) for i in ids) if r is not None]

    def value(self, model: str, row: Row, f: Field) -> Any:
        if f.compute is not None:
            return f.compute(self, row)
        return row.get(f.name, f.empty())

    def display_name(self, model: str, row: Row) -> Any:
        definition = self.model_def(model)
        if definition.display is not None:
            return definition.display(self, row)
        return row.get(definition.rec_name) or False

    def read_value(self, model: str, row: Row, f: Field) -> Any:
        if f.name == "password":
            return ""  # write-only, as in Odoo
        value = self.value(model, row, f)
        if f.type == "many2one":
            target = self.row(f.relation or "", value) if value else None
            return [value, self.display_name(f.relation or "", target)] if target is not None else False
        if f.type in X2MANY:
            return list(value or [])
        return format_scalar(f, value)

    def insert(self, model: str, values: Row, *, record_id: int | None = None) -> Row:
        """Low-level insert used by seeding and side effects (no access checks, no hooks)."""
        definition = self.model_def(model)
        if record_id is None:
            record_id = self.store.next_id(model)
        else:
            self.store.next_ids[model] = max(self.store.next_ids[model], record_id + 1)
        row: Row = {}
        for name, f in definition.fields.items():
            if f.stored and name != "id":
                default = f.default(self) if callable(f.default) else f.default
                row[name] = f.empty() if default is None else default
        now = self.log_time()
        row.update({"create_uid": self.uid, "write_uid": self.uid, "create_date": now, "write_date": now})
        row.update(values)
        row["id"] = record_id
        self.store.tables[model][record_id] = row
        return row

    def ref(self, xmlid: str) -> int:
        return self.store.xmlids[xmlid][1]

    # ---- the current user ---------------------------------------------------------------------------
    @property
    def user(self) -> Row:
        row = self.row("res.users", self.uid)
        assert row is not None
        return row

    @property
    def partner_id(self) -> int:
        return int(self.user["partner_id"])

    def group_ids(self, uid: int | None = None) -> set[int]:
        user = self.row("res.users", self.uid if uid is None else uid) or {}
        wanted = set(user.get("groups_id") or user.get("group_ids") or [])  # up to 18 / 19
        pending = list(wanted)
        while pending:
            group = self.row("res.groups", pending.pop()) or {}
            for implied in group.get("implied_ids") or []:
                if implied not in wanted:
                    wanted.add(implied)
                    pending.append(implied)
        return wanted

    def has_group(self, xmlid: str, uid: int | None = None) -> bool:
        entry = self.store.xmlids.get(xmlid)
        return entry is not None and entry[1] in self.group_ids(uid)

    @property
    def is_portal(self) -> bool:
        return not self.has_group("base.group_user")
