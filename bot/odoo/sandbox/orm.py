"""An in-memory ORM with Odoo's external-API semantics.

`Store` holds the tables (one dict of rows per model), id counters and sequences (both survive
a failed call, like PostgreSQL sequences do). `Env` is one call's view: user, context, clock.
The generic methods (create, write, read, search...) follow the recorded Odoo 17 behaviour:
read drops missing ids and keeps the order and duplicates of the ids given, write/unlink fault
on missing ids, unknown fields and bad selection values fault with Odoo's texts.
"""

from __future__ import annotations

import copy
import inspect
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any, NamedTuple

from bot.odoo.sandbox import faults
from bot.odoo.sandbox.domain import Predicate, compile_domain
from bot.odoo.sandbox.fields import RELATIONAL, X2MANY, Field, apply_x2many_commands, format_scalar, to_cache
from bot.odoo.sandbox.ordering import sort_rows

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
        return copy.deepcopy(self.tables)

    def restore(self, tables: dict[str, dict[int, Row]]) -> None:
        self.tables = tables


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
        now = self.now()
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
        wanted = set(user.get("groups_id") or [])
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


# ---- conversions and checks ----------------------------------------------------------------------

def as_ids(ids: Any) -> list[int]:
    if isinstance(ids, bool):
        raise faults.type_error(f"Invalid ids {ids!r}")
    if isinstance(ids, int):
        return [ids]
    if isinstance(ids, list | tuple):
        return [int(i) for i in ids]
    raise faults.type_error(f"Invalid ids {ids!r}")


def convert_vals(env: Env, model: str, vals: Any, current: Row | None) -> Row:
    """Client values -> cache values (unknown fields and bad values fault like Odoo)."""
    if not isinstance(vals, dict):
        raise faults.value_error(f"Invalid values {vals!r} for model {model!r}")
    definition = env.model_def(model)
    changes: Row = {}
    for name, value in vals.items():
        f = definition.fields.get(name)
        if f is None:
            raise faults.invalid_field(model, name)
        if not f.stored or name == "id":
            continue  # Odoo ignores values for computed fields without inverse
        if f.type in X2MANY:
            base = list(current.get(name, [])) if current else []
            ids, creations = apply_x2many_commands(model, f, base, value)
            for sub_vals in creations:
                if f.type != "many2many":
                    raise faults.value_error(f"the sandbox cannot create one2many lines ({model}.{name})")
                ids.append(create_one(env, f.relation or "", dict(sub_vals)))
            changes[name] = ids
        else:
            changes[name] = to_cache(model, f, value)
    return changes


def check_references(env: Env, model: str, changes: Row) -> None:
    definition = env.model_def(model)
    for name, value in changes.items():
        f = definition.fields[name]
        if f.type not in RELATIONAL or not value:
            continue
        targets = value if isinstance(value, list) else [value]
        missing = [t for t in targets if env.row(f.relation or "", t) is None]
        if missing:
            if f.missing_is_fault:
                raise faults.missing(f.relation or "", missing, env.uid)
            raise faults.foreign_key(model, definition.description, name)


def check_required(env: Env, model: str, row: Row) -> None:
    definition = env.model_def(model)
    for name, f in definition.fields.items():
        if f.required and f.stored and f.type not in ("boolean",) and row.get(name) in (False, None, "", []):
            raise faults.mandatory_field(model, definition.description, name, f.string)


def check_access(env: Env, model: str, operation: str, rows: list[Row]) -> None:
    definition = env.model_def(model)
    if definition.access is not None:
        definition.access(env, operation, rows)
        return
    if operation != "read" and env.is_portal:
        raise faults.acl_denied(operation, model, definition.description)


def rule_predicate(env: Env, model: str) -> Predicate | None:
    definition = env.model_def(model)
    return definition.rule(env) if definition.rule is not None else None


def existing_rows(env: Env, model: str, ids: list[int]) -> list[Row]:
    table = env.store.tables[model]
    missing = [i for i in dict.fromkeys(ids) if i not in table]
    if missing:
        raise faults.missing(model, missing, env.uid)
    return [table[i] for i in dict.fromkeys(ids)]


# ---- generic methods ------------------------------------------------------------------------------

