"""A profile's YAML as pydantic models: what each key may hold, and the checks across keys.

``profile.py`` turns a validated :class:`ProfileFile` into the :class:`~bot.process.profile.ProcessProfile` the bot
uses; the messages are written for the person editing the file (``validation.py`` adds the file and line).
"""

import re
from datetime import timedelta
from typing import Annotated, Any, Final, Self

from pydantic import BeforeValidator, Field, model_validator

from bot.i18n import ENGLISH, shipped
from bot.process.durations import format_duration
from bot.process.management import ManagementSection
from bot.process.terms import Action, Audience, FollowUpRule, KanbanState, OdooModel, Role, Stage
from bot.process.validation import (
    GIVEN,
    RAW,
    Count,
    Duration,
    Flag,
    OptionalDuration,
    OptionalText,
    Strict,
    Text,
    Texts,
    choice,
    fail,
    keyed_by,
    listed,
    mapping,
    matching,
    one_of,
    scalar,
    text,
)

_SLUG: Final = r"[a-z0-9][a-z0-9_-]*"
_SLUG_RULE: Final = "must be lower-case letters, digits, '-' or '_'"


def _priority(value: Any) -> str:
    """A value of the model's priority selection, in quotes or not; whether the model has it is checked by
    :class:`ProfileFile`, which knows the model (any other scalar is no priority, and told so there)."""
    return str(scalar(value, "a priority")).strip()


def _checkpoints(value: Any) -> tuple[float, ...]:
    if not isinstance(value, list) or not value:
        fail(f"expected a list of fractions such as 0.5, got {GIVEN}")
    fractions: list[float] = []
    for index, item in enumerate(value):
        if type(item) not in (int, float):
            fail(f"expected a number, got {GIVEN}", index)
        fraction = float(item)
        if not 0 < fraction <= 1:
            fail(f"{RAW} is not in (0, 1]: a checkpoint is a fraction of the time allowed", index)
        if fractions and fraction <= fractions[-1]:
            fail(f"{RAW} must come after {fractions[-1]:g}: list checkpoints in order", index)
        fractions.append(fraction)
    return tuple(fractions)


def _no_cadence(value: Any) -> None:
    if value is not None:
        fail("Fixed Deadline updates are spaced by the time left (deadline.min_updates); remove this key")


def _team_keys(value: Any) -> dict[str, Any]:
    for key in mapping(value):
        if not re.fullmatch(_SLUG, key):
            fail(f"a team key {_SLUG_RULE}", key, on_key=True)
    return value


def _stage_names(value: Any) -> dict[str, Any]:
    for key in mapping(value):
        if not key.strip():
            fail("an Odoo stage name must not be empty", key, on_key=True)
    return value


def _language(value: Any) -> str:
    language = ENGLISH if value is None else text(value)
    if language not in shipped():
        fail(f"{language!r} is not a language the bot speaks (use {one_of(shipped())})")
    return language


Priority = Annotated[str, BeforeValidator(_priority)]
Alerts = Annotated[tuple[Annotated[Audience, choice(Audience, "someone the bot can alert")], ...], listed()]
Roles = Annotated[tuple[Annotated[Role, choice(Role, "a role")], ...], listed()]
FieldNames = Annotated[tuple[Annotated[str, matching(r"[a-z_][a-z0-9_]*", "is not an Odoo field name")], ...],
                       listed(allow_empty=True)]
ExternalIds = Annotated[tuple[Annotated[str, matching(
    r"[A-Za-z0-9_]+\.[A-Za-z0-9_]+",  # Odoo's module.name (`__export__.` ones too)
    "is not an Odoo external id: write module.name, e.g. mindx_support.group_support_manager "
    "(Odoo shows a group's external id in debug mode)")], ...], listed(allow_empty=True)]
StageName = Annotated[Stage, choice(Stage, "a stage")]
Kanban = Annotated[KanbanState, choice(KanbanState, "a kanban state")]


