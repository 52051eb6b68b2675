"""Community project 17: project.project, project.task, project.task.type and project.tags.

Recorded behaviour reproduced: tasks have `state` (no `kanban_state`: reading it faults);
priority is '0'/'1' only; the creator is assigned by default; writing stage_id without state
resets an open state to '01_in_progress' (closed states stay); moving into a folded stage sets
date_end; stage and state changes are tracked in one message whose subtype is 'Stage Changed'
or the new state's subtype; assignees get personal stages (project.task.type with user_id);
reading project.project.stage_id faults (group 'Use Stages on Project').
"""

from __future__ import annotations

from dataclasses import replace
from types import MappingProxyType
from typing import Any

from odoo_double import faults
from odoo_double.chatter import THREAD_METHODS, on_thread_created, subscribe_users, thread_fields
from odoo_double.domain import Predicate
from odoo_double.fields import Field
from odoo_double.messages import create_message, subtype_id, tracking_value
from odoo_double.orm import Env, ModelDef, Row, define

TASK = "project.task"
STATES = (("01_in_progress", "In Progress"), ("02_changes_requested", "Changes Requested"),
          ("03_approved", "Approved"), ("1_done", "Done"), ("1_canceled", "Canceled"),
          ("04_waiting_normal", "Waiting"))
CLOSED_STATES = frozenset({"1_done", "1_canceled"})
STATE_SUBTYPES = MappingProxyType({
    "01_in_progress": "project.mt_task_progress", "02_changes_requested": "project.mt_task_changes_requested",
    "03_approved": "project.mt_task_approved", "1_done": "project.mt_task_done",
    "1_canceled": "project.mt_task_canceled", "04_waiting_normal": "project.mt_task_waiting",
})
PERSONAL_STAGES = (("Inbox", False), ("Today", False), ("This Week", False), ("This Month", False),
                   ("Later", False), ("Done", True), ("Canceled", True))
STAGE_FIELD_ID = 3243
STATE_FIELD_ID = 3245
PROJECT_STAGES_GROUP = "Technical / Use Stages on Project"


def _project_rule(env: Env) -> Predicate | None:
    return (lambda row: False) if env.is_portal else None


def _default_task_stage(env: Env) -> Any:
    return False  # resolved after the project is known (see _prepare_task)


def _project_stages(env: Env, project_id: Any) -> list[Row]:
    stages = [s for s in env.rows("project.task.type") if project_id in (s.get("project_ids") or [])
              and s.get("active", True)]
    return sorted(stages, key=lambda s: (s["sequence"], s["id"]))


def _prepare_task(env: Env, vals: dict[str, Any]) -> None:
    if not vals.get("stage_id") and vals.get("project_id"):
        stages = _project_stages(env, vals["project_id"])
        if stages:
            vals["stage_id"] = stages[0]["id"]
    if "user_ids" not in vals and not env.is_portal:
        vals["user_ids"] = [[6, 0, [env.uid]]]


def _ensure_personal_stages(env: Env, user_ids: list[int]) -> None:
    for user_id in user_ids:
        if any(s.get("user_id") == user_id for s in env.rows("project.task.type")):
            continue
        for sequence, (name, fold) in enumerate(PERSONAL_STAGES, start=1):
            if name == "Canceled" and env.store.major >= 19:
                name = "Cancelled"  # 19's personal stage
            env.insert("project.task.type", {"name": name, "sequence": sequence, "fold": fold,
                                             "user_id": user_id, "project_ids": []})


def _after_task_create(env: Env, row: Row, changes: Row) -> None:
    now = env.now_seconds()
    if row.get("user_ids"):
        row["date_assign"] = now
        _ensure_personal_stages(env, row["user_ids"])
        subscribe_users(env, TASK, row["id"], row["user_ids"])
    row["date_last_stage_update"] = now
    stage = env.row("project.task.type", row.get("stage_id"))
    if stage and stage.get("fold"):
        row["date_end"] = now


def _before_task_write(env: Env, row: Row, changes: Row) -> None:
    now = env.now_seconds()
    if "stage_id" in changes and changes["stage_id"] != row.get("stage_id"):
        changes["date_last_stage_update"] = now
        stage = env.row("project.task.type", changes["stage_id"])
        changes["date_end"] = now if stage and stage.get("fold") else False
    if "stage_id" in changes and "state" not in changes and row.get("state") not in CLOSED_STATES:
        changes["state"] = "01_in_progress"
    if "user_ids" in changes and set(changes["user_ids"]) - set(row.get("user_ids") or []):
        if not row.get("date_assign"):
            changes["date_assign"] = now


