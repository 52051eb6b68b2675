"""Model profiles: where the bot's ticket fields live in each kind of Odoo.

- `helpdesk_mgmt`: OCA helpdesk_mgmt (Community), `helpdesk.ticket`; checked against the
  recorded contract in tests/contract/odoo-17.0.
- `helpdesk`: Odoo Helpdesk (Enterprise), `helpdesk.ticket` with Enterprise field names
  (from Odoo's documentation; no recording of an Enterprise server exists yet).
- `project`: Community Project, `project.task`; checked against the recorded contract.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any

from bot.i18n import N_, either, joined
from bot.process import KanbanState, Stage
from bot.settings import SettingsError


def _frozen(values: dict[str, str]) -> Mapping[str, str]:
    return MappingProxyType(values)


@dataclass(frozen=True)
class KanbanLight:
    """The kanban light (grey/green/red) as one selection field holds it."""
    field_name: str
    values: Mapping[str, str]  # KanbanState -> the value written
    # Stage -> a value that also closes the record, whatever its stage (project.task's `state`: '1_done' /
    # '1_canceled'; any stage write that does not set it resets it to '01_in_progress')
    closing: Mapping[str, str] = field(default_factory=lambda: _frozen({}))

    def fits(self, fields: Mapping[str, Any]) -> bool:
        """Whether a model with these `fields_get` answers (type, selection) has this light."""
        described = fields.get(self.field_name)
        if not isinstance(described, Mapping) or described.get("type") != "selection":
            return False
        offered = {option[0] for option in described.get("selection") or () if isinstance(option, list | tuple)}
        return {*self.values.values(), *self.closing.values()} <= offered


# How many priorities a model has -> what each is called, lowest first (Odoo's own words differ by series and model)
PRIORITY_SCALES = {2: (N_("Low"), N_("High")), 3: (N_("Low"), N_("Medium"), N_("High")),
                   4: (N_("Low"), N_("Medium"), N_("High"), N_("Urgent"))}

# helpdesk.ticket's, and project.task's up to Odoo 16
_KANBAN_STATE = KanbanLight("kanban_state", _frozen({"normal": "normal", "done": "done", "blocked": "blocked"}))
# project.task's since Odoo 17
_TASK_STATE = KanbanLight(
    "state", _frozen({"normal": "01_in_progress", "done": "03_approved", "blocked": "02_changes_requested"}),
    closing=_frozen({Stage.DONE: "1_done", Stage.CANCELLED: "1_canceled"}))


@dataclass(frozen=True)
class ModelProfile:
    key: str
    module: str  # the Odoo module whose installation selects this profile
    model: str
    stage_model: str
    tag_model: str
    number_field: str | None  # Odoo's own ticket number, when the model has one
    owner_field: str
    owner_is_many: bool  # project.task: user_ids (many2many)
    team_field: str | None
    team_model: str | None
    category_field: str | None
    category_model: str | None
    closed_field: str | None  # a boolean the model computes from the stage
    priorities: tuple[str, ...]
    deadline_field: str | None = None  # a native deadline field, used beside the facts block
    project_field: str | None = None  # project.task: the project new tasks are created in
    stage_closed_field: str | None = None  # on the stage model: which stages close the ticket
    # Where the kanban light may live, newest Odoo first; `fitted_to` keeps the one this Odoo has.
    kanban_lights: tuple[KanbanLight, ...] = ()
    lead_group: str = ""  # xml id of the Odoo group whose members are the team leads (managers)
    user_group: str = ""  # xml id of the Odoo group that lets a user read, create and update tickets
    personal_stages: bool = False  # the stage model also holds per-user personal stages (user_id set)
    timesheet_module: str = ""  # the Odoo module that puts timesheets (account.analytic.line) on these records

    def stage_domain(self) -> list[Any]:
        """The domain of the stages tickets move through (project.task.type's personal stages left out)."""
        return [["user_id", "=", False]] if self.personal_stages else []

    @property
    def kanban(self) -> KanbanLight | None:
        """The kanban light the bot writes and reads (None: it leaves the light alone)."""
        return self.kanban_lights[0] if self.kanban_lights else None

    def fitted_to(self, fields: Mapping[str, Any]) -> ModelProfile:
        """This profile as the model's `fields_get` (type and selection) shows it on this Odoo, read from the server
        and not from its version: the kanban light it has, or none (project.task's was `kanban_state` up to 16,
        `state` since); the priorities it offers, lowest first (project.task: 2 up to 18, 4 on 19)."""
        described = fields.get("priority")
        offered = [option[0] for option in described.get("selection") or ()
                   if isinstance(option, list | tuple) and option and isinstance(option[0], str)] \
            if isinstance(described, Mapping) else []
        return replace(self, kanban_lights=tuple(light for light in self.kanban_lights if light.fits(fields))[:1],
                       priorities=tuple(offered) if len(offered) in PRIORITY_SCALES else self.priorities)

    def priority_named(self, word: str) -> str | None:
        """The priority value a person names (`high`, as `priority_label` says them; any case), on this model's
        scale; None when the scale has no such priority (a task on Odoo 17 has no `medium`)."""
        labels = PRIORITY_SCALES.get(len(self.priorities), ())
        wanted = word.strip().lower()
        return next((value for value, label in zip(self.priorities, labels, strict=False) if label.lower() == wanted),
                    None)

    def priority_label(self, value: str) -> str:
        """`value` said on the bot's scale for this model's number of priorities (to translate with `tr`): a
        starred task is High where a task has two priorities, Medium where it has four."""
        if value not in self.priorities:
            return value
        return PRIORITY_SCALES[len(self.priorities)][self.priorities.index(value)]

    def kanban_value(self, stage: Stage, wanted: KanbanState | None) -> str | None:
        """The value to write in the kanban field when moving into `stage` (None: leave it alone)."""
        light = self.kanban
        if light is None:
            return None
        if stage in light.closing:
            return light.closing[stage]
        if wanted is None:
            return light.values[KanbanState.NORMAL] if light.closing else None
        return light.values[wanted]

    def kanban_state(self, value: object) -> KanbanState | None:
        light = self.kanban
        for state, written in light.values.items() if light else ():
            if written == value:
                return KanbanState(state)
        return None

    def read_fields(self) -> list[str]:
        fields = ["name", "description", "stage_id", "priority", "partner_id", "tag_ids", "create_date",
                  "write_date", self.owner_field]
        kanban = self.kanban.field_name if self.kanban else None
        for extra in (self.number_field, self.team_field, self.category_field, self.closed_field, kanban):
            if extra:
                fields.append(extra)
        return fields


HELPDESK_MGMT = ModelProfile(
    key="helpdesk_mgmt", module="helpdesk_mgmt", model="helpdesk.ticket", stage_model="helpdesk.ticket.stage",
    tag_model="helpdesk.ticket.tag", number_field="number", owner_field="user_id", owner_is_many=False,
    team_field="team_id", team_model="helpdesk.ticket.team", category_field="category_id",
    category_model="helpdesk.ticket.category", closed_field="closed",
    priorities=("0", "1", "2", "3"), stage_closed_field="closed",
    kanban_lights=(_KANBAN_STATE,),
    lead_group="helpdesk_mgmt.group_helpdesk_manager", user_group="helpdesk_mgmt.group_helpdesk_user",
    timesheet_module="helpdesk_mgmt_timesheet",
)

HELPDESK_ENTERPRISE = ModelProfile(
    key="helpdesk", module="helpdesk", model="helpdesk.ticket", stage_model="helpdesk.stage",
    tag_model="helpdesk.tag", number_field="ticket_ref", owner_field="user_id", owner_is_many=False,
    team_field="team_id", team_model="helpdesk.team", category_field=None, category_model=None, closed_field=None,
    priorities=("0", "1", "2", "3"), stage_closed_field="fold",
    kanban_lights=(_KANBAN_STATE,),
    lead_group="helpdesk.group_helpdesk_manager", user_group="helpdesk.group_helpdesk_user",
    timesheet_module="helpdesk_timesheet",
)

PROJECT_TASK = ModelProfile(
    key="project", module="project", model="project.task", stage_model="project.task.type",
    tag_model="project.tags", number_field=None, owner_field="user_ids", owner_is_many=True,
    team_field=None, team_model=None, category_field=None, category_model=None, closed_field=None,
    priorities=("0", "1"), deadline_field="date_deadline", stage_closed_field="fold", project_field="project_id",
    kanban_lights=(_TASK_STATE, _KANBAN_STATE),
    lead_group="project.group_project_manager", user_group="project.group_project_user", personal_stages=True,
    timesheet_module="hr_timesheet",
)

PROFILES = {p.key: p for p in (HELPDESK_ENTERPRISE, HELPDESK_MGMT, PROJECT_TASK)}
DETECTION_ORDER = (HELPDESK_ENTERPRISE, HELPDESK_MGMT, PROJECT_TASK)


def choose_profile(installed_modules: set[str], *, wanted_model: str, configured: str = "auto") -> ModelProfile:
    """The profile named in the settings (ODOO_PROFILE), or the first installed one serving the process's model.

    A named one must serve the process's model and have its module installed: else SettingsError naming it."""
    if configured != "auto":
        chosen = PROFILES[configured]
        if chosen.model != wanted_model:
            fitting = [key for key, profile in PROFILES.items() if profile.model == wanted_model]
            raise SettingsError(
                f"ODOO_PROFILE: {configured!r} works on {chosen.model}, but the process profile (PROCESS_PROFILE) "
                f"works on {wanted_model}; set ODOO_PROFILE to {either(['auto', *fitting])}")
        if chosen.module not in installed_modules:
            has = f" (it has {joined(sorted(installed_modules))})" if installed_modules else ""
            raise SettingsError(
                f"ODOO_PROFILE: {configured!r} needs the Odoo module {chosen.module}, which this Odoo does not have "
                f"installed{has}; install it, or set ODOO_PROFILE to auto")
        return chosen
    for profile in DETECTION_ORDER:
        if profile.module in installed_modules and profile.model == wanted_model:
            return profile
    raise LookupError(
        f"no Odoo module for {wanted_model} is installed (looked for "
        f"{', '.join(p.module for p in DETECTION_ORDER if p.model == wanted_model)}); "
        "install one or set ODOO_PROFILE"
    )
