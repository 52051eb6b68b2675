"""Process profiles: the support process a team runs, as data.

A profile (``profiles/<name>.yaml``) says which Odoo model the tickets live on, how tickets are
classified (Class of Service), how fast each class must be answered and updated, which real Odoo
stages the bot's logical stages are, who escalations go to, and who may do what. ``mindx`` is the
default; ``tmf`` and ``odoo-ps`` ship too. The YAML files are commented for the people who edit
them; this module holds the model, the loader and the validation.

Loading is strict: every error names ``file:line``, the dotted key and what is wrong, in one line,
e.g. ``profiles/x.yaml:14: classes.priority.update_every: '15 minutes' is not a duration (...)``.
Unknown keys and duplicate keys are errors. Keys that may be left out, and their defaults:

==============================  ==========================================================
key                             default when left out
==============================  ==========================================================
``deadline.urgent_priority``    the model's highest priority ('3' helpdesk.ticket, '1' project.task)
``extra_stages``                none: only the stages under ``stages`` are recognised
``stage_emails``                none: entering a stage sends no e-mail from Odoo
``kanban_states``               none: the bot leaves the kanban state alone
``required_fields``             none: no field must be set before a stage move
``roles``                       ``DEFAULT_ROLES`` (register_channel: lead, manager; read_summary: agent,
                                lead, manager); every other action open to every role
``manager_groups``              none: nobody is a manager
``management``                  no Priority threshold, a daily digest at 08:30 (``bot/process/management.py``)
``classes.<c>.resolve_within``  none: closing summaries do not measure the time to resolve
``notify_customer_on_cancel``   true
``language``                    ``en``: what the bot posts in channels on its own is in English
``escalation_teams.<t>.next``   null: the end of the chain
``escalation_teams.<t>.stage``  null: escalating does not move the ticket
``classes.deadline.update_every``  must be left out (or null): computed from the time left
==============================  ==========================================================
"""

import difflib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum
from os import PathLike, fspath
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final, NoReturn, TypeVar

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from bot.i18n import ENGLISH, shipped
from bot.process.durations import format_duration, parse_duration
from bot.process.management import ManagementPolicy, read_management
from bot.process.terms import (
    DEFAULT_ROLES,
    Action,
    Audience,
    ClassOfService,
    FollowUpRule,
    KanbanState,
    OdooModel,
    Role,
    Stage,
)

PROFILES_DIR: Final = Path(__file__).resolve().parents[2] / "profiles"
"""Where the shipped profiles live (``<repo>/profiles``)."""

DEFAULT_PROFILE: Final = "mindx"


class ProfileError(ValueError):
    """A profile that cannot be used; the message is one line: ``file:line: key: what is wrong``."""


# When several logical stages share one Odoo stage, a ticket seen in that Odoo stage is taken to be
# in the first of them in this order: the plain stages before the waiting ones.
_READ_BACK_ORDER: Final = (
    Stage.NEW,
    Stage.IN_PROGRESS,
    Stage.DONE,
    Stage.CANCELLED,
    Stage.RESOLVED,
    Stage.WAITING_CUSTOMER,
    Stage.ON_HOLD,
)


@dataclass(frozen=True)
class ServiceClass:
    """What a Class of Service means in one profile."""

    key: ClassOfService
    label: str  # "Priority"
    tag: str  # Odoo tag name carrying the class
    priority: str  # the model's priority selection value
    update_every: timedelta | None  # None for Fixed Deadline (computed from the time left)
    acknowledge_within: timedelta  # initial response SLA
    escalation_ack_within: timedelta  # how long an escalation may stay unacknowledged
    alerts: tuple[Audience, ...]  # who is alerted
    resolve_within: timedelta | None = None  # target from the report to the fix (closing summaries)


@dataclass(frozen=True)
class EscalationTeam:
    """A team tickets are escalated to; ``next`` gets the escalation when nobody answers."""

    key: str
    label: str
    next: str | None
    stage: str | None = None  # Odoo stage the ticket moves into when escalated here (TMF: "2nd line")


def _empty() -> Mapping[Any, Any]:
    return MappingProxyType({})


CLOSING_STAGES: Final = frozenset({Stage.DONE, Stage.CANCELLED})
"""The logical stages that finish a ticket: the Odoo stages they map to must close it (helpdesk_mgmt's
``closed``, a folded stage elsewhere)."""


