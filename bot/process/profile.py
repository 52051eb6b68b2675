"""Process profiles: the support process a team runs, as data.

A profile (``profiles/<name>.yaml``) says which Odoo model the tickets live on, how tickets are
classified (Class of Service), how fast each class must be answered and updated, which real Odoo
stages the bot's logical stages are, who escalations go to, and who may do what. ``mindx`` is the
default; ``tmf`` and ``odoo-ps`` ship too. The YAML files are commented for the people who edit
them; this module holds the model and the loader. What the YAML may say is the pydantic models of
``schema.py``; ``validation.py`` reads the YAML and tells a problem's line.

Loading is strict: every error names ``file:line``, the dotted key and what is wrong, in one line,
e.g. ``profiles/x.yaml:14: classes.priority.update_every: '15 minutes' is not a duration (...)``;
with several, the first in the file. Unknown keys and duplicate keys are errors. Keys that may be
left out, and their defaults:

==============================  ==========================================================
key                             default when left out
==============================  ==========================================================
``deadline.urgent_priority``    the model's highest priority ('3' helpdesk.ticket, '1' project.task)
``type_tags``                   none: a ticket's type (``type:``) is written in its facts block only, not as a tag
``extra_stages``                none: only the stages under ``stages`` are recognised
``stage_emails``                none: entering a stage sends no e-mail from Odoo
``kanban_states``               none: the bot leaves the kanban state alone
``required_fields``             none: no field must be set before a stage move
``roles``                       ``DEFAULT_ROLES`` (register_channel: lead, manager; read_summary: agent,
                                lead, manager); every other action open to every role
``manager_groups``              none: nobody is a manager
``management``                  no Priority threshold, a daily digest at 08:30 (``bot/process/management.py``)
``classes.<c>.resolve_within``  none: closing summaries do not measure the time to resolve
``follow_up.activity``          false: the follow-up is the bot's reminder only, not also an Odoo activity
``notify_customer_on_cancel``   true
``language``                    ``en``: what the bot posts in channels on its own is in English
``triage_stage``                none: there is no triage step (``/ticket triage`` says so)
``incident_stage``              none: an incident logged in GitLab (``/ticket gitlab``) leaves the ticket where it is
``escalation_teams.<t>.next``   null: the end of the chain
``escalation_teams.<t>.stage``  null: escalating does not move the ticket
``classes.deadline.update_every``  must be left out (or null): computed from the time left
==============================  ==========================================================
"""

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from os import PathLike, fspath
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final

from bot.i18n import ENGLISH
from bot.process.management import ManagementPolicy
from bot.process.schema import ProfileFile
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
from bot.process.validation import ProfileError, validate

PROFILES_DIR: Final = Path(__file__).resolve().parents[2] / "profiles"
"""Where the shipped profiles live (``<repo>/profiles``)."""

