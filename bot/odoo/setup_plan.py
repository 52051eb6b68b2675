"""What `python app.py setup-odoo` finds and would create, as pure functions of what it read from Odoo.

`make_plan(process, model, state)` compares one Odoo (`OdooState`, read by `bot.odoo.setup`) with what the process
profile needs (`ProcessProfile.needed_stages`, the one place that says which stages must exist, also used by the
start-up check; `class_tags`; `manager_groups`) on the model profile (`ModelProfile`: where stages live, which stage
field closes a ticket). The `Plan` holds the changes `--apply` makes (it only ever creates: never renames, changes
or deletes what exists) and the findings: what an Odoo administrator must do (`blocking`), or may want to know.
`report` and `describe` turn them into the lines printed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

from bot.odoo.models import ModelProfile
from bot.process import NeededStage, ProcessProfile

Operation = Literal["read", "write", "create"]

INTERNAL_USER = "base.group_user"
ACCESS_RIGHTS = "base.group_erp_manager"
CONTACT_CREATION = "base.group_partner_manager"

# How Odoo's user form (Settings > Users & Companies > Users > the user > Access Rights) names the groups.
GROUP_LABELS: Mapping[str, str] = MappingProxyType({
    INTERNAL_USER: "User types: Internal User",
    ACCESS_RIGHTS: "Administration: Access Rights",
    "base.group_system": "Administration: Settings",
    CONTACT_CREATION: "Extra Rights: Contact Creation",
    "helpdesk_mgmt.group_helpdesk_user": "Helpdesk: User",
    "helpdesk_mgmt.group_helpdesk_manager": "Helpdesk: Helpdesk Manager",
    "helpdesk.group_helpdesk_user": "Helpdesk: User",
    "helpdesk.group_helpdesk_manager": "Helpdesk: Administrator",
    "project.group_project_user": "Project: User",
    "project.group_project_manager": "Project: Administrator",
})
# The labels of the stage fields that close a ticket, as Odoo's stage form shows them.
FIELD_LABELS: Mapping[str, str] = MappingProxyType({"closed": "Closed", "fold": "Folded in Kanban"})


def group_label(xmlid: str) -> str:
    label = GROUP_LABELS.get(xmlid)
    return f"{label} ({xmlid})" if label else xmlid


# ---- what the bot needs -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Right:
    """An access right the bot's Odoo user needs: `operation` on `model`, granted by the group `group`."""

    model: str
    operation: Operation
    purpose: str
    group: str  # xml id of the standard Odoo group that grants it

    @property
    def key(self) -> tuple[str, str]:
        return self.model, self.operation


def runtime_rights(model: ModelProfile) -> tuple[Right, ...]:
    """What the bot does in Odoo once it runs (bot/odoo/gateway.py), as access rights."""
    tickets = model.model
    rights = [
        Right(tickets, "read", "read tickets", model.user_group),
        Right(tickets, "write", "update tickets", model.user_group),
        Right(tickets, "create", "log tickets", model.user_group),
        Right(model.stage_model, "read", "read the stages", INTERNAL_USER),
        Right(model.tag_model, "read", "read the tags", INTERNAL_USER),
        *(Right(other, "read", "read the teams and categories", INTERNAL_USER)
          for other in (model.team_model, model.category_model) if other),
        *([Right("project.project", "read", "find the project new tasks go to", INTERNAL_USER)]
          if model.project_field else []),
        Right("res.users", "read", "know the agents", INTERNAL_USER),
        Right("res.partner", "read", "know the customers", INTERNAL_USER),
        Right("res.partner", "create", "add a customer Odoo does not know yet", CONTACT_CREATION),
        Right("mail.message", "read", "read the tickets' chatter", INTERNAL_USER),
        Right("ir.module.module", "read", "tell which helpdesk or project module is installed", "base.group_system"),
        Right("ir.model.data", "read", "find the leads' and managers' groups by external id", ACCESS_RIGHTS),
    ]
    return tuple(rights)


def stage_rights(model: ModelProfile) -> tuple[Right, ...]:
    return (Right(model.stage_model, "create", "create stages", model.lead_group),)


def tag_rights(model: ModelProfile) -> tuple[Right, ...]:
    return (Right(model.tag_model, "create", "create tags", model.lead_group),)