@dataclass(frozen=True)
class NeededStage:
    """An Odoo stage the bot moves tickets into: it must exist in Odoo before the bot starts."""

    name: str
    serves: tuple[Stage, ...]  # the logical stages mapped to it, in lifecycle order

    @property
    def closing(self) -> bool:
        """Tickets in it are finished (done or cancelled), so Odoo must treat the stage as closed."""
        return any(stage in CLOSING_STAGES for stage in self.serves)


@dataclass(frozen=True)
class ProcessProfile:
    """One team's support process. Build it with :func:`load_profile`, which validates it."""

    name: str
    title: str
    model: OdooModel
    classes: Mapping[ClassOfService, ServiceClass]
    priority_min_users: int
    expedite_min_users: int
    stages: Mapping[Stage, str]  # logical stage -> Odoo stage name
    reception_within: timedelta
    follow_up_after: timedelta
    follow_up_give_up_after: timedelta
    follow_up_rule: FollowUpRule
    customer_reply_within: timedelta
    lead_after_misses: int
    deadline_min_updates: int
    deadline_checkpoints: tuple[float, ...]
    deadline_urgent_within: timedelta
    min_update_interval: timedelta
    escalation_teams: Mapping[str, EscalationTeam]
    ticket_types: tuple[str, ...]
    roles: Mapping[Action, tuple[Role, ...]]
    stage_emails: Mapping[Stage, str]  # logical stage -> subject of the e-mail Odoo sends on entering it
    notify_customer_on_cancel: bool
    required_fields: Mapping[Stage, tuple[str, ...]]
    # Optional parts, with defaults so that a profile can also be built by hand (in tests).
    deadline_urgent_priority: str | None = None  # None: the model's highest priority
    management: ManagementPolicy = field(default_factory=ManagementPolicy)  # management card and digest
    extra_stages: Mapping[str, Stage] = field(default_factory=_empty)
    odoo_stage_emails: Mapping[str, str] = field(default_factory=_empty)  # Odoo stage name -> subject
    kanban_states: Mapping[Stage, KanbanState] = field(default_factory=_empty)
    language: str = ENGLISH  # of the bot's own channel posts (a person's 1:1 chat is in their Teams language)
    # Odoo external ids (module.name) of the res.groups whose members are managers (bot/roles.py)
    manager_groups: tuple[str, ...] = ()
    source: str = ""  # the file the profile was loaded from

    def __hash__(self) -> int:  # the mappings are unhashable; equal profiles share these fields
        return hash((self.name, self.title, self.model, self.source))

    @property
    def urgent_priority(self) -> str:
        """The priority of a Fixed Deadline ticket close to (or past) its deadline."""
        return self.deadline_urgent_priority or self.model.priorities[-1]

    def stage_name(self, stage: Stage) -> str:
        """The Odoo stage the bot moves a ticket into for a logical stage."""
        return self.stages[stage]

    def needed_stages(self) -> tuple[NeededStage, ...]:
        """The Odoo stages the process needs, each once, in lifecycle order (new first, done and cancelled
        last): the one place that says which stages must exist, for the start-up check and ``setup-odoo``."""
        serving: dict[str, list[Stage]] = {}
        for stage in Stage:
            serving.setdefault(self.stages[stage], []).append(stage)
        return tuple(NeededStage(name, tuple(stages)) for name, stages in serving.items())

    def missing_stages(self, present: Iterable[str]) -> tuple[NeededStage, ...]:
        """The needed stages whose names are not among ``present`` (the Odoo stages' names)."""
        have = set(present)
        return tuple(stage for stage in self.needed_stages() if stage.name not in have)

    def class_tags(self) -> tuple[str, ...]:
        """The Odoo tags that carry the classes of service (the bot creates a missing one at start-up)."""
        return tuple(dict.fromkeys(service_class.tag for service_class in self.classes.values()))

    def odoo_stage_names(self) -> tuple[str, ...]:
        """Every Odoo stage name the profile knows, mapped ones first, without repeats."""
        return tuple(dict.fromkeys([*self.stages.values(), *self.extra_stages]))

    def stage_of(self, odoo_name: str, kanban_state: KanbanState | None = None) -> Stage | None:
        """The logical stage of a ticket seen in an Odoo stage, or None for an unknown stage.

        If several logical stages share the Odoo stage, those whose ``kanban_states`` entry matches
        ``kanban_state`` are preferred; among the rest the order is new, in_progress, done,
        cancelled, resolved, waiting_customer, on_hold.
        """
        candidates = [stage for stage in _READ_BACK_ORDER if self.stages[stage] == odoo_name]
        if not candidates:
            return self.extra_stages.get(odoo_name)
        if kanban_state is not None:
            matching = [stage for stage in candidates if self.kanban_states.get(stage) == kanban_state]
            if matching:
                return matching[0]
        return candidates[0]

    def class_for_tag(self, tag: str) -> ClassOfService | None:
        """The Class of Service an Odoo tag carries (compared without regard to case)."""
        wanted = tag.casefold()
        for service_class in self.classes.values():
            if service_class.tag.casefold() == wanted:
                return service_class.key
        return None

    def allows(self, action: Action | str, role: Role | str) -> bool:
        """Whether ``role`` may do ``action``; actions not listed under ``roles`` (nor in ``DEFAULT_ROLES``) are open
        to all.

        An action or role the bot does not know is a ``ValueError``.
        """
        allowed = self.roles.get(Action(action))
        return allowed is None or Role(role) in allowed

    def escalation_chain(self, team: str) -> tuple[EscalationTeam, ...]:
        """``team`` and everyone after it, in order (``dev`` -> ``senior`` -> ``management``)."""
        chain: list[EscalationTeam] = []
        key: str | None = team
        while key is not None:
            current = self.escalation_teams[key]
            chain.append(current)
            key = current.next
        return tuple(chain)