def _after_task_write(env: Env, row: Row, old: Row, changes: Row) -> None:
    added = set(changes.get("user_ids") or []) - set(old.get("user_ids") or [])
    if added:
        _ensure_personal_stages(env, sorted(added))
        subscribe_users(env, TASK, row["id"], sorted(added))
    fields = env.model_def(TASK).fields
    tracking: list[Row] = []
    state_changed = "state" in changes and changes["state"] != old.get("state")
    stage_changed = "stage_id" in changes and changes["stage_id"] != old.get("stage_id")
    labels = dict(fields["state"].selection or STATES)
    if state_changed:
        tracking.append(tracking_value(env, STATE_FIELD_ID, labels.get(old.get("state") or ""),
                                       labels.get(row["state"]), kind="selection"))
    if stage_changed:
        tracking.append(tracking_value(env, STAGE_FIELD_ID, env.read_value(TASK, old, fields["stage_id"]),
                                       env.read_value(TASK, row, fields["stage_id"]), kind="many2one"))
    if not tracking:
        return
    xmlid = "project.mt_task_stage" if stage_changed else STATE_SUBTYPES[row["state"]]
    create_message(env, TASK, row["id"], body="", message_type="notification", subtype=subtype_id(env, xmlid),
                   tracking=tracking)


def _check_task_access(env: Env, operation: str, rows: list[Row]) -> None:
    if env.is_portal and operation != "read":
        raise faults.acl_denied(operation, TASK, "Task")


def _config_access(model: str, description: str, group: str, labels: tuple[str, ...]) -> Any:
    """Task stages (a Project User) and tags (a Project Administrator): every internal user reads them, those
    groups change them (project's ir.model.access)."""
    def check(env: Env, operation: str, rows: list[Row]) -> None:
        if operation != "read" and not env.has_group(group):
            raise faults.acl_denied(operation, model, description, labels)
    return check


def _tag_color(env: Env) -> int:
    return (env.store.next_ids["project.tags"] + 3) % 11 + 1


