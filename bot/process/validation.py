"""How a profile's YAML is checked: read with the line of every key, validated by pydantic models, and the first
problem told in one line, ``file:line: key: what is wrong``.

The models (``schema.py``, and ``management.py`` for its section) derive from :class:`Strict` and type their values
with the checked types here. Their validators :func:`fail` with a message written for the person editing the file;
the message may say :data:`GIVEN` for the value as written (``'15 minutes'``, ``a list``, ``nothing``) and
:data:`RAW` for a scalar as written, unquoted. :func:`validate` finds the line of the key the error is about.
"""

import difflib
import re
from collections.abc import Iterable
from datetime import timedelta
from enum import StrEnum
from typing import Annotated, Any, ClassVar, Final, NoReturn, TypeVar

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationError, model_validator
from pydantic_core import ErrorDetails, PydanticCustomError
from yaml.constructor import ConstructorError, SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from bot.process.durations import DURATION_FORMS, parse_duration


class ProfileError(ValueError):
    """A profile that cannot be used; the message is one line: ``file:line: key: what is wrong``."""


GIVEN: Final = "\x00given\x00"
"""In a :func:`fail` message: the value as written, quoted (``'15m'``), or ``a list``, ``a mapping``, ``nothing``."""
RAW: Final = "\x00raw\x00"
"""In a :func:`fail` message: the scalar as written, unquoted (``1.5``)."""

Loc = tuple[str | int, ...]
_E = TypeVar("_E", bound=StrEnum)
_M = TypeVar("_M", bound=BaseModel)

_MAP, _SEQ = "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"
_STR, _INT, _BOOL = "tag:yaml.org,2002:str", "tag:yaml.org,2002:int", "tag:yaml.org,2002:bool"
_NULL, _MERGE = "tag:yaml.org,2002:null", "tag:yaml.org,2002:merge"
_MOST_VALUES: Final = 100_000  # aliases can multiply a small file; a profile has a few hundred values
_DEEPEST: Final = 50  # a profile nests 5 deep; an alias inside its own anchor nests forever


def fail(message: str, *at: str | int, on_key: bool = False) -> NoReturn:
    """Refuse the value being validated; ``at``: the key (or index) below it the message is about, ``on_key``: point
    at the line of that key rather than of its value."""
    raise PydanticCustomError("profile", "{message}", {"message": message, "at": at, "on_key": on_key})


def one_of(values: Iterable[str]) -> str:
    """``'a', 'b' or 'c'``."""
    quoted = [repr(value) for value in values]
    return quoted[0] if len(quoted) == 1 else f"{', '.join(quoted[:-1])} or {quoted[-1]}"


class Opaque:
    """A value YAML can only build with a tag the profile does not allow (``!!python/...``): never accepted."""


# --------------------------------------------------------------------------------------------
# The models' base and the checked values


class Strict(BaseModel):
    """A section of the profile: a mapping with these keys exactly (unknown keys are refused, with a hint)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    what: ClassVar[str] = "key"  # what a key of this section is, for "unknown stage"

    @model_validator(mode="before")
    @classmethod
    def _known_keys(cls, value: Any) -> Any:
        return known_keys(value, list(cls.model_fields), cls.what)


def known_keys(value: Any, known: list[str], what: str) -> dict[str, Any]:
    """A mapping whose keys are all ``known``; an unknown one is refused with the closest known one as a hint."""
    for name in mapping(value):
        if name not in known:
            close = difflib.get_close_matches(name, known, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            fail(f"unknown {what}{hint} (expected {one_of(known)})", name, on_key=True)
    return value


def keyed_by(kind: type[StrEnum], what: str) -> BeforeValidator:
    """A mapping keyed by the enumeration's values (``kanban_states``, ``roles``), none required."""
    return BeforeValidator(lambda value: known_keys(value, [member.value for member in kind], what))


