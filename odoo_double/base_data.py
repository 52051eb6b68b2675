"""What a fresh Odoo 17 database holds once the flavour's module is installed (no demo data).

Ids follow the recorded databases where the bot or the contract relies on them: admin is uid 2
with partner 3, company 1 "My Company", subtypes 1 Discussions / 2 Note / 3 Activities,
activity types 1-5 (4 To-Do), helpdesk stages 1-6 and channels 1-4, ir.model 346 for
helpdesk.ticket, mail template 8 for closed tickets.
"""

from __future__ import annotations

from collections.abc import Iterable
from types import MappingProxyType
from typing import Any

from odoo_double.helpdesk_models import CLOSING_TEMPLATE_ID
from odoo_double.helpdesk_models import STAGE_FIELD_ID as TICKET_STAGE_FIELD_ID
from odoo_double.orm import Env, Row
from odoo_double.project_models import STAGE_FIELD_ID as TASK_STAGE_FIELD_ID
from odoo_double.project_models import STATE_FIELD_ID as TASK_STATE_FIELD_ID
from odoo_double.timesheet_models import ADMIN_GROUPS as TIMESHEET_ADMIN_GROUPS
from odoo_double.timesheet_models import GROUPS as TIMESHEET_GROUPS
from odoo_double.timesheet_models import TIMESHEET_APPROVER
from odoo_double.timesheet_models import install as install_timesheets

ADMIN_UID = 2
ADMIN_PARTNER = 3
COMPANY_ID = 1
SERVER_VERSION = "17.0-20240709"
SERVER_VERSION_INFO = (17, 0, 0, "final", 0, "")
# what common.version() says per series (tests/contract/odoo-<series>/common.json)
VERSIONS = {
    "17.0": (SERVER_VERSION, SERVER_VERSION_INFO),
    "18.0": ("18.0-20250506", (18, 0, 0, "final", 0, "")),
    "19.0": ("19.0", (19, 0, 0, "final", 0, "")),
}

# (xmlid, name, category, implied xmlids, fixed id)
BASE_GROUPS = (
    ("base.group_user", "Internal User", "User types", (), 1),
    ("base.group_erp_manager", "Access Rights", "Administration", (), 2),
    ("base.group_system", "Settings", "Administration", ("base.group_erp_manager",), 3),
    ("base.group_portal", "Portal", "User types", (), 10),
    ("base.group_public", "Public", "User types", (), 11),
)
HELPDESK_GROUPS = (
    ("helpdesk_mgmt.group_helpdesk_user_own", "User: Personal tickets", "Helpdesk", ("base.group_user",), 14),
    ("helpdesk_mgmt.group_helpdesk_user_team", "User: Team tickets", "Helpdesk",
     ("helpdesk_mgmt.group_helpdesk_user_own",), 15),
    ("helpdesk_mgmt.group_helpdesk_user", "User", "Helpdesk", ("helpdesk_mgmt.group_helpdesk_user_team",), 16),
    ("helpdesk_mgmt.group_helpdesk_manager", "Helpdesk Manager", "Helpdesk", ("helpdesk_mgmt.group_helpdesk_user",),
     17),
)
PROJECT_GROUPS = (
    ("project.group_project_user", "User", "Project", ("base.group_user",), 20),
    # hr_timesheet makes the Administrator a 'User: all timesheets' too
    ("project.group_project_manager", "Administrator", "Project", ("project.group_project_user", TIMESHEET_APPROVER),
     21),
    ("project.group_project_stages", "Use Stages on Project", "Technical", (), 22),
)
# (xmlid, name, internal, default, res_model)
MAIL_SUBTYPES = (
    ("mail.mt_comment", "Discussions", False, True, False),
    ("mail.mt_note", "Note", True, False, False),
    ("mail.mt_activities", "Activities", True, False, False),
)
HELPDESK_SUBTYPES = (
    ("helpdesk_mgmt.hlp_tck_created", "Ticket Created", False, False, "helpdesk.ticket"),
    ("helpdesk_mgmt.hlp_tck_team_created", "Helpdesk Ticket Created", False, True, "helpdesk.ticket.team"),
)
PROJECT_SUBTYPES = (
    ("project.mt_task_new", "Task Created", False, False, "project.task"),
    ("project.mt_task_stage", "Stage Changed", False, False, "project.task"),
    ("project.mt_task_progress", "Task In Progress", False, False, "project.task"),
    ("project.mt_task_changes_requested", "Changes Requested", False, False, "project.task"),
    ("project.mt_task_approved", "Task Approved", False, False, "project.task"),
    ("project.mt_task_canceled", "Task Canceled", False, False, "project.task"),
    ("project.mt_task_done", "Task Done", False, False, "project.task"),
    ("project.mt_task_waiting", "Task Waiting", False, False, "project.task"),
)
# (xmlid, name, category, delay_count, active)
ACTIVITY_TYPES = (
    ("mail.mail_activity_data_email", "Email", "default", 0, True),
    ("mail.mail_activity_data_call", "Call", "phonecall", 2, True),
    ("mail.mail_activity_data_meeting", "Meeting", "default", 0, True),
    ("mail.mail_activity_data_todo", "To-Do", "default", 5, True),
    ("mail.mail_activity_data_upload_document", "Upload Document", "upload_file", 5, True),
    ("mail.mail_activity_data_warning", "Exception", "default", 0, False),
)
# (name, sequence, closed, fold, unattended, mail template)
HELPDESK_STAGES = (
    ("New", 1, False, False, True, False),
    ("In Progress", 2, False, False, False, False),
    ("Awaiting", 3, False, False, False, False),
    ("Done", 4, True, True, False, True),
    ("Cancelled", 5, True, True, False, True),
    ("Rejected", 6, True, True, False, True),
)
HELPDESK_CHANNELS = ("Web", "Email", "Phone", "Other")
FIXED_MODEL_IDS = MappingProxyType({"res.partner": 85, "helpdesk.ticket": 346})
# (flavour -> modules installed beside base/mail/web, with versions)
MODULES = MappingProxyType({
    "helpdesk_mgmt": (("helpdesk_mgmt", "Helpdesk Management", "17.0.1.11.0", True),
                      ("project", "Project", False, True)),
    "project": (("project", "Project", "17.0.1.3", True), ("analytic", "Analytic Accounting", "17.0.1.1", False),
                ("hr", "Employees", "17.0.1.1", True), ("hr_timesheet", "Task Logs", "17.0.1.0", False)),
})