class _Thresholds(Strict):
    priority_min_users: Count
    expedite_min_users: Count

    @model_validator(mode="after")
    def _increasing(self) -> Self:
        if self.expedite_min_users <= self.priority_min_users:
            fail(f"must be greater than priority_min_users ({self.priority_min_users}), got {self.expedite_min_users}",
                 "expedite_min_users")
        return self


class _ServiceClass(Strict):
    label: Text
    tag: Text
    priority: Priority
    update_every: timedelta | None  # a duration, or left out for Fixed Deadline: see the two kinds below
    acknowledge_within: Duration
    escalation_ack_within: Duration
    alerts: Alerts
    resolve_within: OptionalDuration = None


class _UpdatedClass(_ServiceClass):
    update_every: Duration


class _DeadlineClass(_ServiceClass):
    update_every: Annotated[None, BeforeValidator(_no_cadence)] = None  # null is allowed: the same as left out


class _Classes(Strict):
    what = "class of service"
    standard: _UpdatedClass
    priority: _UpdatedClass
    expedite: _UpdatedClass
    deadline: _DeadlineClass

    @model_validator(mode="after")
    def _distinct_tags(self) -> Self:
        tagged: dict[str, str] = {}
        for key, service_class in self:
            other = tagged.setdefault(service_class.tag.casefold(), key)
            if other != key:
                fail(f"{service_class.tag!r} is already the tag of classes.{other}", key, "tag")
        return self


class _Deadline(Strict):
    min_updates: Count
    checkpoints: Annotated[tuple[float, ...], BeforeValidator(_checkpoints)]
    urgent_within: Duration
    urgent_priority: Annotated[str | None, BeforeValidator(_priority)] = None  # the model's highest


class _Timers(Strict):
    reception_within: Duration
    customer_reply_within: Duration
    min_update_interval: Duration
    lead_after_misses: Count


class _FollowUp(Strict):
    after: Duration
    give_up_after: Duration
    rule: Annotated[FollowUpRule, choice(FollowUpRule, "a follow-up rule")]
    activity: Flag = False  # resolving also schedules the follow-up as an Odoo activity (a To-Do) for the owner

    @model_validator(mode="after")
    def _not_before(self) -> Self:
        if self.give_up_after < self.after:
            fail(f"must not be shorter than follow_up.after ({format_duration(self.after)})", "give_up_after")
        return self


class _Team(Strict):
    label: Text
    next: OptionalText = None  # null: the end of the chain
    stage: OptionalText = None  # null: escalating does not move the ticket


class _Stages(Strict):
    what = "stage"
    new: Text
    in_progress: Text
    on_hold: Text
    waiting_customer: Text
    resolved: Text
    done: Text
    cancelled: Text