GROUP_RIGHTS = (Right("res.groups", "create", "create groups", ACCESS_RIGHTS),
                Right("ir.model.data", "create", "give a group its external id", ACCESS_RIGHTS))


def rights_to_check(model: ModelProfile) -> tuple[Right, ...]:
    """Every right setup-odoo asks Odoo about: the bot's, then those its own changes need."""
    every = [*runtime_rights(model), *stage_rights(model), *tag_rights(model), *GROUP_RIGHTS]
    return tuple({right.key: right for right in every}.values())


def group_name(xmlid: str) -> str:
    """The name of a group setup-odoo creates for an external id: mindx_support.group_support_manager ->
    'Support Manager'."""
    name = xmlid.partition(".")[2].removeprefix("group_")
    return " ".join(word.capitalize() for word in name.split("_") if word) or xmlid


# ---- what Odoo has ----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class OdooStage:
    id: int
    name: str
    sequence: int
    active: bool = True
    closed: bool | None = None  # the model's stage_closed_field (None: Odoo has no such field)
    folded: bool | None = None  # `fold` (None: no such field)
    projects: tuple[int, ...] = ()  # project.task.type: the projects using the stage


@dataclass(frozen=True)
class ExternalId:
    xmlid: str
    model: str
    res_id: int
    exists: bool  # the record it names is still there


@dataclass(frozen=True)
class Project:
    id: int
    name: str


@dataclass(frozen=True)
class OdooState:
    """What setup-odoo read from Odoo, as the user it logged in as."""

    login: str
    stage_fields: frozenset[str]  # the fields the stage model has
    stages: tuple[OdooStage, ...]  # in Odoo's order (sequence, id), archived ones too; no personal stages
    tags: frozenset[str]
    external_ids: Mapping[str, ExternalId] | None  # the groups' external ids found; None: not readable
    allowed: Mapping[tuple[str, str], bool] = field(default_factory=lambda: MappingProxyType({}))
    projects: tuple[Project, ...] = ()  # the active projects (project.task only)

    def may(self, right: Right) -> bool:
        return self.allowed.get(right.key, True)  # not asked: assume so, Odoo will say otherwise


# ---- what setup-odoo does ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class CreateStage:
    model: str  # the stage model
    name: str
    sequence: int
    closing: bool
    values: Mapping[str, Any]  # what `create` gets
    after: str | None = None  # the stage it follows in the profile's order


@dataclass(frozen=True)
class CreateTag:
    model: str
    name: str


@dataclass(frozen=True)
class CreateGroup:
    xmlid: str
    name: str

    @property
    def module(self) -> str:
        return self.xmlid.partition(".")[0]

    @property
    def external_name(self) -> str:
        return self.xmlid.partition(".")[2]


Change = CreateStage | CreateTag | CreateGroup


@dataclass(frozen=True)
class Finding:
    text: str
    blocking: bool = True  # the bot cannot run as the profile says until an administrator acts


@dataclass(frozen=True)
class Plan:
    process: str
    changes: tuple[Change, ...]
    findings: tuple[Finding, ...]

    @property
    def ready(self) -> bool:
        """Nothing to create and nothing for an administrator to do."""
        return not self.changes and not any(f.blocking for f in self.findings)


def describe(change: Change) -> str:
    if isinstance(change, CreateStage):
        where = f"sequence {change.sequence}" + (f", after {change.after!r}" if change.after else ", first")
        closing = [FIELD_LABELS.get(k, k) for k, v in change.values.items() if k in FIELD_LABELS and v is True]
        if closing:
            where += f"; {' and '.join(closing)}"
        return f"the stage {change.name!r} on {change.model} ({where})"
    if isinstance(change, CreateTag):
        return f"the tag {change.name!r} on {change.model}"
    return f"the group {change.name!r} with the external id {change.xmlid} (then add the managers to it in Odoo)"


# ---- the plan ---------------------------------------------------------------------------------------------------

