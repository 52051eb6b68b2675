"""OCA helpdesk_mgmt 17.0: helpdesk.ticket and its stages, teams, tags, categories and channels.

Recorded behaviour reproduced: "HT000NN" numbers from a sequence that failed creates also
consume; stage New by default; user_id defaults to the creator but assigned_date stays False
until a write sets user_id; writing a closed stage sets closed_date, tracks the change (one
'notification' with subtype Note and record_name False), posts an 'email_outgoing' message
from the stage's mail template and queues a mail.mail to the customer; only stage changes are
tracked; users without a helpdesk group see no tickets and fault on changes; a portal user
sees only its own tickets; `assign_to_me` returns None; there is no merge method.
"""

from __future__ import annotations

from typing import Any

from odoo_double import faults
from odoo_double.chatter import THREAD_METHODS, on_thread_created, subscribe_users, thread_fields
from odoo_double.domain import Predicate
from odoo_double.fields import Field
from odoo_double.html_body import escape_text
from odoo_double.messages import create_message, queue_mail, subtype_id_or_note, tracking_value
from odoo_double.methods import existing_rows, write
from odoo_double.orm import Env, Method, ModelDef, Row, define

TICKET = "helpdesk.ticket"
PRIORITIES = (("0", "Low"), ("1", "Medium"), ("2", "High"), ("3", "Very High"))
KANBAN_STATES = (("normal", "Default"), ("done", "Ready for next stage"), ("blocked", "Blocked"))
HELPDESK_USER_GROUP = "helpdesk_mgmt.group_helpdesk_user_own"  # implied by every helpdesk group
HELPDESK_MANAGER_GROUP = "helpdesk_mgmt.group_helpdesk_manager"
GROUP_LABELS = ("Helpdesk/Helpdesk Manager", "Helpdesk/User", "Helpdesk/User: Personal tickets")
STAGE_FIELD_ID = 2901  # ir.model.fields id of helpdesk.ticket.stage_id in the recorded database
CLOSING_TEMPLATE_ID = 8


def _is_agent(env: Env) -> bool:
    return env.has_group(HELPDESK_USER_GROUP)


def _ticket_rule(env: Env) -> Predicate | None:
    if _is_agent(env):
        return None
    if env.is_portal:
        own = env.partner_id
        return lambda row: row.get("partner_id") == own
    return lambda row: False


def _ticket_access(env: Env, operation: str, rows: list[Row]) -> None:
    if _is_agent(env) or operation == "read":
        return
    description = "Helpdesk Ticket"
    if env.is_portal or operation == "create":
        raise faults.acl_denied(operation, TICKET, description, GROUP_LABELS)
    raise faults.rule_denied(env.user.get("name", ""), env.uid, "read", TICKET, description)


def _config_access(model: str, description: str) -> Any:
    """Stages, teams, tags, categories, channels: every internal user reads them, only a Helpdesk Manager changes
    them (helpdesk_mgmt's ir.model.access)."""
    def check(env: Env, operation: str, rows: list[Row]) -> None:
        if operation != "read" and not env.has_group(HELPDESK_MANAGER_GROUP):
            raise faults.acl_denied(operation, model, description, GROUP_LABELS[:1])
    return check


def _default_stage(env: Env) -> Any:
    stages = sorted((s for s in env.rows("helpdesk.ticket.stage") if s.get("active", True)),
                    key=lambda s: (s["sequence"], s["id"]))
    return stages[0]["id"] if stages else False


def _stage_value(key: str) -> Any:
    def compute(env: Env, row: Row) -> Any:
        stage = env.row("helpdesk.ticket.stage", row.get("stage_id"))
        return bool(stage and stage.get(key))
    return compute


def _ticket_display(env: Env, row: Row) -> str:
    return f"{row.get('number') or ''} - {row.get('name') or ''}"


def _prepare_ticket(env: Env, vals: dict[str, Any]) -> None:
    if vals.get("number", "/") in ("/", False, None):
        vals["number"] = f"HT{env.store.next_sequence('helpdesk.ticket'):05d}"