def project_models() -> list[ModelDef]:
    project = define("project.project", "Project", [
        Field("name", "char", "Name", required=True),
        Field("description", "html", "Description"),
        Field("active", "boolean", "Active", default=True),
        Field("sequence", "integer", "Sequence", default=10),
        Field("partner_id", "many2one", "Customer", relation="res.partner"),
        Field("company_id", "many2one", "Company", relation="res.company"),
        Field("user_id", "many2one", "Project Manager", relation="res.users", default=lambda env: env.uid),
        Field("type_ids", "many2many", "Tasks Stages", relation="project.task.type",
              compute=lambda env, row: [s["id"] for s in _project_stages(env, row["id"])]),
        Field("task_ids", "one2many", "Tasks", relation=TASK,
              compute=lambda env, row: [t["id"] for t in env.rows(TASK) if t["project_id"] == row["id"]]),
        Field("task_count", "integer", "Task Count", compute=lambda env, row: _task_count(env, row, None)),
        Field("open_task_count", "integer", "Open Task Count",
              compute=lambda env, row: _task_count(env, row, False)),
        Field("closed_task_count", "integer", "Closed Task Count",
              compute=lambda env, row: _task_count(env, row, True)),
        Field("privacy_visibility", "selection", "Visibility", required=True, default="portal", selection=(
            ("followers", "Invited internal users (private)"), ("employees", "All internal users"),
            ("portal", "Invited portal users and all internal users (public)"))),
        Field("alias_name", "char", "Alias Name"),
        Field("label_tasks", "char", "Use Tasks as", default="Tasks"),
        Field("tag_ids", "many2many", "Tags", relation="project.tags"),
        Field("color", "integer", "Color Index"),
        Field("date_start", "date", "Start Date"),
        Field("date", "date", "Expiration Date"),
        Field("stage_id", "many2one", "Stage", relation="project.project.stage", groups=PROJECT_STAGES_GROUP),
    ], order="sequence, name, id", rule=_project_rule)
    stage = define("project.task.type", "Task Stage", [
        Field("active", "boolean", "Active", default=True),
        Field("name", "char", "Name", required=True),
        Field("description", "text", "Description"),
        Field("sequence", "integer", "Sequence", default=1),
        Field("project_ids", "many2many", "Projects", relation="project.project"),
        Field("mail_template_id", "many2one", "Email Template", relation="mail.template"),
        Field("fold", "boolean", "Folded in Kanban"),
        Field("user_id", "many2one", "Stage Owner", relation="res.users"),
    ], order="sequence, id", access=_config_access("project.task.type", "Task Stage", "project.group_project_user",
                                                   ("Project/Administrator", "Project/User")))
    tags = define("project.tags", "Project Tags", [
        Field("name", "char", "Name", required=True),
        Field("color", "integer", "Color", default=_tag_color),
        Field("project_ids", "many2many", "Projects", relation="project.project"),
        Field("task_ids", "many2many", "Tasks", relation=TASK),
    ], order="name", access=_config_access("project.tags", "Project Tags", "project.group_project_manager",
                                           ("Project/Administrator",)))
    task = define(TASK, "Task", [
        Field("duration_tracking", "json", "Status time", readonly=True,
              compute=lambda env, row: {str(row["stage_id"]): 0} if row.get("stage_id") else {}),
        *thread_fields(TASK, "/my/tasks"),
        Field("active", "boolean", "Active", default=True),
        Field("name", "char", "Title", required=True),
        Field("description", "html", "Description"),
        Field("priority", "selection", "Priority", selection=(("0", "Low"), ("1", "High")), default="0"),
        Field("sequence", "integer", "Sequence", default=10),
        Field("stage_id", "many2one", "Stage", relation="project.task.type", default=_default_task_stage,
              missing_is_fault=True),
        Field("tag_ids", "many2many", "Tags", relation="project.tags"),
        Field("state", "selection", "State", selection=STATES, required=True, default="01_in_progress"),
        Field("date_end", "datetime", "Ending Date"),
        Field("date_assign", "datetime", "Assigning Date", readonly=True),
        Field("date_deadline", "datetime", "Deadline"),
        Field("date_last_stage_update", "datetime", "Last Stage Update", readonly=True),
        Field("project_id", "many2one", "Project", relation="project.project"),
        Field("allocated_hours", "float", "Allocated Time"),
        Field("user_ids", "many2many", "Assignees", relation="res.users"),
        Field("partner_id", "many2one", "Customer", relation="res.partner"),
        Field("company_id", "many2one", "Company", relation="res.company"),
        Field("color", "integer", "Color Index"),
        Field("parent_id", "many2one", "Parent Task", relation=TASK),
        Field("child_ids", "one2many", "Sub-tasks", relation=TASK,
              compute=lambda env, row: [t["id"] for t in env.rows(TASK) if t["parent_id"] == row["id"]]),
        Field("display_in_project", "boolean", "Display In Project", readonly=True,
              compute=lambda env, row: bool(row.get("project_id"))),
    ], order="priority desc, sequence, date_deadline asc, id desc", methods=dict(THREAD_METHODS),
        prepare_create=[_prepare_task], before_write=[_before_task_write],
        after_create=[on_thread_created(TASK, "project.mt_task_new"), _after_task_create],
        after_write=[_after_task_write], access=_check_task_access, rule=_project_rule)
    return [project, stage, tags, task]


def _task_count(env: Env, row: Row, closed: bool | None) -> int:
    tasks = [t for t in env.rows(TASK) if t["project_id"] == row["id"] and t.get("active", True)]
    if closed is None:
        return len(tasks)
    return sum(1 for t in tasks if (t["state"] in CLOSED_STATES) == closed)


def project_series(definitions: list[ModelDef], major: int) -> None:
    """Odoo 18 and 19's project.task: state 1_canceled is labelled "Cancelled"; 19 has four priorities."""
    for definition in definitions:
        if definition.name != TASK:
            continue
        fields = definition.fields
        if major >= 18:
            fields["state"] = replace(fields["state"], selection=tuple(
                (key, "Cancelled" if key == "1_canceled" else label) for key, label in STATES))
        if major >= 19:
            fields["priority"] = replace(fields["priority"], selection=(
                ("0", "Low priority"), ("1", "Medium priority"), ("2", "High priority"), ("3", "Urgent")))