def make_plan(process: ProcessProfile, model: ModelProfile, state: OdooState) -> Plan:
    """What Odoo lacks for the process on this model: the changes setup-odoo can make, and the findings."""
    stages, findings = _stage_plan(process, model, state)
    tags = [CreateTag(model.tag_model, tag) for tag in process.tags() if tag not in state.tags]
    groups, group_findings = _group_plan(process, model, state)
    findings += group_findings
    findings += _rights_findings(runtime_rights(model), state)
    changes: list[Change] = []
    for wanted, rights, what in ((stages, stage_rights(model), "stage"), (tags, tag_rights(model), "tag"),
                                 (groups, GROUP_RIGHTS, "group")):
        denied = [right for right in rights if not state.may(right)]
        if wanted and denied:
            findings.append(_cannot_create(what, wanted, denied, state.login))
        else:
            changes += wanted
    return Plan(process.name, tuple(changes), tuple(findings))


def _by_name(stages: Iterable[OdooStage]) -> dict[str, OdooStage]:
    """The stage the bot uses for each name: the last active one in Odoo's order (as the gateway's mapping)."""
    return {stage.name: stage for stage in stages if stage.active}


def _stage_plan(process: ProcessProfile, model: ModelProfile,
                state: OdooState) -> tuple[list[CreateStage], list[Finding]]:
    needed = process.needed_stages()
    present = _by_name(state.stages)
    archived = {stage.name for stage in state.stages if not stage.active} - set(present)
    findings: list[Finding] = []
    projects = _support_projects(needed, present, state) if model.project_field else ()
    sequences = {stage.name: stage.sequence for stage in present.values()}
    creates: list[CreateStage] = []
    for index, need in enumerate(needed):
        if need.name in present:
            findings += _differences(need, present[need.name], model, state, projects, process.name)
        elif need.name in archived:
            findings.append(Finding(f"the stage {need.name!r} is archived in Odoo: unarchive it (its list view, "
                                    "filter Archived, Unarchive); setup-odoo does not create a second one"))
        else:
            sequence, after = place(needed, index, sequences, state.stages)
            sequences[need.name] = sequence
            creates.append(CreateStage(model.stage_model, need.name, sequence, need.closing,
                                       _stage_values(need, sequence, model, state, projects), after))
    if creates and model.project_field and not projects:
        findings.append(_no_project(state, [c.name for c in creates]))
        creates = []
    findings += _order_notes(needed, present)
    findings += _duplicate_notes(needed, state.stages)
    optional = [name for name in process.extra_stages if name not in present]
    if optional:
        findings.append(Finding(f"the profile also understands {_the('stage', optional)} when people use "
                                f"{'them' if len(optional) > 1 else 'it'}; this Odoo does not have "
                                f"{'them' if len(optional) > 1 else 'it'} (optional: setup-odoo does not create "
                                f"{'them' if len(optional) > 1 else 'it'})", blocking=False))
    return creates, findings


def place(needed: Sequence[NeededStage], index: int, sequences: Mapping[str, int],
          stages: Sequence[OdooStage]) -> tuple[int, str | None]:
    """The sequence for the missing `needed[index]` that puts it after the stage before it in the profile's order
    and before those after it (Odoo orders stages by sequence, then id: a new stage comes after those of its
    sequence), without touching an existing stage; and the name of the stage it follows."""
    before = [(n.name, sequences[n.name]) for n in needed[:index] if n.name in sequences]
    after = [sequences[n.name] for n in needed[index + 1:] if n.name in sequences]
    low = before[-1][1] if before else None
    high = min(after) if after else None
    previous = before[-1][0] if before else None
    if low is None and high is None:
        return max((stage.sequence for stage in stages), default=0) + 1, None
    if low is None:
        assert high is not None
        return high - 1, None
    if high is None or low + 1 < high:
        return low + 1, previous
    return low, previous  # same sequence as the stage before, created later: it follows that one


def _stage_values(need: NeededStage, sequence: int, model: ModelProfile, state: OdooState,
                  projects: tuple[int, ...]) -> dict[str, Any]:
    values: dict[str, Any] = {"name": need.name, "sequence": sequence}
    if need.closing:
        for name in (model.stage_closed_field, "fold"):
            if name and name in state.stage_fields:
                values[name] = True
    if projects and "project_ids" in state.stage_fields:
        values["project_ids"] = [[6, 0, list(projects)]]
    return values