def _after_ticket_create(env: Env, row: Row, changes: Row) -> None:
    if changes.get("user_id"):
        row["assigned_date"] = env.now_seconds()
    if row.get("user_id"):
        subscribe_users(env, TICKET, row["id"], [row["user_id"]])


def _before_ticket_write(env: Env, row: Row, changes: Row) -> None:
    now = env.now_seconds()
    if changes.get("user_id"):
        changes["assigned_date"] = now
    if "stage_id" in changes and changes["stage_id"] != row.get("stage_id"):
        changes["last_stage_update"] = now
        stage = env.row("helpdesk.ticket.stage", changes["stage_id"])
        if stage and stage.get("closed"):
            changes["closed_date"] = now


def _after_ticket_write(env: Env, row: Row, old: Row, changes: Row) -> None:
    if changes.get("user_id") and changes["user_id"] != old.get("user_id"):
        subscribe_users(env, TICKET, row["id"], [changes["user_id"]])
    if "stage_id" not in changes or changes["stage_id"] == old.get("stage_id"):
        return
    stage_field = env.model_def(TICKET).fields["stage_id"]
    before = env.read_value(TICKET, old, stage_field)
    after = env.read_value(TICKET, row, stage_field)
    create_message(env, TICKET, row["id"], body="", message_type="notification",
                   subtype=subtype_id_or_note(env, "mail.mt_note"), record_name=False,
                   tracking=[tracking_value(env, STAGE_FIELD_ID, before, after, kind="many2one")])
    stage = env.row("helpdesk.ticket.stage", row["stage_id"]) or {}
    if stage.get("mail_template_id"):
        _send_closing_mail(env, row)


def _send_closing_mail(env: Env, row: Row) -> None:
    """The stage's template: an 'email_outgoing' message and a mail.mail to the customer."""
    user = env.row("res.users", row.get("user_id")) or {}
    title = _ticket_display(env, row)
    body = (f"<div><p>Hello {escape_text(user.get('name') or 'there')},</p>"
            f"<p>The ticket \"{escape_text(title)}\" has been closed.</p></div>")
    partners = [row["partner_id"]] if row.get("partner_id") else []
    message = create_message(env, TICKET, row["id"], body=body, message_type="email_outgoing", subtype=False,
                             partner_ids=partners)
    if partners:
        queue_mail(env, TICKET, row["id"], message, partners,
                   subject=f"The ticket {row.get('number')} has been closed.")


def assign_to_me(env: Env, model: str, ids: list[int]) -> None:
    """Returns None like Odoo (XML-RPC then faults after committing; JSON-RPC sends no result)."""
    existing_rows(env, model, ids)
    write(env, model, ids, {"user_id": env.uid})


def _list_default(env: Env) -> list[Any]:
    return []