def register_xmlid(env: Env, xmlid: str, model: str, record_id: int) -> None:
    module, name = xmlid.split(".", 1)
    env.store.xmlids[xmlid] = (model, record_id)
    env.insert("ir.model.data", {"module": module, "name": name, "model": model, "res_id": record_id,
                                 "noupdate": False})


def _groups(env: Env, groups: Iterable[tuple[str, str, str, tuple[str, ...], int]]) -> None:
    categories = {c["name"]: c["id"] for c in env.rows("ir.module.category")}
    for xmlid, name, category, implied, record_id in groups:
        if category not in categories:
            categories[category] = env.insert("ir.module.category", {"name": category})["id"]
        row = env.insert("res.groups", {"name": name, "category_id": categories[category],
                                        "implied_ids": [env.ref(x) for x in implied]}, record_id=record_id)
        register_xmlid(env, xmlid, "res.groups", row["id"])


def _subtypes(env: Env, subtypes: Iterable[tuple[str, str, bool, bool, Any]]) -> None:
    for sequence, (xmlid, name, internal, default, res_model) in enumerate(subtypes, start=1):
        row = env.insert("mail.message.subtype", {"name": name, "internal": internal, "default": default,
                                                  "res_model": res_model, "sequence": sequence})
        register_xmlid(env, xmlid, "mail.message.subtype", row["id"])


