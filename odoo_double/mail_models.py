"""The mail models: messages, subtypes, tracking values, followers, the mail queue, activities,
activity types, templates and aliases (behaviour lives in chatter.py, messages.py, activities.py).
"""

from __future__ import annotations

from typing import Any

from odoo_double.activities import (
    ACTIVITY_STATES,
    action_done,
    action_feedback,
    activity_display_name,
    activity_state,
    check_activity_target,
    resolve_activity_model,
)
from odoo_double.fields import Field
from odoo_double.messages import is_internal
from odoo_double.orm import Env, Method, ModelDef, Row, define

MESSAGE_TYPES = (("email", "Incoming Email"), ("comment", "Comment"), ("email_outgoing", "Outgoing Email"),
                 ("notification", "System notification"), ("auto_comment", "Automated Targeted Notification"),
                 ("user_notification", "User Specific Notification"), ("sms", "SMS"), ("snailmail", "Snailmail"))
ACTIVITY_CATEGORIES = (("default", "None"), ("upload_file", "Upload Document"), ("phonecall", "Phonecall"))
MAIL_STATES = (("outgoing", "Outgoing"), ("sent", "Sent"), ("received", "Received"), ("exception", "Delivery Failed"),
               ("cancel", "Cancelled"))


def _message_display(env: Env, row: Row) -> str | bool:
    """mail.message's display_name: the record's name up to 18; on 19 the record's name for a posted message but
    False for a notification (tracking) - as the two recorded 19 answers show (mail.mail, mail.tracking.value)."""
    if env.store.major >= 19 and row.get("message_type") == "notification":
        return False
    return row.get("record_name") or False


