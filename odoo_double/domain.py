"""Odoo's domain language, evaluated in memory.

Prefix operators '&', '|', '!' with an implicit AND between consecutive terms; leaves
(field_path, operator, value) with the operators of Odoo 17; related paths (`stage_id.name`)
match when ANY related record matches; negative operators (`!=`, `not in`, `not like`,
`not ilike`) also match empty values, like Odoo's SQL does.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import date, datetime
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from odoo_double import faults
from odoo_double.fields import X2MANY, Field, parse_date, parse_datetime

if TYPE_CHECKING:
    from odoo_double.orm import Env

Row = dict[str, Any]
Predicate = Callable[[Row], bool]

OPERATORS = frozenset({"=", "!=", "<>", "<", "<=", ">", ">=", "in", "not in", "like", "not like", "ilike",
                       "not ilike", "=like", "=ilike", "child_of", "parent_of", "=?"})
NEGATIVE = frozenset({"!=", "<>", "not in", "not like", "not ilike"})
ARITY = MappingProxyType({"!": 1, "&": 2, "|": 2})
TRUE_LEAF = (1, "=", 1)
FALSE_LEAF = (0, "=", 1)


def leaf_text(leaf: Iterable[Any]) -> str:
    return str(tuple(leaf))


def normalize(domain: Any) -> list[Any]:
    """Prefix form with explicit '&' (Odoo's normalize_domain) and leaves as tuples, validated."""
    if domain is False or domain is None:
        return []
    if not isinstance(domain, list | tuple):
        raise faults.value_error(f"Invalid domain {domain!r}")
    result: list[Any] = []
    expected = 1
    for token in domain:
        if expected == 0:
            result.insert(0, "&")
            expected = 1
        if isinstance(token, list | tuple):
            leaf = tuple(token)
            _check_leaf(leaf)
            result.append(leaf)
            expected -= 1
        elif token in ARITY:
            result.append(token)
            expected += ARITY[token] - 1
        else:
            raise faults.value_error(f"Invalid domain term {token!r}")
    if result and expected != 0:
        raise faults.value_error(f"Invalid domain {list(domain)!r}")
    return result


def _check_leaf(leaf: tuple[Any, ...]) -> None:
    if leaf in (TRUE_LEAF, FALSE_LEAF):
        return
    if len(leaf) != 3 or not isinstance(leaf[0], str) or not isinstance(leaf[1], str) \
            or leaf[1].lower() not in OPERATORS:
        raise faults.invalid_leaf(leaf_text(leaf))


def compile_domain(env: Env, model: str, domain: Any) -> Predicate:
    """A predicate on rows of `model`; raises the recorded faults for bad fields/operators."""
    tokens = normalize(domain)
    if not tokens:
        return lambda row: True
    predicate, rest = _compile(env, model, tokens)
    assert not rest
    return predicate


def _compile(env: Env, model: str, tokens: list[Any]) -> tuple[Predicate, list[Any]]:
    head, rest = tokens[0], tokens[1:]
    if head == "!":
        inner, rest = _compile(env, model, rest)
        return (lambda row: not inner(row)), rest
    if head in ("&", "|"):
        left, rest = _compile(env, model, rest)
        right, rest = _compile(env, model, rest)
        if head == "&":
            return (lambda row: left(row) and right(row)), rest
        return (lambda row: left(row) or right(row)), rest
    return _compile_leaf(env, model, head, head), rest


def _compile_leaf(env: Env, model: str, leaf: tuple[Any, ...], original: tuple[Any, ...]) -> Predicate:
    if leaf == TRUE_LEAF:
        return lambda row: True
    if leaf == FALSE_LEAF:
        return lambda row: False
    path, operator, value = leaf
    operator = operator.lower()
    if operator == "<>":
        operator = "!="
    name, _, rest = path.partition(".")
    definition = env.model_def(model)
    field = definition.fields.get(name)
    if field is None:
        raise faults.invalid_domain_field(model, name, leaf_text(original))
    if rest:
        if not field.relation:
            raise faults.invalid_domain_field(model, name, leaf_text(original))
        inner = _compile_leaf(env, field.relation, (rest, operator, value), original)
        comodel = field.relation

        def related(row: Row) -> bool:
            return any(inner(target) for target in env.related_rows(comodel, env.value(model, row, field)))
        return related
    if operator == "=?":
        if value is False or value is None:
            return lambda row: True
        operator = "="
    if operator in ("child_of", "parent_of"):
        return _hierarchy(env, model, field, operator, value)
    if field.relation and _is_name_value(value):
        return _by_name(env, model, field, operator, value)
    return _leaf_on_value(env, model, field, operator, value)


def _is_name_value(value: Any) -> bool:
    if isinstance(value, str):
        return True
    return isinstance(value, list | tuple) and bool(value) and all(isinstance(v, str) for v in value)


def _by_name(env: Env, model: str, field: Field, operator: str, value: Any) -> Predicate:
    """('stage_id', '=', 'New'), ('partner_id', 'ilike', 'jane'): match on the display name."""
    assert field.relation
    comodel = field.relation
    positive = operator.replace("not ", "").replace("!=", "=")
    names = list(value) if isinstance(value, list | tuple) else [value]
    test = _string_test(positive if positive not in ("in",) else "=", names)
    matching = {r["id"] for r in env.rows(comodel) if test(env.display_name(comodel, r))}
    negative = operator in NEGATIVE

    def check(row: Row) -> bool:
        ids = set(_ids_of(env.value(model, row, field)))
        hit = bool(ids & matching)
        return not hit if negative else hit
    return check


def _ids_of(value: Any) -> list[int]:
    if value is False or value is None:
        return []
    if isinstance(value, list):
        return value
    return [value]


def _hierarchy(env: Env, model: str, field: Field, operator: str, value: Any) -> Predicate:
    target_model = field.relation or model
    roots = set(_ids_of(value if not isinstance(value, tuple) else list(value)))
    parents = {r["id"]: r.get("parent_id") or False for r in env.rows(target_model)}
    wanted = set(roots)
    if operator == "child_of":
        changed = True
        while changed:
            changed = False
            for record_id, parent in parents.items():
                if parent in wanted and record_id not in wanted:
                    wanted.add(record_id)
                    changed = True
    else:
        for root in roots:
            parent = parents.get(root, False)
            while parent and parent not in wanted:
                wanted.add(parent)
                parent = parents.get(parent, False)

    def check(row: Row) -> bool:
        return bool(set(_ids_of(env.value(model, row, field))) & wanted)
    return check


def like_regex(pattern: str, *, sql: bool, insensitive: bool) -> re.Pattern[str]:
    """SQL LIKE as a regex: '%' any run, '_' one char; plain like/ilike wrap the value in '%'."""
    parts: list[str] = []
    escaped = False
    for char in pattern:
        if escaped:
            parts.append(re.escape(char))
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == "%":
            parts.append(".*")
        elif char == "_":
            parts.append(".")
        else:
            parts.append(re.escape(char))
    body = "".join(parts)
    if not sql:
        body = f".*{body}.*"
    return re.compile(f"^{body}$", re.DOTALL | (re.IGNORECASE if insensitive else 0))


def _string_test(operator: str, values: list[Any]) -> Callable[[Any], bool]:
    if operator in ("like", "ilike", "=like", "=ilike"):
        regexes = [like_regex(str(v), sql=operator.startswith("="), insensitive="ilike" in operator)
                   for v in values]
        return lambda text: isinstance(text, str) and any(rx.match(text) for rx in regexes)
    return lambda text: text in values


def _coerce(field: Field, value: Any) -> Any:
    if value is False or value is None:
        return False
    if field.type == "datetime":
        return parse_datetime(value)
    if field.type == "date":
        return parse_date(value)
    return value


def _comparable(field: Field, value: Any) -> Any:
    if isinstance(value, datetime) and field.type == "date":
        return value.date()
    if isinstance(value, date) and not isinstance(value, datetime) and field.type == "datetime":
        return datetime(value.year, value.month, value.day)
    return value


def _is_empty(field: Field, value: Any) -> bool:
    if field.type == "boolean":
        return value is False or value is None
    return value is False or value is None or value == [] or (value == "" and field.type not in ("char", "text"))


def _leaf_on_value(env: Env, model: str, field: Field, operator: str, value: Any) -> Predicate:
    many = field.type in X2MANY
    negative = operator in NEGATIVE
    if operator in ("in", "not in"):
        values = list(value) if isinstance(value, list | tuple) else [value]
        wanted = {_comparable(field, _coerce(field, v)) for v in values}  # scalars: a set, for long id lists
        wants_empty = any(v is False or v is None for v in values)

        def member(row: Row) -> bool:
            current = env.value(model, row, field)
            if many:
                hit = bool(set(current) & {v for v in wanted if v is not False})
                hit = hit or (wants_empty and not current)
            elif field.type == "boolean":
                hit = bool(current) in [bool(v) for v in wanted]
            elif _is_empty(field, current):
                hit = wants_empty
            else:
                hit = current in wanted
            return not hit if negative else hit
        return member
    target = _comparable(field, _coerce(field, value))
    if operator in ("=", "!="):
        def equal(row: Row) -> bool:
            current = env.value(model, row, field)
            if target is False and field.type != "boolean":
                hit = _is_empty(field, current)
            elif many:
                hit = target in current
            elif field.type == "boolean":
                hit = bool(current) == bool(target)
            else:
                hit = not _is_empty(field, current) and current == target
            return not hit if operator == "!=" else hit
        return equal
    if operator in ("like", "ilike", "=like", "=ilike", "not like", "not ilike"):
        positive = operator.replace("not ", "")
        test = _string_test(positive, [value if value is not False else ""])

        def like(row: Row) -> bool:
            current = env.value(model, row, field)
            if many:
                texts = [env.display_name(field.relation or model, r)
                         for r in env.related_rows(field.relation or model, current)]
            elif field.type == "many2one":
                texts = [env.display_name(field.relation or model, r)
                         for r in env.related_rows(field.relation or model, current)]
            elif _is_empty(field, current):
                texts = []
            else:
                texts = [current if isinstance(current, str) else str(current)]
            hit = any(test(t) for t in texts)
            return not hit if negative else hit
        return like
    compare = {"<": lambda a, b: a < b, "<=": lambda a, b: a <= b,
               ">": lambda a, b: a > b, ">=": lambda a, b: a >= b}[operator]

    def ordered(row: Row) -> bool:
        current = env.value(model, row, field)
        if _is_empty(field, current) or target is False or many:
            return False
        try:
            return bool(compare(current, target))
        except TypeError:
            return False
    return ordered