def install(env: Env, flavour: str, *, login: str, password: str, groups_field: str = "groups_id") -> None:
    """Fill a new store with the data of a fresh database of this flavour."""
    for model, record_id in FIXED_MODEL_IDS.items():
        if model in env.store.models:
            env.insert("ir.model", {"model": model, "name": env.store.models[model].description},
                       record_id=record_id)
    for model, definition in sorted(env.store.models.items()):
        if model not in FIXED_MODEL_IDS:
            env.insert("ir.model", {"model": model, "name": definition.description})
    env.insert("res.partner", {"name": "My Company", "is_company": True}, record_id=1)
    env.insert("res.partner", {"name": "OdooBot", "email": "odoobot@example.com", "active": False}, record_id=2)
    env.insert("res.partner", {"name": "Administrator", "email": "admin@example.com"}, record_id=ADMIN_PARTNER)
    env.insert("res.company", {"name": "My Company", "partner_id": 1, "email": False}, record_id=COMPANY_ID)
    _groups(env, BASE_GROUPS)
    manager_groups = ["base.group_user", "base.group_system"]
    if flavour == "helpdesk_mgmt":
        _groups(env, HELPDESK_GROUPS)
        manager_groups.append("helpdesk_mgmt.group_helpdesk_manager")
    else:
        _groups(env, TIMESHEET_GROUPS + PROJECT_GROUPS)
        manager_groups += ["project.group_project_manager", *TIMESHEET_ADMIN_GROUPS]
    env.insert("res.users", {"login": "__system__", "name": "OdooBot", "email": "odoobot@example.com",
                             "partner_id": 2, "active": False, groups_field: [env.ref("base.group_system")]},
               record_id=1)
    env.insert("res.users", {"login": login, "name": "Administrator", "email": "admin@example.com",
                             "partner_id": ADMIN_PARTNER, "password": password,
                             groups_field: [env.ref(x) for x in manager_groups]}, record_id=ADMIN_UID)
    _subtypes(env, MAIL_SUBTYPES + (HELPDESK_SUBTYPES if flavour == "helpdesk_mgmt" else PROJECT_SUBTYPES))
    for sequence, (xmlid, name, category, delay, active) in enumerate(ACTIVITY_TYPES, start=1):
        if env.store.major >= 19:  # 19 lists To-Do first and names the upload type "Document" (same ids)
            sequence = 0 if xmlid == "mail.mail_activity_data_todo" else sequence
            name = "Document" if name == "Upload Document" else name
        row = env.insert("mail.activity.type", {"name": name, "category": category, "delay_count": delay,
                                                "active": active, "sequence": sequence, "delay_unit": "days"})
        register_xmlid(env, xmlid, "mail.activity.type", row["id"])
    _modules(env, flavour)
    if flavour == "helpdesk_mgmt":
        _helpdesk(env)
    else:
        _project(env)


def _modules(env: Env, flavour: str) -> None:
    for name, title in (("base", "Base"), ("web", "Web"), ("mail", "Discuss")):
        env.insert("ir.module.module", {"name": name, "shortdesc": title, "state": "installed",
                                        "latest_version": "17.0.1.3"})
    for name, title, version, application in MODULES[flavour]:
        env.insert("ir.module.module", {"name": name, "shortdesc": title, "application": application,
                                        "state": "installed" if version else "uninstalled",
                                        "latest_version": version})


def _field(env: Env, record_id: int, model: str, name: str, label: str, ttype: str) -> Row:
    model_row = next(m for m in env.rows("ir.model") if m["model"] == model)
    return env.insert("ir.model.fields", {"name": name, "model": model, "model_id": model_row["id"],
                                          "field_description": label, "ttype": ttype}, record_id=record_id)


def _helpdesk(env: Env) -> None:
    env.insert("mail.template", {"name": "Helpdesk Closed Ticket Notification Email", "model": "helpdesk.ticket",
                                 "subject": "The ticket {{ object.number }} has been closed."},
               record_id=CLOSING_TEMPLATE_ID)
    for name, sequence, closed, fold, unattended, template in HELPDESK_STAGES:
        env.insert("helpdesk.ticket.stage", {"name": name, "sequence": sequence, "closed": closed, "fold": fold,
                                             "unattended": unattended,
                                             "mail_template_id": CLOSING_TEMPLATE_ID if template else False})
    for sequence, name in enumerate(HELPDESK_CHANNELS, start=1):
        env.insert("helpdesk.ticket.channel", {"name": name, "sequence": sequence})
    _field(env, TICKET_STAGE_FIELD_ID, "helpdesk.ticket", "stage_id", "Stage", "many2one")


def _project(env: Env) -> None:
    _field(env, TASK_STAGE_FIELD_ID, "project.task", "stage_id", "Stage", "many2one")
    _field(env, TASK_STATE_FIELD_ID, "project.task", "state", "State", "selection")
    install_timesheets(env)