class ProfileFile(Strict):
    """A whole profile as written (see ``profile.py`` for what each key means and the defaults)."""

    name: Annotated[str, matching(_SLUG, _SLUG_RULE)]
    title: Text
    model: Annotated[OdooModel, choice(OdooModel, "an Odoo model this bot supports")]
    thresholds: _Thresholds
    classes: _Classes
    deadline: _Deadline
    timers: _Timers
    follow_up: _FollowUp
    stages: _Stages
    escalation_teams: Annotated[dict[str, _Team], BeforeValidator(_team_keys)]
    ticket_types: Texts
    type_tags: Annotated[dict[str, Text], BeforeValidator(mapping)] = Field(default_factory=dict)
    extra_stages: Annotated[dict[str, StageName], BeforeValidator(_stage_names)] = Field(default_factory=dict)
    stage_emails: Annotated[dict[str, Text], BeforeValidator(mapping)] = Field(default_factory=dict)
    kanban_states: Annotated[dict[Stage, Kanban], keyed_by(Stage, "stage")] = Field(default_factory=dict)
    required_fields: Annotated[dict[Stage, FieldNames], keyed_by(Stage, "stage")] = Field(default_factory=dict)
    roles: Annotated[dict[Action, Roles], keyed_by(Action, "action")] = Field(default_factory=dict)
    manager_groups: ExternalIds = ()
    management: ManagementSection = ManagementSection()
    notify_customer_on_cancel: Flag = True
    language: Annotated[str, BeforeValidator(_language)] = ENGLISH
    triage_stage: OptionalText = None  # `/ticket triage` moves the ticket into it (TMF: Triage); none: no triage step
    incident_stage: OptionalText = None  # null: an incident logged in GitLab leaves the ticket where it is

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        """The checks across sections, in the order of the file."""
        priorities = self.model.priorities
        for key, service_class in self.classes:
            self._priority(service_class.priority, "classes", key, "priority")
        urgent, deadline_priority = self.deadline.urgent_priority, self.classes.deadline.priority
        if urgent is not None:
            self._priority(urgent, "deadline", "urgent_priority")
            if priorities.index(urgent) < priorities.index(deadline_priority):
                fail(f"must not be lower than classes.deadline.priority ({deadline_priority!r})",
                     "deadline", "urgent_priority")
        mapped: dict[str, str] = dict(self.stages)  # stage -> Odoo stage
        for name in self.extra_stages:
            if name in mapped.values():
                stage = next(stage for stage, odoo_name in mapped.items() if odoo_name == name)
                fail(f"already the Odoo stage of stages.{stage}; list it only once", "extra_stages", name, on_key=True)
        for kind in self.type_tags:
            if kind not in self.ticket_types:
                fail(f"not a ticket type of this profile (ticket_types: {one_of(self.ticket_types)})", "type_tags",
                     kind, on_key=True)
        known = tuple(dict.fromkeys([*mapped.values(), *self.extra_stages]))
        for name in self.stage_emails:
            if name not in known:
                fail(f"not an Odoo stage of this profile (known: {one_of(known)})", "stage_emails", name, on_key=True)
        if self.triage_stage is not None and self.triage_stage not in known:
            fail(f"{self.triage_stage!r} is not an Odoo stage of this profile (use {one_of(known)})", "triage_stage")
        self._escalation_chains(known)
        self._incident_stage(known)
        users = self.management.policy().priority_users
        low, high = self.thresholds.priority_min_users, self.thresholds.expedite_min_users
        if users is not None and not low <= users < high:
            fail(f"must be a Priority ticket's number of users, from thresholds.priority_min_users ({low}) to "
                 f"{high - 1}, got {users}", "management", "priority_threshold", "users")
        return self

    def _priority(self, value: str, *at: str) -> None:
        if value not in self.model.priorities:
            fail(f"'{RAW}' is not a priority of {self.model} (use {one_of(self.model.priorities)})", *at)

    def _incident_stage(self, stages: tuple[str, ...]) -> None:
        name = self.incident_stage
        if name is None:
            return
        if name not in stages:
            fail(f"{name!r} is not an Odoo stage of this profile (use {one_of(stages)})", "incident_stage")
        if name != self.stages.done and self.extra_stages.get(name) is not Stage.DONE:
            fail(f"{name!r} must be read as done (the incident closes the ticket): list it under extra_stages as "
                 f"'{name}': done", "incident_stage")

    def _escalation_chains(self, stages: tuple[str, ...]) -> None:
        teams = self.escalation_teams
        for key, team in teams.items():
            if team.stage is not None and team.stage not in stages:
                fail(f"{team.stage!r} is not an Odoo stage of this profile (use {one_of(stages)})",
                     "escalation_teams", key, "stage")
        for key, team in teams.items():
            if team.next is not None and team.next not in teams:
                fail(f"{team.next!r} is not an escalation team (teams: {one_of(teams)})",
                     "escalation_teams", key, "next")
        for key in teams:
            chain = [key]
            following = teams[key].next
            while following is not None:
                if following in chain:  # report the link that closes the loop
                    loop = " -> ".join([*chain[chain.index(following):], following])
                    fail(f"the escalation chain loops: {loop}", "escalation_teams", chain[-1], "next")
                chain.append(following)
                following = teams[following].next