def helpdesk_models() -> list[ModelDef]:
    ticket = define(TICKET, "Helpdesk Ticket", [
        Field("duration_tracking", "json", "Status time", readonly=True,
              compute=lambda env, row: {str(row["stage_id"]): 0} if row.get("stage_id") else {}),
        *thread_fields(TICKET, "/my/ticket"),
        Field("number", "char", "Ticket number", readonly=True, default="/"),
        Field("name", "char", "Title", required=True),
        Field("description", "html", "Description", required=True),
        Field("user_id", "many2one", "Assigned user", relation="res.users", default=lambda env: env.uid),
        Field("user_ids", "many2many", "Users", relation="res.users", readonly=True,
              compute=lambda env, row: list((env.row("helpdesk.ticket.team", row.get("team_id")) or {}).get(
                  "user_ids") or [])),
        Field("stage_id", "many2one", "Stage", relation="helpdesk.ticket.stage", default=_default_stage,
              missing_is_fault=True),
        Field("partner_id", "many2one", "Contact", relation="res.partner"),
        Field("commercial_partner_id", "many2one", "Commercial Partner", relation="res.partner", readonly=True,
              compute=lambda env, row: _commercial(env, row)),
        Field("partner_name", "char", "Partner Name"),
        Field("partner_email", "char", "Email"),
        Field("last_stage_update", "datetime", "Last Stage Update", default=lambda env: env.now_seconds()),
        Field("assigned_date", "datetime", "Assigned Date"),
        Field("closed_date", "datetime", "Closed Date"),
        Field("closed", "boolean", "Closed", readonly=True, compute=_stage_value("closed")),
        Field("unattended", "boolean", "Unattended", readonly=True, compute=_stage_value("unattended")),
        Field("tag_ids", "many2many", "Tags", relation="helpdesk.ticket.tag"),
        Field("company_id", "many2one", "Company", relation="res.company", required=True, default=1),
        Field("channel_id", "many2one", "Channel", relation="helpdesk.ticket.channel"),
        Field("category_id", "many2one", "Category", relation="helpdesk.ticket.category"),
        Field("team_id", "many2one", "Team", relation="helpdesk.ticket.team"),
        Field("priority", "selection", "Priority", selection=PRIORITIES, default="1"),
        Field("attachment_ids", "one2many", "Media Attachments", relation="ir.attachment",
              compute=lambda env, row: []),
        Field("color", "integer", "Color Index"),
        Field("kanban_state", "selection", "Kanban State", selection=KANBAN_STATES),
        Field("sequence", "integer", "Sequence", default=10),
        Field("active", "boolean", "Active", default=True),
        Field("properties", "properties", "Properties", default=_list_default),
    ], order="priority desc, sequence, number desc, id desc", search_names=("number", "name"),
        display=_ticket_display,
        methods={**THREAD_METHODS, "assign_to_me": Method(assign_to_me, True)},
        prepare_create=[_prepare_ticket], before_write=[_before_ticket_write],
        after_create=[on_thread_created(TICKET, "helpdesk_mgmt.hlp_tck_created"), _after_ticket_create],
        after_write=[_after_ticket_write], access=_ticket_access, rule=_ticket_rule)
    stage = define("helpdesk.ticket.stage", "Helpdesk Ticket Stage", [
        Field("name", "char", "Stage Name", required=True),
        Field("description", "html", "Description"),
        Field("sequence", "integer", "Sequence", default=1),
        Field("active", "boolean", "Active", default=True),
        Field("unattended", "boolean", "Unattended"),
        Field("closed", "boolean", "Closed"),
        Field("close_from_portal", "boolean", "Close From Portal"),
        Field("mail_template_id", "many2one", "Email Template", relation="mail.template"),
        Field("fold", "boolean", "Folded in Kanban"),
        Field("company_id", "many2one", "Company", relation="res.company"),
        Field("team_ids", "many2many", "Helpdesk Teams", relation="helpdesk.ticket.team"),
    ], order="sequence, id", access=_config_access("helpdesk.ticket.stage", "Helpdesk Ticket Stage"))
    team = define("helpdesk.ticket.team", "Helpdesk Ticket Team", [
        Field("name", "char", "Name", required=True),
        Field("alias_id", "many2one", "Email", relation="mail.alias"),
        Field("alias_name", "char", "Alias Name"),
        Field("user_ids", "many2many", "Members", relation="res.users"),
        Field("active", "boolean", "Active", default=True),
        Field("category_ids", "many2many", "Category", relation="helpdesk.ticket.category"),
        Field("company_id", "many2one", "Company", relation="res.company", default=1),
        Field("user_id", "many2one", "Team Leader", relation="res.users"),
        Field("color", "integer", "Color Index"),
        Field("sequence", "integer", "Sequence", default=10),
        Field("show_in_portal", "boolean", "Show in portal form", default=True),
        Field("parent_id", "many2one", "Parent Team", relation="helpdesk.ticket.team"),
        Field("ticket_ids", "one2many", "Tickets", relation=TICKET,
              compute=lambda env, row: [t["id"] for t in env.rows(TICKET) if t["team_id"] == row["id"]]),
        Field("todo_ticket_count", "integer", "Number of tickets", compute=lambda env, row: _todo(env, row)),
    ], order="sequence, id", after_create=[_give_team_an_alias],
        access=_config_access("helpdesk.ticket.team", "Helpdesk Ticket Team"))
    tag = define("helpdesk.ticket.tag", "Helpdesk Ticket Tag", [
        Field("sequence", "integer", "Sequence", default=10),
        Field("name", "char", "Name"),
        Field("color", "integer", "Color Index"),
        Field("active", "boolean", "Active", default=True),
        Field("company_id", "many2one", "Company", relation="res.company"),
    ], order="sequence, id", access=_config_access("helpdesk.ticket.tag", "Helpdesk Ticket Tag"))
    category = define("helpdesk.ticket.category", "Helpdesk Ticket Category", [
        Field("sequence", "integer", "Sequence", default=10),
        Field("active", "boolean", "Active", default=True),
        Field("name", "char", "Name", required=True),
        Field("company_id", "many2one", "Company", relation="res.company", default=1),
        Field("parent_id", "many2one", "Parent Category", relation="helpdesk.ticket.category"),
        Field("child_id", "one2many", "Child Categories", relation="helpdesk.ticket.category",
              compute=lambda env, row: [c["id"] for c in env.rows("helpdesk.ticket.category")
                                        if c["parent_id"] == row["id"]]),
        Field("complete_name", "char", "Complete Name", compute=lambda env, row: _complete_name(env, row)),
        Field("show_in_portal", "boolean", "Show In Portal", default=True),
    ], order="sequence, id", display=lambda env, row: _complete_name(env, row),
        access=_config_access("helpdesk.ticket.category", "Helpdesk Ticket Category"))
    channel = define("helpdesk.ticket.channel", "Helpdesk Ticket Channel", [
        Field("sequence", "integer", "Sequence", default=10),
        Field("name", "char", "Name", required=True),
        Field("active", "boolean", "Active", default=True),
        Field("company_id", "many2one", "Company", relation="res.company"),
    ], order="sequence, id", access=_config_access("helpdesk.ticket.channel", "Helpdesk Ticket Channel"))
    return [ticket, stage, team, tag, category, channel]