DEFAULT_PROFILE: Final = "mindx"


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
    follow_up_activity: bool  # resolving schedules the follow-up as an Odoo activity too (Odoo PS: "Set Activity")
    customer_reply_within: timedelta
    lead_after_misses: int
    deadline_min_updates: int
    deadline_checkpoints: tuple[float, ...]
    deadline_urgent_within: timedelta
    min_update_interval: timedelta
    escalation_teams: Mapping[str, EscalationTeam]
    ticket_types: tuple[str, ...]
    type_tags: Mapping[str, str]  # ticket type -> the Odoo tag a ticket of that type gets (Odoo PS: "Technical Call")
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
    triage_stage: str | None = None  # the Odoo stage `/ticket triage` moves a ticket into (TMF: Triage)
    # Odoo external ids (module.name) of the res.groups whose members are managers (bot/roles.py)
    manager_groups: tuple[str, ...] = ()
    incident_stage: str | None = None  # the Odoo stage an incident logged in GitLab closes the ticket into (TMF's)
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
        last): the one place that says which stages must exist, for the start-up check and ``setup-odoo``. A stage
        the bot moves tickets into beyond those is one too, beside the stage serving the same logical stage: the
        triage stage before it, an escalation team's and the incident stage after it (TMF: New, Triage, 1st line,
        2nd line; Done, 1st line: incident)."""
        serving: dict[str, list[Stage]] = {}
        for stage in Stage:
            serving.setdefault(self.stages[stage], []).append(stage)
        needed = [NeededStage(name, tuple(stages)) for name, stages in serving.items()]

        def insert(name: str | None, *, before: bool) -> None:
            if name is None or name in {need.name for need in needed}:
                return
            logical = self.extra_stages[name]  # the schema checked it is one of the profile's stages
            serving_it = [index for index, need in enumerate(needed) if logical in need.serves]
            needed.insert(serving_it[0] if before else serving_it[-1] + 1, NeededStage(name, (logical,)))

        insert(self.triage_stage, before=True)  # triage comes before the work (TMF: New, Triage, 1st line)
        for team in self.escalation_teams.values():
            insert(team.stage, before=False)  # an escalation after it (1st line, 2nd line)
        insert(self.incident_stage, before=False)  # an incident closes after the work (Done, 1st line: incident)
        return tuple(needed)

    def missing_stages(self, present: Iterable[str]) -> tuple[NeededStage, ...]:
        """The needed stages whose names are not among ``present`` (the Odoo stages' names)."""
        have = set(present)
        return tuple(stage for stage in self.needed_stages() if stage.name not in have)

    def class_tags(self) -> tuple[str, ...]:
        """The Odoo tags that carry the classes of service."""
        return tuple(dict.fromkeys(service_class.tag for service_class in self.classes.values()))

    def tags(self) -> tuple[str, ...]:
        """Every Odoo tag the bot writes: the classes', then the ticket types' (a missing one is created at
        start-up, and by setup-odoo --apply)."""
        return tuple(dict.fromkeys([*self.class_tags(), *self.type_tags.values()]))

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
    written = validate(ProfileFile, text, source)
    stages = {stage: getattr(written.stages, stage.value) for stage in Stage}
    deadline = written.deadline
    return ProcessProfile(
        name=written.name,
        title=written.title,
        model=written.model,
        classes=MappingProxyType({cos: ServiceClass(key=cos, **getattr(written.classes, cos.value).model_dump())
                                  for cos in ClassOfService}),
        priority_min_users=written.thresholds.priority_min_users,
        expedite_min_users=written.thresholds.expedite_min_users,
        stages=MappingProxyType(stages),
        reception_within=written.timers.reception_within,
        follow_up_after=written.follow_up.after,
        follow_up_give_up_after=written.follow_up.give_up_after,
        follow_up_rule=written.follow_up.rule,
        follow_up_activity=written.follow_up.activity,
        customer_reply_within=written.timers.customer_reply_within,
        lead_after_misses=written.timers.lead_after_misses,
        deadline_min_updates=deadline.min_updates,
        deadline_checkpoints=deadline.checkpoints,
        deadline_urgent_within=deadline.urgent_within,
        min_update_interval=written.timers.min_update_interval,
        escalation_teams=MappingProxyType({key: EscalationTeam(key, team.label, team.next, team.stage)
                                           for key, team in written.escalation_teams.items()}),
        ticket_types=written.ticket_types,
        type_tags=MappingProxyType(dict(written.type_tags)),
        roles=MappingProxyType({**DEFAULT_ROLES, **written.roles}),
        stage_emails=MappingProxyType({stage: written.stage_emails[name] for stage, name in stages.items()
                                       if name in written.stage_emails}),
        notify_customer_on_cancel=written.notify_customer_on_cancel,
        required_fields=MappingProxyType(dict(written.required_fields)),
        deadline_urgent_priority=deadline.urgent_priority or written.model.priorities[-1],
        management=written.management.policy(),
        extra_stages=MappingProxyType(dict(written.extra_stages)),
        odoo_stage_emails=MappingProxyType(dict(written.stage_emails)),
        kanban_states=MappingProxyType(dict(written.kanban_states)),
        language=written.language,
        triage_stage=written.triage_stage,
        manager_groups=written.manager_groups,
        incident_stage=written.incident_stage,
        source=source,
    )
