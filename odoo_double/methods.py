"""The generic model methods every model answers over execute_kw (create, write, unlink, read,
search, search_read, search_count, name_search, name_create, fields_get) and the dispatch
that binds execute_kw's arguments like Odoo's call_kw.

Recorded behaviour: read drops missing ids and keeps the order and duplicates of the ids given;
write/unlink fault on missing ids; unknown fields and bad selection values fault with Odoo's texts;
a failed insert still consumes an id.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

from odoo_double import faults
from odoo_double.domain import Predicate, compile_domain
from odoo_double.fields import RELATIONAL, X2MANY, Field, apply_x2many_commands, to_cache
from odoo_double.ordering import sort_rows
from odoo_double.orm import Env, Method, ModelDef, Row

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
            raise faults.invalid_field(model, name, writing=True)
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
            raise faults.foreign_key(model, definition.description, name, f.string)


_NUMBERS = frozenset({"boolean", "integer", "float", "monetary"})  # False and 0 are values of theirs (NOT NULL holds)


def check_required(env: Env, model: str, row: Row) -> None:
    definition = env.model_def(model)
    for name, f in definition.fields.items():
        if f.required and f.stored and f.type not in _NUMBERS and row.get(name) in (False, None, "", []):
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
            row["write_date"] = env.log_time()
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
    check_access(env, model, "read", [])  # Odoo's _search asks the model's read access first
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


ACCESS_MODES = ("read", "write", "create", "unlink")


def check_access_rights(env: Env, model: str, operation: str, raise_exception: bool = True) -> bool:
    """Whether the user's groups allow `operation` on the model at all (Odoo 17's ir.model.access check: record
    rules are not asked); denied, the access fault, or False with raise_exception=False."""
    if operation not in ACCESS_MODES:
        raise faults.python_error("AssertionError", "Invalid access mode")
    try:
        check_access(env, model, operation, [])
    except faults.OdooFault:
        if raise_exception:
            raise
        return False
    return True


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
    "check_access_rights": Method(check_access_rights, False),
})
READ_ONLY_METHODS = frozenset({"read", "search", "search_read", "search_count", "name_search", "fields_get",
                               "read_group", "exists", "has_group", "check_access_rights"})


def execute(env: Env, model: str, method: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
    """execute_kw inside the sandbox: resolve the method, bind the arguments like Odoo's call_kw."""
    if method.startswith("_"):
        raise faults.private_method(method, model)
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