def _support_projects(needed: Sequence[NeededStage], present: Mapping[str, OdooStage],
                      state: OdooState) -> tuple[int, ...]:
    """project.task: the projects of the needed stages Odoo has (the New stage's first: the bot creates tasks in
    its first project), else the only project there is."""
    found = [project for need in needed if need.name in present for project in present[need.name].projects]
    if found:
        return tuple(dict.fromkeys(found))
    return (state.projects[0].id,) if len(state.projects) == 1 else ()


def _no_project(state: OdooState, names: Sequence[str]) -> Finding:
    if not state.projects:
        why = "Odoo has no project yet: create the support project (Project > New), then run setup-odoo again"
    else:
        why = (f"none of the {len(state.projects)} projects uses the profile's stages: create them in the support "
               "project in Odoo (its kanban: + Stage), or give one of them a stage of the profile and run setup-odoo "
               "again")
    return Finding(f"{_the('stage', names)} {'are' if len(names) > 1 else 'is'} missing and setup-odoo cannot tell "
                   f"which project {'they are' if len(names) > 1 else 'it is'} for: {why}")


def _differences(need: NeededStage, stage: OdooStage, model: ModelProfile, state: OdooState,
                 projects: tuple[int, ...], process: str) -> list[Finding]:
    """How an existing stage differs from what the profile needs: reported, never changed."""
    findings: list[Finding] = []
    closing_field = model.stage_closed_field
    serves = ", ".join(s.value for s in need.serves)
    if closing_field and stage.closed is not None and stage.closed != need.closing:
        label = FIELD_LABELS.get(closing_field, closing_field)
        if need.closing:
            text = (f"the stage {stage.name!r} does not close tickets in Odoo, but the '{process}' profile finishes "
                    f"them there ({serves}): tick {label!r} on the stage in Odoo")
        else:
            text = (f"the stage {stage.name!r} closes tickets in Odoo ({label!r} is ticked), but the '{process}' "
                    f"profile keeps them open there ({serves}): untick it in Odoo")
        findings.append(Finding(text + " (setup-odoo does not change existing stages)"))
    if closing_field != "fold" and stage.folded is not None and stage.folded != need.closing:
        text = (f"the stage {stage.name!r} is not folded in the kanban, as closing stages usually are"
                if need.closing else f"the stage {stage.name!r} is folded in the kanban: its open tickets are out of "
                                     "sight there")
        findings.append(Finding(text, blocking=False))
    if projects and not set(stage.projects) & set(projects):
        names = _names(p.name for p in state.projects if p.id in projects) or _names(str(p) for p in projects)
        findings.append(Finding(f"the stage {stage.name!r} is not a stage of the project {names}, where the bot "
                                "creates tasks: add the project to the stage in Odoo", blocking=False))
    return findings


def _order_notes(needed: Sequence[NeededStage], present: Mapping[str, OdooStage]) -> list[Finding]:
    shown = [stage.name for stage in sorted((present[n.name] for n in needed if n.name in present),
                                            key=lambda s: (s.sequence, s.id))]
    wanted = [n.name for n in needed if n.name in present]
    if shown == wanted:
        return []
    return [Finding(f"Odoo orders the stages {_names(shown, 'then')}; the profile's order is {_names(wanted, 'then')} "
                    "(drag the kanban's columns in Odoo to change it; setup-odoo does not)", blocking=False)]


def _duplicate_notes(needed: Sequence[NeededStage], stages: Sequence[OdooStage]) -> list[Finding]:
    notes = []
    for need in needed:
        same = [stage.id for stage in stages if stage.active and stage.name == need.name]
        if len(same) > 1:
            notes.append(Finding(f"{len(same)} stages are named {need.name!r} (ids {', '.join(map(str, same))}): the "
                                 f"bot uses the last in Odoo's order (id {same[-1]})", blocking=False))
    return notes