# --------------------------------------------------------------------------------------------
# Loading


def available_profiles() -> tuple[str, ...]:
    """The names of the shipped profiles, sorted."""
    return tuple(sorted(path.stem for path in PROFILES_DIR.glob("*.yaml")))


def load_profile(name_or_path: str | PathLike[str] = DEFAULT_PROFILE) -> ProcessProfile:
    """Load and validate a profile by name (``mindx``, ``tmf``, ``odoo-ps``) or from a YAML file."""
    text_or_path = fspath(name_or_path)
    if re.fullmatch(r"[a-z0-9][a-z0-9_-]*", text_or_path):  # a shipped profile's name
        path, source = PROFILES_DIR / f"{text_or_path}.yaml", f"profiles/{text_or_path}.yaml"
    else:
        path, source = Path(text_or_path), text_or_path
    if not path.is_file() and re.fullmatch(r"[\w-]+", text_or_path):  # a name (no '/' nor '.'), not a path
        raise ProfileError(f"no profile {text_or_path!r} (choose {', '.join(available_profiles())} "
                           "or a path to a YAML file)")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) else str(error)
        raise ProfileError(f"{source}: cannot read the profile: {reason}") from None
    return parse_profile(text, source)


def parse_profile(text: str, source: str = "<profile>") -> ProcessProfile:
    """Validate the YAML text of a profile; ``source`` names it in error messages."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark is not None else 1
        problem = error.problem or error.context or "cannot be read"
        raise ProfileError(f"{source}:{line}: not valid YAML: {problem}") from None
    except yaml.YAMLError as error:
        raise ProfileError(f"{source}: not valid YAML: {error}") from None
    if root is None:
        raise ProfileError(f"{source}:1: the profile is empty")
    return _Reader(source).profile(root)


# --------------------------------------------------------------------------------------------
# Validation

_E = TypeVar("_E", bound=StrEnum)

_STR: Final = "tag:yaml.org,2002:str"
_INT: Final = "tag:yaml.org,2002:int"
_FLOAT: Final = "tag:yaml.org,2002:float"
_BOOL: Final = "tag:yaml.org,2002:bool"
_NULL: Final = "tag:yaml.org,2002:null"
_MERGE: Final = "tag:yaml.org,2002:merge"
_SLUG: Final = re.compile(r"[a-z0-9][a-z0-9_-]*")
_EXTERNAL_ID: Final = re.compile(r"[A-Za-z0-9_]+\.[A-Za-z0-9_]+")  # Odoo's module.name (`__export__.` ones too)
_FIELD_NAME: Final = re.compile(r"[a-z_][a-z0-9_]*")

_TOP_REQUIRED: Final = (
    "name",
    "title",
    "model",
    "thresholds",
    "classes",
    "deadline",
    "timers",
    "follow_up",
    "stages",
    "escalation_teams",
    "ticket_types",
)
_TOP_OPTIONAL: Final = (
    "extra_stages",
    "stage_emails",
    "kanban_states",
    "required_fields",
    "roles",
    "manager_groups",
    "management",
    "notify_customer_on_cancel",
    "language",
)
_CLASS_KEYS: Final = (
    "label",
    "tag",
    "priority",
    "update_every",
    "acknowledge_within",
    "escalation_ack_within",
    "alerts",
)


def _join(path: str, key: str) -> str:
    shown = key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else repr(key)
    if not path:
        return shown
    return f"{path}[{shown}]" if shown.startswith("'") else f"{path}.{shown}"


def _one_of(values: Iterable[str]) -> str:
    quoted = [repr(value) for value in values]
    return quoted[0] if len(quoted) == 1 else f"{', '.join(quoted[:-1])} or {quoted[-1]}"


def _kind(node: Node) -> str:
    if isinstance(node, MappingNode):
        return "a mapping"
    if isinstance(node, SequenceNode):
        return "a list"
    if node.tag == _NULL:
        return "nothing"
    return repr(node.value)


@dataclass(frozen=True)
class _Reader:
    """Reads the composed YAML node tree, failing with ``source:line: key: message``."""

    source: str
    constructor: SafeConstructor = field(default_factory=SafeConstructor)
    # id(value node) -> its key node, so a missing key is reported on the line of its parent key
    key_nodes: dict[int, ScalarNode] = field(default_factory=dict)

    # -- generic ----------------------------------------------------------------------------

    def fail(self, node: Node, path: str, message: str) -> NoReturn:
        where = f"{self.source}:{node.start_mark.line + 1}"
        raise ProfileError(f"{where}: {path}: {message}" if path else f"{where}: {message}")

    def entries(self, node: Node, path: str) -> dict[str, tuple[ScalarNode, Node]]:
        """A mapping's entries by key, refusing duplicate and non-text keys; merge keys (<<) work."""
        if not isinstance(node, MappingNode):
            self.fail(node, path, f"expected a mapping of keys to values, got {_kind(node)}")
        seen: dict[str, ScalarNode] = {}
        for key_node, _ in node.value:
            if isinstance(key_node, ScalarNode) and key_node.tag == _MERGE:
                continue
            if not isinstance(key_node, ScalarNode) or key_node.tag not in (_STR, _INT, _BOOL):
                self.fail(key_node, path, f"keys must be plain text, got {_kind(key_node)}")
            if key_node.value in seen:
                first = seen[key_node.value].start_mark.line + 1
                self.fail(
                    key_node, _join(path, key_node.value), f"duplicate key (first given on line {first})"
                )
            seen[key_node.value] = key_node
        try:
            self.constructor.flatten_mapping(node)
        except yaml.MarkedYAMLError as error:
            self.fail(node, path, f"bad merge (<<): {error.problem}")
        entries: dict[str, tuple[ScalarNode, Node]] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode):
                self.fail(key_node, path, f"keys must be plain text, got {_kind(key_node)}")
            entries[key_node.value] = (key_node, value_node)
            self.key_nodes[id(value_node)] = key_node
        return entries

    def fields(
        self,
        node: Node,
        path: str,
        required: Sequence[str],
        optional: Sequence[str] = (),
        what: str = "key",
    ) -> dict[str, Node]:
        """The values of a mapping with a fixed set of keys; unknown and missing keys are errors."""
        entries = self.entries(node, path)
        known = [*required, *optional]
        for name, (key_node, _) in entries.items():
            if name not in known:
                close = difflib.get_close_matches(name, known, n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                self.fail(key_node, _join(path, name), f"unknown {what}{hint} (expected {_one_of(known)})")
        for name in required:
            if name not in entries:
                self.fail(
                    self.key_nodes.get(id(node), node), _join(path, name), "missing (this key is required)"
                )
        return {name: value for name, (_, value) in entries.items()}

    def scalar(self, node: Node, path: str, expected: str) -> ScalarNode:
        if not isinstance(node, ScalarNode):
            self.fail(node, path, f"expected {expected}, got {_kind(node)}")
        return node

    def text(self, node: Node, path: str) -> str:
        scalar = self.scalar(node, path, "text")
        if scalar.tag != _STR:
            self.fail(node, path, f"expected text, got {_kind(node)} (put it in quotes)")
        if not scalar.value.strip():
            self.fail(node, path, "must not be empty")
        return scalar.value.strip()

    def optional_text(self, node: Node | None, path: str) -> str | None:
        if node is None or (isinstance(node, ScalarNode) and node.tag == _NULL):
            return None
        return self.text(node, path)

    def integer(self, node: Node, path: str, minimum: int) -> int:
        scalar = self.scalar(node, path, "a whole number")
        if scalar.tag != _INT:
            self.fail(node, path, f"expected a whole number, got {_kind(node)}")
        value = self.constructor.construct_object(scalar)
        if not isinstance(value, int) or value < minimum:
            self.fail(node, path, f"must be at least {minimum}, got {scalar.value}")
        return value

    def number(self, node: Node, path: str) -> float:
        scalar = self.scalar(node, path, "a number")
        if scalar.tag not in (_INT, _FLOAT):
            self.fail(node, path, f"expected a number, got {_kind(node)}")
        return float(self.constructor.construct_object(scalar))

    def boolean(self, node: Node, path: str) -> bool:
        scalar = self.scalar(node, path, "true or false")
        if scalar.tag != _BOOL:
            self.fail(node, path, f"expected true or false, got {_kind(node)}")
        return bool(self.constructor.construct_object(scalar))

    def duration(self, node: Node, path: str) -> timedelta:
        scalar = self.scalar(node, path, "a duration such as 15m")
        try:
            value = parse_duration(scalar.value)
        except ValueError as error:
            self.fail(node, path, str(error))
        if value <= timedelta(0):
            self.fail(node, path, "must be longer than 0s")
        return value

    def choice(self, node: Node, path: str, kind: type[_E], what: str) -> _E:
        value = self.text(node, path)
        try:
            return kind(value)
        except ValueError:
            self.fail(node, path, f"{value!r} is not {what} (use {_one_of(member.value for member in kind)})")

    def text_list(self, node: Node, path: str, *, allow_empty: bool = False) -> list[tuple[Node, str]]:
        if not isinstance(node, SequenceNode):
            self.fail(node, path, f"expected a list, got {_kind(node)}")
        if not node.value and not allow_empty:
            self.fail(node, path, "must not be an empty list")
        items: list[tuple[Node, str]] = []
        seen: set[str] = set()
        for index, item in enumerate(node.value):
            value = self.text(item, f"{path}[{index}]")
            if value in seen:
                self.fail(item, f"{path}[{index}]", f"{value!r} is listed twice")
            seen.add(value)
            items.append((item, value))
        return items

    def choice_list(self, node: Node, path: str, kind: type[_E], what: str) -> tuple[_E, ...]:
        items = self.text_list(node, path)
        return tuple(
            self.choice(item, f"{path}[{index}]", kind, what) for index, (item, _) in enumerate(items)
        )

    def priority(self, node: Node, path: str, model: OdooModel) -> str:
        scalar = self.scalar(node, path, "a priority")
        value = scalar.value.strip()
        if scalar.tag not in (_STR, _INT) or value not in model.priorities:
            self.fail(
                node, path, f"{scalar.value!r} is not a priority of {model} (use {_one_of(model.priorities)})"
            )
        return value

    # -- sections ---------------------------------------------------------------------------

    def profile(self, root: Node) -> ProcessProfile:
        top = self.fields(root, "", _TOP_REQUIRED, _TOP_OPTIONAL)
        name = self.text(top["name"], "name")
        if not _SLUG.fullmatch(name):
            self.fail(top["name"], "name", f"{name!r} must be lower-case letters, digits, '-' or '_'")
        model = self.choice(top["model"], "model", OdooModel, "an Odoo model this bot supports")
        low, high = self.thresholds(top["thresholds"])
        classes = self.classes(top["classes"], model)
        min_updates, checkpoints, urgent_within, urgent_priority = self.deadline(
            top["deadline"], model, classes[ClassOfService.FIXED_DEADLINE].priority
        )
        timers = self.fields(
            top["timers"],
            "timers",
            ("reception_within", "customer_reply_within", "min_update_interval", "lead_after_misses"),
        )
        follow_up_after, give_up_after, rule = self.follow_up(top["follow_up"])
        stages = self.stages(top["stages"])
        extra = self.extra_stages(top.get("extra_stages"), stages)
        known_names = tuple(dict.fromkeys([*stages.values(), *extra]))
        odoo_emails = self.stage_emails(top.get("stage_emails"), known_names)
        teams = self.escalation_teams(top["escalation_teams"], known_names)
        ticket_types = tuple(value for _, value in self.text_list(top["ticket_types"], "ticket_types"))
        notify = top.get("notify_customer_on_cancel")
        return ProcessProfile(
            name=name,
            title=self.text(top["title"], "title"),
            model=model,
            classes=MappingProxyType(classes),
            priority_min_users=low,
            expedite_min_users=high,
            stages=MappingProxyType(stages),
            reception_within=self.duration(timers["reception_within"], "timers.reception_within"),
            follow_up_after=follow_up_after,
            follow_up_give_up_after=give_up_after,
            follow_up_rule=rule,
            customer_reply_within=self.duration(
                timers["customer_reply_within"], "timers.customer_reply_within"
            ),
            lead_after_misses=self.integer(timers["lead_after_misses"], "timers.lead_after_misses", 1),
            deadline_min_updates=min_updates,
            deadline_checkpoints=checkpoints,
            deadline_urgent_within=urgent_within,
            min_update_interval=self.duration(timers["min_update_interval"], "timers.min_update_interval"),
            escalation_teams=MappingProxyType(teams),
            ticket_types=ticket_types,
            roles=MappingProxyType(self.roles(top.get("roles"))),
            stage_emails=MappingProxyType(
                {stage: odoo_emails[name] for stage, name in stages.items() if name in odoo_emails}
            ),
            notify_customer_on_cancel=True
            if notify is None
            else self.boolean(notify, "notify_customer_on_cancel"),
            required_fields=MappingProxyType(self.required_fields(top.get("required_fields"))),
            deadline_urgent_priority=urgent_priority,
            management=read_management(self, top.get("management"), priority_min_users=low,
                                       expedite_min_users=high),
            extra_stages=MappingProxyType(extra),
            odoo_stage_emails=MappingProxyType(odoo_emails),
            kanban_states=MappingProxyType(self.kanban_states(top.get("kanban_states"))),
            language=self.language(top.get("language")),
            manager_groups=self.manager_groups(top.get("manager_groups")),
            source=self.source,
        )

    def language(self, node: Node | None) -> str:
        value = self.optional_text(node, "language")
        if value is not None and value not in shipped():
            assert node is not None
            self.fail(node, "language", f"{value!r} is not a language the bot speaks (use {_one_of(shipped())})")
        return value or ENGLISH

    def thresholds(self, node: Node) -> tuple[int, int]:
        values = self.fields(node, "thresholds", ("priority_min_users", "expedite_min_users"))
        low = self.integer(values["priority_min_users"], "thresholds.priority_min_users", 1)
        high = self.integer(values["expedite_min_users"], "thresholds.expedite_min_users", 1)
        if high <= low:
            self.fail(
                values["expedite_min_users"],
                "thresholds.expedite_min_users",
                f"must be greater than priority_min_users ({low}), got {high}",
            )
        return low, high

    def classes(self, node: Node, model: OdooModel) -> dict[ClassOfService, ServiceClass]:
        values = self.fields(node, "classes", [cos.value for cos in ClassOfService], what="class of service")
        classes: dict[ClassOfService, ServiceClass] = {}
        tags: dict[str, tuple[ClassOfService, Node]] = {}
        for cos in ClassOfService:
            path = f"classes.{cos.value}"
            computed = cos is ClassOfService.FIXED_DEADLINE
            required = [key for key in _CLASS_KEYS if not (computed and key == "update_every")]
            optional = ("resolve_within", *(("update_every",) if computed else ()))
            entry = self.fields(values[cos.value], path, required, optional)
            update_every: timedelta | None = None
            if computed:
                given = entry.get("update_every")
                if given is not None and not (isinstance(given, ScalarNode) and given.tag == _NULL):
                    self.fail(
                        given,
                        f"{path}.update_every",
                        "Fixed Deadline updates are spaced by the time left (deadline.min_updates); "
                        "remove this key",
                    )
            else:
                update_every = self.duration(entry["update_every"], f"{path}.update_every")
            tag = self.text(entry["tag"], f"{path}.tag")
            if tag.casefold() in tags:
                other, _ = tags[tag.casefold()]
                self.fail(entry["tag"], f"{path}.tag", f"{tag!r} is already the tag of classes.{other.value}")
            tags[tag.casefold()] = (cos, entry["tag"])
            classes[cos] = ServiceClass(
                key=cos,
                label=self.text(entry["label"], f"{path}.label"),
                tag=tag,
                priority=self.priority(entry["priority"], f"{path}.priority", model),
                update_every=update_every,
                acknowledge_within=self.duration(entry["acknowledge_within"], f"{path}.acknowledge_within"),
                escalation_ack_within=self.duration(
                    entry["escalation_ack_within"], f"{path}.escalation_ack_within"
                ),
                resolve_within=(self.duration(entry["resolve_within"], f"{path}.resolve_within")
                                if "resolve_within" in entry else None),
                alerts=self.choice_list(
                    entry["alerts"], f"{path}.alerts", Audience, "someone the bot can alert"
                ),
            )
        return classes

    def deadline(
        self, node: Node, model: OdooModel, class_priority: str
    ) -> tuple[int, tuple[float, ...], timedelta, str]:
        values = self.fields(
            node, "deadline", ("min_updates", "checkpoints", "urgent_within"), ("urgent_priority",)
        )
        min_updates = self.integer(values["min_updates"], "deadline.min_updates", 1)
        urgent_within = self.duration(values["urgent_within"], "deadline.urgent_within")
        urgent_priority = model.priorities[-1]
        if "urgent_priority" in values:
            urgent_priority = self.priority(values["urgent_priority"], "deadline.urgent_priority", model)
            if model.priorities.index(urgent_priority) < model.priorities.index(class_priority):
                self.fail(
                    values["urgent_priority"],
                    "deadline.urgent_priority",
                    f"must not be lower than classes.deadline.priority ({class_priority!r})",
                )
        listed = values["checkpoints"]
        if not isinstance(listed, SequenceNode) or not listed.value:
            self.fail(
                listed,
                "deadline.checkpoints",
                f"expected a list of fractions such as 0.5, got {_kind(listed)}",
            )
        checkpoints: list[float] = []
        for index, item in enumerate(listed.value):
            path = f"deadline.checkpoints[{index}]"
            fraction = self.number(item, path)
            if not 0 < fraction <= 1:
                self.fail(
                    item,
                    path,
                    f"{item.value} is not in (0, 1]: a checkpoint is a fraction of the time allowed",
                )
            if checkpoints and fraction <= checkpoints[-1]:
                self.fail(
                    item, path, f"{item.value} must come after {checkpoints[-1]:g}: list checkpoints in order"
                )
            checkpoints.append(fraction)
        return min_updates, tuple(checkpoints), urgent_within, urgent_priority

    def follow_up(self, node: Node) -> tuple[timedelta, timedelta, FollowUpRule]:
        values = self.fields(node, "follow_up", ("after", "give_up_after", "rule"))
        after = self.duration(values["after"], "follow_up.after")
        give_up_after = self.duration(values["give_up_after"], "follow_up.give_up_after")
        if give_up_after < after:
            self.fail(
                values["give_up_after"],
                "follow_up.give_up_after",
                f"must not be shorter than follow_up.after ({format_duration(after)})",
            )
        return (
            after,
            give_up_after,
            self.choice(values["rule"], "follow_up.rule", FollowUpRule, "a follow-up rule"),
        )

    def stages(self, node: Node) -> dict[Stage, str]:
        values = self.fields(node, "stages", [stage.value for stage in Stage], what="stage")
        return {stage: self.text(values[stage.value], f"stages.{stage.value}") for stage in Stage}

    def extra_stages(self, node: Node | None, stages: Mapping[Stage, str]) -> dict[str, Stage]:
        if node is None:
            return {}
        extra: dict[str, Stage] = {}
        for name, (key_node, value_node) in self.entries(node, "extra_stages").items():
            path = _join("extra_stages", name)
            if not name.strip():
                self.fail(key_node, "extra_stages", "an Odoo stage name must not be empty")
            mapped = [stage.value for stage, odoo_name in stages.items() if odoo_name == name]
            if mapped:
                self.fail(key_node, path, f"already the Odoo stage of stages.{mapped[0]}; list it only once")
            extra[name] = self.choice(value_node, path, Stage, "a stage")
        return extra

    def stage_emails(self, node: Node | None, known_names: tuple[str, ...]) -> dict[str, str]:
        if node is None:
            return {}
        emails: dict[str, str] = {}
        for name, (key_node, value_node) in self.entries(node, "stage_emails").items():
            path = _join("stage_emails", name)
            if name not in known_names:
                self.fail(
                    key_node,
                    path,
                    f"not an Odoo stage of this profile (known: {_one_of(known_names)})",
                )
            emails[name] = self.text(value_node, path)
        return emails

    def kanban_states(self, node: Node | None) -> dict[Stage, KanbanState]:
        if node is None:
            return {}
        values = self.fields(node, "kanban_states", (), [stage.value for stage in Stage], what="stage")
        return {
            Stage(key): self.choice(value, f"kanban_states.{key}", KanbanState, "a kanban state")
            for key, value in values.items()
        }

    def required_fields(self, node: Node | None) -> dict[Stage, tuple[str, ...]]:
        if node is None:
            return {}
        values = self.fields(node, "required_fields", (), [stage.value for stage in Stage], what="stage")
        required: dict[Stage, tuple[str, ...]] = {}
        for key, value in values.items():
            path = f"required_fields.{key}"
            names = self.text_list(value, path, allow_empty=True)
            for index, (item, field_name) in enumerate(names):
                if not _FIELD_NAME.fullmatch(field_name):
                    self.fail(item, f"{path}[{index}]", f"{field_name!r} is not an Odoo field name")
            required[Stage(key)] = tuple(field_name for _, field_name in names)
        return required

    def escalation_teams(self, node: Node, known_names: tuple[str, ...]) -> dict[str, EscalationTeam]:
        teams: dict[str, EscalationTeam] = {}
        next_nodes: dict[str, Node] = {}
        for key, (key_node, value_node) in self.entries(node, "escalation_teams").items():
            path = _join("escalation_teams", key)
            if not _SLUG.fullmatch(key):
                self.fail(key_node, path, "a team key must be lower-case letters, digits, '-' or '_'")
            values = self.fields(value_node, path, ("label",), ("next", "stage"))
            stage = self.optional_text(values.get("stage"), f"{path}.stage")
            if stage is not None and stage not in known_names:
                self.fail(
                    values["stage"],
                    f"{path}.stage",
                    f"{stage!r} is not an Odoo stage of this profile (use {_one_of(known_names)})",
                )
            teams[key] = EscalationTeam(
                key=key,
                label=self.text(values["label"], f"{path}.label"),
                next=self.optional_text(values.get("next"), f"{path}.next"),
                stage=stage,
            )
            next_nodes[key] = values.get("next", value_node)
        for key, team in teams.items():
            if team.next is not None and team.next not in teams:
                self.fail(
                    next_nodes[key],
                    f"escalation_teams.{key}.next",
                    f"{team.next!r} is not an escalation team (teams: {_one_of(teams)})",
                )
        for key in teams:
            chain = [key]
            following = teams[key].next
            while following is not None:
                if following in chain:
                    # report the link that closes the loop
                    loop = " -> ".join([*chain[chain.index(following) :], following])
                    culprit = chain[-1]
                    self.fail(
                        next_nodes[culprit],
                        f"escalation_teams.{culprit}.next",
                        f"the escalation chain loops: {loop}",
                    )
                chain.append(following)
                following = teams[following].next
        return teams

    def manager_groups(self, node: Node | None) -> tuple[str, ...]:
        if node is None:
            return ()
        groups = self.text_list(node, "manager_groups", allow_empty=True)
        for index, (item, xmlid) in enumerate(groups):
            if not _EXTERNAL_ID.fullmatch(xmlid):
                self.fail(item, f"manager_groups[{index}]",
                          f"{xmlid!r} is not an Odoo external id: write module.name, e.g. "
                          "mindx_support.group_support_manager (Odoo shows a group's external id in debug mode)")
        return tuple(xmlid for _, xmlid in groups)

    def roles(self, node: Node | None) -> dict[Action, tuple[Role, ...]]:
        if node is None:
            return dict(DEFAULT_ROLES)
        values = self.fields(node, "roles", (), [action.value for action in Action], what="action")
        return {
            **DEFAULT_ROLES,
            **{Action(key): self.choice_list(value, f"roles.{key}", Role, "a role") for key, value in values.items()},
        }