def _commercial(env: Env, row: Row) -> Any:
    partner = env.row("res.partner", row.get("partner_id"))
    if partner is None:
        return False
    return env.value("res.partner", partner, env.model_def("res.partner").fields["commercial_partner_id"])


def _todo(env: Env, row: Row) -> int:
    return sum(1 for t in env.rows(TICKET) if t["team_id"] == row["id"] and not _stage_value("closed")(env, t))


def _complete_name(env: Env, row: Row) -> str:
    parent = env.row("helpdesk.ticket.category", row.get("parent_id"))
    return f"{_complete_name(env, parent)} / {row['name']}" if parent else row.get("name") or ""


def _give_team_an_alias(env: Env, row: Row, changes: Row) -> None:
    if not row.get("alias_id"):
        row["alias_id"] = env.insert("mail.alias", {"alias_name": row.get("alias_name") or False})["id"]


def _duplicates(env: Env, row: Row) -> list[int]:
    return [t["id"] for t in env.rows(TICKET) if t.get("duplicate_id") == row["id"]]


def helpdesk_series(definitions: list[ModelDef], major: int) -> None:
    """helpdesk_mgmt 18/19's extra ticket fields (duplicate tracking; 18's notes; 19's rotting)."""
    for definition in definitions:
        if definition.name != TICKET or major < 18:
            continue
        extra = [
            Field("duplicate_id", "many2one", "Duplicate of", relation=TICKET),
            Field("duplicate_ids", "one2many", "Duplicate tickets", relation=TICKET, compute=_duplicates),
            Field("duplicate_count", "integer", "Duplicate Count", readonly=True,
                  compute=lambda env, row: len(_duplicates(env, row))),
            Field("duplicate_tracking_enabled", "boolean", "Enable duplicate ticket tracking.", readonly=True,
                  compute=lambda env, row: False),
        ]
        if major == 18:
            extra.append(Field("notes", "html", "Notes"))
        else:
            extra += [Field("is_rotting", "boolean", "Rotting", readonly=True, compute=lambda env, row: False),
                      Field("rotting_days", "integer", "Days Rotting", readonly=True, compute=lambda env, row: 0)]
        for f in extra:
            definition.fields[f.name] = f