def mapping(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        fail(f"expected a mapping of keys to values, got {GIVEN}")
    return value


def scalar(value: Any, expected: str) -> Any:
    if isinstance(value, dict | list | Opaque):
        fail(f"expected {expected}, got {GIVEN}")
    return value


def text(value: Any) -> str:
    if not isinstance(scalar(value, "text"), str):
        fail(f"expected text, got {GIVEN} (put it in quotes)")
    if not value.strip():
        fail("must not be empty")
    return value.strip()


def optional_text(value: Any) -> str | None:
    return None if value is None else text(value)


def count(value: Any) -> int:
    """A whole number, at least 1."""
    if type(scalar(value, "a whole number")) is not int:
        fail(f"expected a whole number, got {GIVEN}")
    if value < 1:
        fail(f"must be at least 1, got {RAW}")
    return value


def boolean(value: Any) -> bool:
    if type(scalar(value, "true or false")) is not bool:
        fail(f"expected true or false, got {GIVEN}")
    return value


def duration(value: Any) -> timedelta:
    if not isinstance(scalar(value, "a duration such as 15m"), str):  # 10 (no unit), nothing...
        fail(f"'{RAW}' is not a duration ({DURATION_FORMS})")
    try:
        parsed = parse_duration(value)
    except ValueError as error:
        fail(str(error))
    if parsed <= timedelta(0):
        fail("must be longer than 0s")
    return parsed


def choice(kind: type[_E], what: str) -> BeforeValidator:
    """One of the enumeration's values; ``what`` says what it is in the error ("a follow-up rule")."""

    def check(value: Any) -> _E:
        written = text(value)
        try:
            return kind(written)
        except ValueError:
            fail(f"{written!r} is not {what} (use {one_of(member.value for member in kind)})")

    return BeforeValidator(check)


def matching(pattern: str, problem: str) -> BeforeValidator:
    """Text that fits the regular expression; ``problem`` follows the value in the error ("is not a field name")."""

    def check(value: Any) -> str:
        written = text(value)
        if not re.fullmatch(pattern, written):
            fail(f"{written!r} {problem}")
        return written

    return BeforeValidator(check)


def listed(*, allow_empty: bool = False) -> BeforeValidator:
    """A list (its items checked by the item type), none twice."""

    def check(value: Any) -> list[Any]:
        if not isinstance(value, list):
            fail(f"expected a list, got {GIVEN}")
        if not value and not allow_empty:
            fail("must not be an empty list")
        seen: set[str] = set()
        for index, item in enumerate(value):
            if isinstance(item, str) and item.strip() in seen:
                fail(f"{item.strip()!r} is listed twice", index)
            seen.add(item.strip() if isinstance(item, str) else "")
        return value

    return BeforeValidator(check)


Text = Annotated[str, BeforeValidator(text)]
OptionalText = Annotated[str | None, BeforeValidator(optional_text)]  # null is None
Count = Annotated[int, BeforeValidator(count)]
Flag = Annotated[bool, BeforeValidator(boolean)]
Duration = Annotated[timedelta, BeforeValidator(duration)]
OptionalDuration = Annotated[timedelta | None, BeforeValidator(duration)]  # left out is None; null is an error
Texts = Annotated[tuple[Text, ...], listed()]


# --------------------------------------------------------------------------------------------
# Reading the YAML, and telling where a problem is


def validate(model: type[_M], yaml_text: str, source: str) -> _M:
    """The YAML text validated by ``model``, or a :class:`ProfileError` naming ``source`` and the line."""
    document = _Document(source)
    data = document.read(yaml_text)
    try:
        return model.model_validate(data)
    except ValidationError as error:
        problems = [document.problem(details) for details in error.errors(include_url=False)]
        line, message = min(problems, key=lambda problem: problem[0])  # the first line; among equal, the first told
        raise ProfileError(f"{source}:{line}: {message}") from None


def _path(loc: Loc) -> str:
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
            continue
        shown = part if re.fullmatch(r"[A-Za-z0-9_-]+", part) else repr(part)
        path = shown if not path else f"{path}[{shown}]" if shown.startswith("'") else f"{path}.{shown}"
    return path


def _kind(node: Node) -> str:
    if node.tag not in SafeConstructor.yaml_constructors:
        return f"a value tagged {node.tag.replace('tag:yaml.org,2002:', '!!')}"
    if isinstance(node, MappingNode):
        return "a mapping"
    if isinstance(node, SequenceNode):
        return "a list"
    return "nothing" if node.tag == _NULL else repr(node.value)


class _Document:
    """Plain values (dicts, lists, scalars) from the YAML, and the nodes each came from, by key path."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.nodes: dict[Loc, tuple[Node | None, Node]] = {}  # path -> (key node, value node)
        self.constructor = SafeConstructor()

    def refuse(self, node: Node, loc: Loc, message: str) -> NoReturn:
        where = f"{self.source}:{node.start_mark.line + 1}"
        raise ProfileError(f"{where}: {_path(loc)}: {message}" if loc else f"{where}: {message}")

    def read(self, text: str) -> Any:
        try:
            root = yaml.compose(text, Loader=yaml.SafeLoader)
        except yaml.MarkedYAMLError as error:
            mark = error.problem_mark or error.context_mark
            line = mark.line + 1 if mark is not None else 1
            problem = error.problem or error.context or "cannot be read"
            raise ProfileError(f"{self.source}:{line}: not valid YAML: {problem}") from None
        except yaml.YAMLError as error:
            raise ProfileError(f"{self.source}: not valid YAML: {error}") from None
        if root is None:
            raise ProfileError(f"{self.source}:1: the profile is empty")
        return self.value(root, (), None)

    def value(self, node: Node, loc: Loc, key: Node | None) -> Any:
        self.nodes[loc] = (key, node)
        if len(self.nodes) > _MOST_VALUES or len(loc) > _DEEPEST:  # told on the top-level key they are under
            top_key, top = self.nodes[loc[:1]]
            self.refuse(top_key or top, loc[:1], "too many values, or nested too deeply: does an alias (*name) "
                        "repeat itself?")
        if isinstance(node, MappingNode) and node.tag == _MAP:
            return self.mapping(node, loc)
        if isinstance(node, SequenceNode) and node.tag == _SEQ:
            return [self.value(item, (*loc, index), None) for index, item in enumerate(node.value)]
        if isinstance(node, ScalarNode):
            try:
                return self.constructor.construct_object(node)
            except ConstructorError:  # a tag SafeLoader does not build (!!python/...)
                pass
        return Opaque()

    def mapping(self, node: MappingNode, loc: Loc) -> dict[str, Any]:
        """Duplicate keys and keys other than text are refused; merge keys (<<) work, the explicit value wins."""
        seen: dict[str, Node] = {}
        for key, _ in node.value:
            if isinstance(key, ScalarNode) and key.tag == _MERGE:
                continue
            if not isinstance(key, ScalarNode) or key.tag not in (_STR, _INT, _BOOL):
                self.refuse(key, loc, f"keys must be plain text, got {_kind(key)}")
            if key.value in seen:
                first = seen[key.value].start_mark.line + 1
                self.refuse(key, (*loc, key.value), f"duplicate key (first given on line {first})")
            seen[key.value] = key
        try:
            self.constructor.flatten_mapping(node)
        except yaml.MarkedYAMLError as error:
            self.refuse(node, loc, f"bad merge (<<): {error.problem}")
        values: dict[str, Any] = {}
        for key, value in node.value:
            if not isinstance(key, ScalarNode):
                self.refuse(key, loc, f"keys must be plain text, got {_kind(key)}")
            values[key.value] = self.value(value, (*loc, key.value), key)
        return values

    def problem(self, details: ErrorDetails) -> tuple[int, str]:
        """The line and the ``key: what is wrong`` of one of pydantic's errors."""
        context = details.get("ctx") or {}
        loc: Loc = (*details["loc"], *context.get("at", ()))
        if details["type"] == "missing":  # on the line of the section's key
            key, node = self._nearest(loc[:-1])
            where, message = key or node, "missing (this key is required)"
        else:
            key, node = self._nearest(loc)
            where = key if context.get("on_key") and key is not None else node
            raw = node.value if isinstance(node, ScalarNode) else _kind(node)
            message = str(context.get("message", details["msg"])).replace(GIVEN, _kind(node)).replace(RAW, raw)
        path = _path(loc)
        return where.start_mark.line + 1, f"{path}: {message}" if path else message

    def _nearest(self, loc: Loc) -> tuple[Node | None, Node]:
        while loc not in self.nodes:
            loc = loc[:-1]
        return self.nodes[loc]