def create_one(env: Env, model: str, vals: dict[str, Any]) -> int:
    definition = env.model_def(model)
    if not isinstance(vals, dict):
        raise faults.value_error(f"Invalid values {vals!r} for model {model!r}")
    for prepare in definition.prepare_create:
        prepare(env, vals)
    check_access(env, model, "create", [])
    changes = convert_vals(env, model, vals, None)
    record_id = env.store.next_id(model)  # consumed even if the insert fails, like a PostgreSQL sequence
    candidate = {**_defaults(env, definition), **changes}
    check_required(env, model, candidate)
    check_references(env, model, changes)
    row = env.insert(model, candidate, record_id=record_id)
    for hook in definition.after_create:
        hook(env, row, changes)
    return record_id


def _defaults(env: Env, definition: ModelDef) -> Row:
    values: Row = {}
    for name, f in definition.fields.items():
        if f.stored and name not in ("id", "create_uid", "create_date", "write_uid", "write_date"):
            default = f.default(env) if callable(f.default) else f.default
            values[name] = f.empty() if default is None else default
    return values


def create(env: Env, model: str, vals_list: Any) -> int | list[int]:
    if isinstance(vals_list, dict):
        return create_one(env, model, vals_list)
    if not isinstance(vals_list, list | tuple):
        raise faults.value_error(f"Invalid values {vals_list!r} for model {model!r}")
    return [create_one(env, model, dict(vals)) for vals in vals_list]


def write(env: Env, model: str, ids: list[int], vals: dict[str, Any]) -> bool:
    definition = env.model_def(model)
    rows = existing_rows(env, model, ids)
    check_access(env, model, "write", rows)
    if not isinstance(vals, dict):
        raise faults.value_error(f"Invalid values {vals!r} for model {model!r}")
    prepared = [(row, convert_vals(env, model, vals, row)) for row in rows]
    for _row, changes in prepared:
        check_references(env, model, changes)
    for row, changes in prepared:
        for hook in definition.before_write:
            hook(env, row, changes)
        old = dict(row)
        row.update(changes)
        check_required(env, model, row)
        if changes:
            row["write_date"] = env.now()
            row["write_uid"] = env.uid
        for after in definition.after_write:
            after(env, row, old, changes)
    return True


def unlink(env: Env, model: str, ids: list[int]) -> bool:
    rows = existing_rows(env, model, ids)
    check_access(env, model, "unlink", rows)
    for row in rows:
        del env.store.tables[model][row["id"]]
    return True


def readable_fields(env: Env, model: str, names: Any) -> list[Field]:
    definition = env.model_def(model)
    if not names:
        return [f for n, f in definition.fields.items()
                if n != "id" and not f.groups and n != "password"]
    if isinstance(names, str):
        names = [names]
    result: list[Field] = []
    for name in names:
        f = definition.fields.get(name)
        if f is None:
            raise faults.invalid_field(model, name)
        if f.groups:
            raise faults.field_group_denied(model, definition.description, env.uid, name, f.groups)
        if name != "id":
            result.append(f)
    return result


def format_row(env: Env, model: str, row: Row, wanted: list[Field]) -> Row:
    record: Row = {"id": row["id"]}
    for f in wanted:
        record[f.name] = env.read_value(model, row, f)
    return record


def read(env: Env, model: str, ids: Any, fields: Any = None, load: str = "_classic_read") -> list[Row]:
    wanted = readable_fields(env, model, fields)
    table = env.store.tables[model]
    rows = [table[i] for i in as_ids(ids) if i in table]
    check_access(env, model, "read", rows)
    allowed = rule_predicate(env, model)
    if allowed is not None and not all(allowed(r) for r in rows):
        definition = env.model_def(model)
        raise faults.rule_denied(env.user.get("name", ""), env.uid, "read", model, definition.description)
    return [format_row(env, model, row, wanted) for row in rows]


def search_rows(env: Env, model: str, domain: Any = None, offset: int = 0, limit: Any = None,
                order: Any = None) -> list[Row]:
    definition = env.model_def(model)
    matches = compile_domain(env, model, domain or [])
    domain_fields = {str(t[0]).split(".")[0] for t in (domain or []) if isinstance(t, list | tuple) and t}
    active_only = ("active" in definition.fields and env.context.get("active_test", True)
                   and "active" not in domain_fields)
    allowed = rule_predicate(env, model)
    rows = [r for r in env.rows(model)
            if (not active_only or r.get("active", True)) and (allowed is None or allowed(r)) and matches(r)]
    rows = sort_rows(env, model, rows, order or None)
    start = int(offset or 0)
    stop = start + int(limit) if limit else None
    return rows[start:stop]