def _group_plan(process: ProcessProfile, model: ModelProfile,
                state: OdooState) -> tuple[list[CreateGroup], list[Finding]]:
    if state.external_ids is None:
        wanted = [*process.manager_groups, *([model.lead_group] if model.lead_group else [])]
        return [], [Finding(f"{_the('group', wanted)} {'were' if len(wanted) > 1 else 'was'} not checked: the user "
                            "may not read external ids (see the rights above)", blocking=False)] if wanted else []
    creates: list[CreateGroup] = []
    findings: list[Finding] = []
    for xmlid in process.manager_groups:
        found = state.external_ids.get(xmlid)
        if found is None:
            creates.append(CreateGroup(xmlid, group_name(xmlid)))
        elif found.model != "res.groups":
            findings.append(Finding(f"the external id {xmlid} (the profile's managers' group) names a {found.model} "
                                    "record, not a group: give the managers' group another external id in the profile, "
                                    "or fix it in Odoo (debug mode: Settings > Technical > External Identifiers)"))
        elif not found.exists:
            findings.append(Finding(f"the external id {xmlid} names the group id {found.res_id}, which no longer "
                                    "exists: delete that external id in Odoo (debug mode: Settings > Technical > "
                                    "External Identifiers), then run setup-odoo --apply again"))
    if model.lead_group and model.lead_group not in state.external_ids:
        findings.append(Finding(f"Odoo has no group {model.lead_group}: nobody is a team lead for the bot (is the "
                                f"{model.module} module installed?)", blocking=False))
    return creates, findings


def _rights_findings(rights: Sequence[Right], state: OdooState) -> list[Finding]:
    denied: dict[tuple[str, str], list[Right]] = {}
    for right in rights:
        if not state.may(right):
            denied.setdefault((right.model, right.group), []).append(right)
    findings = []
    for (model, group), missing in denied.items():
        operations = _names([r.operation for r in missing], "or", quote=False)
        purposes = "; ".join(dict.fromkeys(r.purpose for r in missing))
        findings.append(Finding(
            f"the Odoo user {state.login!r} may not {operations} {model} records (the bot needs it to {purposes}): "
            f"give it the group {group_label(group)} in Odoo (Settings > Users & Companies > Users > "
            f"{state.login} > Access Rights)"))
    return findings


def _cannot_create(what: str, changes: Sequence[Change], denied: Sequence[Right], login: str) -> Finding:
    names = [c.xmlid if isinstance(c, CreateGroup) else c.name for c in changes]
    models = _names(dict.fromkeys(r.model for r in denied), quote=False)
    groups = _names(dict.fromkeys(group_label(r.group) for r in denied), quote=False)
    return Finding(f"Odoo lacks {_the(what, names)}, and the Odoo user {login!r} may not create {models} records "
                   f"(the group {groups} may): run `python app.py setup-odoo --apply` once with an administrator's "
                   f"ODOO_LOGIN and ODOO_API_KEY, or create {'them' if len(names) > 1 else 'it'} in Odoo")


def _the(what: str, names: Sequence[str]) -> str:
    """'the stage 'A'' or 'the stages 'A' and 'B''."""
    return f"the {what}{'s' * (len(names) > 1)} {_names(names)}"


def _names(names: Iterable[str], last: str = "and", *, quote: bool = True) -> str:
    shown = [repr(name) if quote else name for name in names]
    if len(shown) < 2:
        return "".join(shown)
    return f"{', '.join(shown[:-1])} {last} {shown[-1]}"


# ---- what is printed --------------------------------------------------------------------------------------------

def report(plan: Plan) -> list[str]:
    """The plan as the lines setup-odoo prints (without --apply, or what is left after it)."""
    lines: list[str] = []
    if plan.changes:
        lines.append("Missing; `python app.py setup-odoo --apply` creates:")
        lines += [f"  - {describe(change)}" for change in plan.changes]
    blocking = [f for f in plan.findings if f.blocking]
    if blocking:
        lines.append("For an Odoo administrator to do (setup-odoo cannot):")
        lines += [f"  - {finding.text}" for finding in blocking]
    notes = [f for f in plan.findings if not f.blocking]
    if notes:
        lines.append("Notes:")
        lines += [f"  - {finding.text}" for finding in notes]
    lines.append(verdict(plan))
    return lines


def verdict(plan: Plan) -> str:
    if plan.ready:
        return f"Odoo is ready for the '{plan.process}' process."
    parts = []
    if plan.changes:
        parts.append(f"{len(plan.changes)} thing{'s' * (len(plan.changes) != 1)} to create")
    blocking = sum(f.blocking for f in plan.findings)
    if blocking:
        parts.append(f"{blocking} for an administrator")
    return f"Odoo is not ready for the '{plan.process}' process: {', '.join(parts)}."