def mail_models() -> list[ModelDef]:
    message = define("mail.message", "Message", [
        Field("body", "html", "Contents", default=""),
        Field("subject", "char", "Subject"),
        Field("model", "char", "Related Document Model"),
        Field("res_id", "many2one_reference", "Related Document ID"),
        Field("record_name", "char", "Message Record Name"),
        Field("message_type", "selection", "Type", selection=MESSAGE_TYPES, required=True, default="comment"),
        Field("subtype_id", "many2one", "Subtype", relation="mail.message.subtype"),
        Field("mail_activity_type_id", "many2one", "Mail Activity Type", relation="mail.activity.type"),
        Field("author_id", "many2one", "Author", relation="res.partner"),
        Field("email_from", "char", "From"),
        Field("partner_ids", "many2many", "Recipients", relation="res.partner"),
        Field("date", "datetime", "Date"),
        Field("parent_id", "many2one", "Parent Message", relation="mail.message"),
        Field("is_internal", "boolean", "Employee Only", compute=lambda env, row: is_internal(env, row)),
        Field("tracking_value_ids", "one2many", "Tracking values", relation="mail.tracking.value",
              compute=lambda env, row: sorted((t["id"] for t in env.rows("mail.tracking.value")
                                               if t["mail_message_id"] == row["id"]), reverse=True)),
    ], order="id desc", rec_name="record_name", display=_message_display)
    subtype = define("mail.message.subtype", "Message subtypes", [
        Field("name", "char", "Message Type", required=True),
        Field("description", "text", "Description"),
        Field("internal", "boolean", "Internal Only"),
        Field("default", "boolean", "Default", default=True),
        Field("res_model", "char", "Model"),
        Field("sequence", "integer", "Sequence", default=1),
        Field("hidden", "boolean", "Hidden"),
    ], order="sequence, id")
    tracking = define("mail.tracking.value", "Mail Tracking Value", [
        Field("field_id", "many2one", "Field", relation="ir.model.fields", required=True),
        Field("old_value_integer", "integer", "Old Value Integer", readonly=True),
        Field("old_value_float", "float", "Old Value Float", readonly=True),
        Field("old_value_char", "char", "Old Value Char", readonly=True),
        Field("old_value_text", "text", "Old Value Text", readonly=True),
        Field("old_value_datetime", "datetime", "Old Value DateTime", readonly=True),
        Field("new_value_integer", "integer", "New Value Integer", readonly=True),
        Field("new_value_float", "float", "New Value Float", readonly=True),
        Field("new_value_char", "char", "New Value Char", readonly=True),
        Field("new_value_text", "text", "New Value Text", readonly=True),
        Field("new_value_datetime", "datetime", "New Value Datetime", readonly=True),
        Field("mail_message_id", "many2one", "Message ID", relation="mail.message", required=True),
    ], order="id desc", display=lambda env, row: _tracking_name(env, row))
    followers = define("mail.followers", "Document Followers", [
        Field("res_model", "char", "Related Document Model Name", required=True),
        Field("res_id", "many2one_reference", "Related Document ID"),
        Field("partner_id", "many2one", "Related Partner", relation="res.partner", required=True),
        Field("subtype_ids", "many2many", "Subtype", relation="mail.message.subtype"),
        Field("name", "char", "Name", compute=lambda env, row: _partner_value(env, row, "name")),
        Field("email", "char", "Email", compute=lambda env, row: _partner_value(env, row, "email")),
        Field("is_active", "boolean", "Is Active", compute=lambda env, row: True),
    ], display=lambda env, row: _partner_value(env, row, "name"))
    mail = define("mail.mail", "Outgoing Mails", [
        Field("subject", "char", "Subject"),
        Field("body_html", "text", "Text Contents"),
        Field("email_from", "char", "From"),
        Field("email_to", "text", "To"),
        Field("recipient_ids", "many2many", "To (Partners)", relation="res.partner"),
        Field("mail_message_id", "many2one", "Message", relation="mail.message", required=True),
        Field("model", "char", "Related Document Model"),
        Field("res_id", "many2one_reference", "Related Document ID"),
        Field("state", "selection", "Status", selection=MAIL_STATES, default="outgoing"),
        Field("failure_type", "selection", "Failure type", selection=(
            ("unknown", "Unknown error"), ("mail_email_invalid", "Invalid email address"),
            ("mail_smtp", "Connection failed (outgoing mail server problem)"))),
        Field("failure_reason", "text", "Failure Reason"),
    ], order="id desc", rec_name="subject")
    activity_type = define("mail.activity.type", "Activity Type", [
        Field("name", "char", "Name", required=True),
        Field("summary", "char", "Default Summary"),
        Field("sequence", "integer", "Sequence", default=10),
        Field("active", "boolean", "Active", default=True),
        Field("delay_count", "integer", "Schedule"),
        Field("delay_unit", "selection", "Delay units", required=True, default="days",
              selection=(("days", "days"), ("weeks", "weeks"), ("months", "months"))),
        Field("category", "selection", "Action", selection=ACTIVITY_CATEGORIES, default="default"),
        Field("res_model", "char", "Model"),
        Field("icon", "char", "Icon"),
    ], order="sequence, id")
    activity = define("mail.activity", "Activity", [
        Field("res_model_id", "many2one", "Document Model", relation="ir.model", required=True,
              missing_is_fault=True),
        Field("res_model", "char", "Related Document Model", readonly=True),
        Field("res_id", "many2one_reference", "Related Document ID"),
        Field("res_name", "char", "Document Name", compute=lambda env, row: _res_name(env, row)),
        Field("activity_type_id", "many2one", "Activity Type", relation="mail.activity.type",
              default=lambda env: env.ref("mail.mail_activity_data_todo")),
        Field("activity_category", "selection", "Action", selection=ACTIVITY_CATEGORIES,
              compute=lambda env, row: (env.row("mail.activity.type", row["activity_type_id"]) or {}).get(
                  "category", False)),
        Field("summary", "char", "Summary"),
        Field("note", "html", "Note"),
        Field("date_deadline", "date", "Due Date", required=True,
              default=lambda env: env.now().date()),
        Field("date_done", "date", "Done Date", readonly=True),
        Field("automated", "boolean", "Automated activity", readonly=True),
        Field("user_id", "many2one", "Assigned to", relation="res.users", required=True,
              default=lambda env: env.uid),
        Field("request_partner_id", "many2one", "Requesting Partner", relation="res.partner"),
        Field("state", "selection", "State", selection=ACTIVITY_STATES,
              compute=lambda env, row: activity_state(env, row)),
        Field("can_write", "boolean", "Can Write", compute=lambda env, row: True),
        Field("active", "boolean", "Active", default=True),
    ], order="date_deadline, id", display=activity_display_name, methods={
        "action_feedback": Method(action_feedback, True),
        "action_done": Method(action_done, True),
    }, prepare_create=[resolve_activity_model], after_create=[check_activity_target])
    template = define("mail.template", "Email Templates", [
        Field("name", "char", "Name"),
        Field("model", "char", "Related Document Model"),
        Field("subject", "char", "Subject"),
        Field("body_html", "html", "Body"),
    ])
    alias = define("mail.alias", "Email Aliases", [
        Field("alias_name", "char", "Alias Name"),
        Field("alias_model_id", "many2one", "Aliased Model", relation="ir.model"),
        Field("alias_contact", "selection", "Alias Contact Security", default="everyone",
              selection=(("everyone", "Everyone"), ("partners", "Authenticated Partners"),
                         ("followers", "Followers only"))),
    ], display=lambda env, row: row.get("alias_name") or "Inactive Alias")
    return [message, subtype, tracking, followers, mail, activity_type, activity, template, alias]


def _partner_value(env: Env, row: Row, key: str) -> Any:
    partner = env.row("res.partner", row["partner_id"])
    return partner.get(key) or False if partner else False


def _res_name(env: Env, row: Row) -> Any:
    target = env.row(row["res_model"], row["res_id"]) if row.get("res_model") in env.store.models else None
    return env.display_name(row["res_model"], target) if target else False


def _tracking_name(env: Env, row: Row) -> Any:
    field = env.row("ir.model.fields", row["field_id"])
    return field["name"] if field else False