def search(env: Env, model: str, domain: Any = None, offset: int = 0, limit: Any = None, order: Any = None,
           count: bool = False) -> list[int] | int:
    rows = search_rows(env, model, domain, offset, limit, order)
    return len(rows) if count else [r["id"] for r in rows]


def search_count(env: Env, model: str, domain: Any = None, limit: Any = None) -> int:
    return len(search_rows(env, model, domain, 0, limit, None))


def search_read(env: Env, model: str, domain: Any = None, fields: Any = None, offset: int = 0, limit: Any = None,
                order: Any = None) -> list[Row]:
    wanted = readable_fields(env, model, fields)
    return [format_row(env, model, row, wanted) for row in search_rows(env, model, domain, offset, limit, order)]


def name_search(env: Env, model: str, name: str = "", domain: Any = None, operator: str = "ilike",
                limit: int = 100, args: Any = None) -> list[list[Any]]:
    definition = env.model_def(model)
    base = list(domain or args or [])
    if name:
        names = definition.search_names or (definition.rec_name,)
        name_domain: list[Any] = ["|"] * (len(names) - 1) + [[n, operator, name] for n in names]
        base = ["&", *name_domain, *base] if base else name_domain
    rows = search_rows(env, model, base, 0, limit, None)
    return [[r["id"], env.display_name(model, r)] for r in rows]


def name_create(env: Env, model: str, name: str) -> list[Any]:
    definition = env.model_def(model)
    record_id = create_one(env, model, {definition.rec_name: name})
    row = env.row(model, record_id)
    assert row is not None
    return [record_id, env.display_name(model, row)]


def fields_get(env: Env, model: str, allfields: Any = None, attributes: Any = None) -> dict[str, Any]:
    definition = env.model_def(model)
    names = allfields or list(definition.fields)
    return {n: definition.fields[n].describe(attributes) for n in names if n in definition.fields}


def exists(env: Env, model: str, ids: list[int]) -> list[int]:
    return [i for i in ids if i in env.store.tables[model]]


GENERIC_METHODS: Mapping[str, Method] = MappingProxyType({
    "create": Method(create, False),
    "write": Method(write, True),
    "unlink": Method(unlink, True),
    "read": Method(read, True),
    "search": Method(search, False),
    "search_read": Method(search_read, False),
    "search_count": Method(search_count, False),
    "name_search": Method(name_search, False),
    "name_create": Method(name_create, False),
    "fields_get": Method(fields_get, False),
    "exists": Method(exists, True),
})
READ_ONLY_METHODS = frozenset({"read", "search", "search_read", "search_count", "name_search", "fields_get",
                               "read_group", "exists", "has_group"})


def execute(env: Env, model: str, method: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
    """execute_kw inside the sandbox: resolve the method, bind the arguments like Odoo's call_kw."""
    if method.startswith("_"):
        raise faults.private_method(method)
    definition = env.model_def(model)
    entry = definition.methods.get(method) or GENERIC_METHODS.get(method)
    if entry is None:
        raise faults.unknown_method(model, method)
    positional = list(args)
    keywords = dict(kwargs)
    if entry.on_records:
        if positional:
            ids = positional.pop(0)
        elif "ids" in keywords:
            ids = keywords.pop("ids")
        else:
            raise faults.type_error(f"{definition.class_name}.{method}() missing the record ids")
        call_args: list[Any] = [env, model, as_ids(ids), *positional]
    else:
        call_args = [env, model, *positional]
    try:
        inspect.signature(entry.fn).bind(*call_args, **keywords)
    except TypeError:
        raise _binding_fault(entry.fn, definition, method, call_args, keywords) from None
    return entry.fn(*call_args, **keywords)


def _binding_fault(fn: Callable[..., Any], definition: ModelDef, method: str, call_args: list[Any],
                   keywords: dict[str, Any]) -> faults.OdooFault:
    """Python's own wording of the argument error, with Odoo's class-qualified method name."""
    try:
        fn(*call_args, **keywords)
    except TypeError as error:
        message = re.sub(r"^[\w.<>]+\(\)", f"{definition.class_name}.{method}()", str(error))
        return faults.type_error(message)
    return faults.type_error(f"{definition.class_name}.{method}() got invalid arguments")
