"""The chatter: mail.message, followers, tracking values, the outgoing mail queue and activities.

Recorded behaviour reproduced here: `message_post` returns the message id, stores plain-text
bodies as `<p>...</p>` and escapes HTML sent without `body_is_html`; an unknown subtype xmlid
silently becomes Note; the customer is not a follower, so a comment reaches her only through
`partner_ids` (or after `message_subscribe`); outgoing mail fails with no SMTP server (state
'exception'); the first mail to an external partner writes the record's access_token (which
bumps its write_date); other chatter operations leave write_date alone.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from datetime import timedelta
from types import MappingProxyType
from typing import Any

from bot.odoo.sandbox import faults
from bot.odoo.sandbox.fields import Field, to_cache
from bot.odoo.sandbox.html_body import escape_text, plaintext_to_html, sanitize_html
from bot.odoo.sandbox.orm import Env, Method, ModelDef, Recordset, Row, create_one, define, existing_rows

MESSAGE_TYPES = (("email", "Incoming Email"), ("comment", "Comment"), ("email_outgoing", "Outgoing Email"),
                 ("notification", "System notification"), ("auto_comment", "Automated Targeted Notification"),
                 ("user_notification", "User Specific Notification"), ("sms", "SMS"), ("snailmail", "Snailmail"))
ACTIVITY_STATES = (("overdue", "Overdue"), ("today", "Today"), ("planned", "Planned"), ("done", "Done"))
ACTIVITY_CATEGORIES = (("default", "None"), ("upload_file", "Upload Document"), ("phonecall", "Phonecall"))
MAIL_STATES = (("outgoing", "Outgoing"), ("sent", "Sent"), ("received", "Received"), ("exception", "Delivery Failed"),
               ("cancel", "Cancelled"))
NO_SMTP_REASON = "111\nConnection refused"


def _messages_of(env: Env, model: str, res_id: int) -> list[Row]:
    return [m for m in env.rows("mail.message") if m["model"] == model and m["res_id"] == res_id]


def _followers_of(env: Env, model: str, res_id: int) -> list[Row]:
    return [f for f in env.rows("mail.followers") if f["res_model"] == model and f["res_id"] == res_id]


def _activities_of(env: Env, model: str, res_id: int) -> list[Row]:
    rows = [a for a in env.rows("mail.activity") if a["res_model"] == model and a["res_id"] == res_id]
    return sorted(rows, key=lambda a: (a["date_deadline"], a["id"]))


def activity_state(env: Env, activity: Row) -> str:
    days = (activity["date_deadline"] - env.now().date()).days
    return "overdue" if days < 0 else "today" if days == 0 else "planned"


def subtype_id(env: Env, xmlid: str | None) -> int | bool:
    entry = env.store.xmlids.get(xmlid or "")
    return entry[1] if entry and entry[0] == "mail.message.subtype" else False


def email_from(env: Env, partner_id: int) -> str | bool:
    partner = env.row("res.partner", partner_id)
    if not partner or not partner.get("email"):
        return False
    return f'"{partner["name"]}" <{partner["email"]}>'


# ---- mail.thread: fields and behaviour shared by tickets and tasks ---------------------------------

def thread_fields(model: str, portal_path: str) -> list[Field]:
    def first_activity(env: Env, row: Row) -> Row | None:
        activities = _activities_of(env, model, row["id"])
        return activities[0] if activities else None

    def activity_value(key: str) -> Any:
        def compute(env: Env, row: Row) -> Any:
            activity = first_activity(env, row)
            if activity is None:
                return False
            if key == "state":
                return activity_state(env, activity)
            return activity.get(key) or False
        return compute

    def my_deadline(env: Env, row: Row) -> Any:
        mine = [a for a in _activities_of(env, model, row["id"]) if a["user_id"] == env.uid]
        return mine[0]["date_deadline"] if mine else False

    def partners(env: Env, row: Row) -> list[int]:
        return [f["partner_id"] for f in _followers_of(env, model, row["id"])]

    def messages(env: Env, row: Row) -> list[int]:
        return sorted((m["id"] for m in _messages_of(env, model, row["id"])), reverse=True)

    def website_messages(env: Env, row: Row) -> list[int]:
        return sorted((m["id"] for m in _messages_of(env, model, row["id"])
                       if m["message_type"] in ("comment", "email", "email_outgoing")
                       and not _is_internal(env, m)), reverse=True)

    def const(value: Any) -> Any:
        return lambda env, row: value

    return [
        Field("access_url", "char", "Portal Access URL", compute=lambda env, row: f"{portal_path}/{row['id']}"),
        Field("access_token", "char", "Security Token"),
        Field("access_warning", "text", "Access warning", compute=const("")),
        Field("activity_ids", "one2many", "Activities", relation="mail.activity",
              compute=lambda env, row: [a["id"] for a in _activities_of(env, model, row["id"])]),
        Field("activity_state", "selection", "Activity State", selection=ACTIVITY_STATES[:3],
              compute=activity_value("state")),
        Field("activity_user_id", "many2one", "Responsible User", relation="res.users",
              compute=activity_value("user_id")),
        Field("activity_type_id", "many2one", "Next Activity Type", relation="mail.activity.type",
              compute=activity_value("activity_type_id")),
        Field("activity_type_icon", "char", "Activity Type Icon", compute=const(False)),
        Field("activity_date_deadline", "date", "Next Activity Deadline", compute=activity_value("date_deadline")),
        Field("my_activity_date_deadline", "date", "My Activity Deadline", compute=my_deadline),
        Field("activity_summary", "char", "Next Activity Summary", compute=activity_value("summary")),
        Field("activity_exception_decoration", "selection", "Activity Exception Decoration",
              selection=(("warning", "Alert"), ("danger", "Error")), compute=const(False)),
        Field("activity_exception_icon", "char", "Icon", compute=const(False)),
        Field("message_is_follower", "boolean", "Is Follower",
              compute=lambda env, row: env.partner_id in partners(env, row)),
        Field("message_follower_ids", "one2many", "Followers", relation="mail.followers",
              compute=lambda env, row: [f["id"] for f in _followers_of(env, model, row["id"])]),
        Field("message_partner_ids", "many2many", "Followers (Partners)", relation="res.partner", compute=partners),
        Field("message_ids", "one2many", "Messages", relation="mail.message", compute=messages),
        Field("has_message", "boolean", "Has Message", compute=lambda env, row: bool(messages(env, row))),
        Field("message_needaction", "boolean", "Action Needed", compute=const(False)),
        Field("message_needaction_counter", "integer", "Number of Actions", compute=const(0)),
        Field("message_has_error", "boolean", "Message Delivery error", compute=const(False)),
        Field("message_has_error_counter", "integer", "Number of errors", compute=const(0)),
        Field("message_attachment_count", "integer", "Attachment Count", compute=const(0)),
        Field("website_message_ids", "one2many", "Website Messages", relation="mail.message",
              compute=website_messages),
        Field("message_has_sms_error", "boolean", "SMS Delivery error", compute=const(False)),
        Field("email_cc", "char", "Email cc"),
    ]


def _is_internal(env: Env, message: Row) -> bool:
    subtype = env.row("mail.message.subtype", message["subtype_id"]) if message["subtype_id"] else None
    return bool(subtype and subtype["internal"])


def subscribe(env: Env, model: str, res_id: int, partner_ids: Iterable[int],
              subtype_ids: Iterable[int] | None = None) -> None:
    """Add followers (existing followers are left as they are)."""
    following = {f["partner_id"] for f in _followers_of(env, model, res_id)}
    for partner_id in partner_ids:
        if partner_id in following or not partner_id:
            continue
        if subtype_ids is None:
            subtypes = [s["id"] for s in env.rows("mail.message.subtype")
                        if s["default"] and not s["internal"] and s["res_model"] in (False, model)]
        else:
            subtypes = list(subtype_ids)
        env.insert("mail.followers", {"res_model": model, "res_id": res_id, "partner_id": partner_id,
                                      "subtype_ids": subtypes})
        following.add(partner_id)


def create_message(env: Env, model: str, res_id: int, *, body: str, message_type: str, subtype: int | bool,
                   partner_ids: Iterable[int] = (), record_name: Any = None, subject: Any = False,
                   tracking: Iterable[Row] = (), author_id: int | None = None) -> Row:
    record = env.row(model, res_id)
    name = env.display_name(model, record) if record is not None and record_name is None else record_name
    author = env.partner_id if author_id is None else author_id
    message = env.insert("mail.message", {
        "body": body, "model": model, "res_id": res_id, "message_type": message_type, "subtype_id": subtype,
        "author_id": author, "email_from": email_from(env, author), "partner_ids": list(partner_ids),
        "date": env.now_seconds(), "record_name": name if name is not None else False, "subject": subject,
    })
    for values in tracking:
        env.insert("mail.tracking.value", {**values, "mail_message_id": message["id"]})
    return message


def notify_by_mail(env: Env, model: str, record: Row, message: Row, explicit: Iterable[int]) -> None:
    """Queue one mail.mail for the recipients (explicit partners + followers of the subtype)."""
    recipients = list(dict.fromkeys(explicit))
    if message["subtype_id"]:
        for follower in _followers_of(env, model, record["id"]):
            if message["subtype_id"] in follower["subtype_ids"] and follower["partner_id"] not in recipients:
                recipients.append(follower["partner_id"])
    recipients = [p for p in recipients if p != message["author_id"]]
    if not recipients:
        return
    queue_mail(env, model, record["id"], message, recipients, subject=env.display_name(model, record))
    internal_partners = {u["partner_id"] for u in env.rows("res.users") if not u.get("share")}
    if any(p not in internal_partners for p in recipients) and "access_token" in record \
            and not record.get("access_token"):
        record["access_token"] = str(uuid.uuid4())
        record["write_date"] = env.now()  # the token is written on the record: write_date moves


def queue_mail(env: Env, model: str, res_id: int, message: Row, recipients: list[int], *, subject: str) -> Row:
    return env.insert("mail.mail", {
        "subject": subject, "body_html": message["body"], "model": model, "res_id": res_id,
        "mail_message_id": message["id"], "recipient_ids": recipients, "email_to": False,
        "email_from": message["email_from"], "state": "exception", "failure_type": False,
        "failure_reason": NO_SMTP_REASON,
    })


def can_post(env: Env, model: str, record: Row, internal: bool) -> bool:
    definition = env.model_def(model)
    try:
        if definition.access is not None:
            definition.access(env, "write", [record])
        elif env.is_portal:
            return False
        return True
    except faults.OdooFault:
        pass
    if env.is_portal and not internal and definition.rule is not None:
        rule = definition.rule(env)
        return rule is None or rule(record)
    return False


def message_post(env: Env, model: str, ids: list[int], body: str = "", subject: Any = None,
                 message_type: str = "notification", subtype_xmlid: str | None = None, subtype_id: Any = False,
                 partner_ids: Any = None, body_is_html: bool = False, author_id: Any = None,
                 attachment_ids: Any = None, **kwargs: Any) -> int:
    records = existing_rows(env, model, ids)
    if len(records) != 1:
        raise faults.value_error(f"Expected singleton: {faults.recordset_repr(model, ids)}")
    record = records[0]
    message_field = env.model_def("mail.message").fields["message_type"]
    to_cache("mail.message", message_field, message_type)
    subtype = subtype_id or subtype_id_or_note(env, subtype_xmlid)
    subtype_row = env.row("mail.message.subtype", subtype)
    if not can_post(env, model, record, bool(subtype_row and subtype_row["internal"])):
        raise faults.message_create_denied(env.store.next_id("mail.message"), env.uid)
    text = body or ""
    stored = sanitize_html(text) if body_is_html else plaintext_to_html(text) if text else ""
    partners = list(partner_ids or [])
    missing = [p for p in partners if env.row("res.partner", p) is None]
    if missing:
        raise faults.missing("res.partner", missing, env.uid)
    message = create_message(env, model, record["id"], body=stored, message_type=message_type, subtype=subtype,
                             partner_ids=partners, subject=subject or False,
                             author_id=author_id if isinstance(author_id, int) and author_id else None)
    notify_by_mail(env, model, record, message, partners)
    return int(message["id"])


def subtype_id_or_note(env: Env, xmlid: str | None) -> int:
    found = subtype_id(env, xmlid) if xmlid else False
    return int(found or subtype_id(env, "mail.mt_note"))


def message_subscribe(env: Env, model: str, ids: list[int], partner_ids: Any = None, subtype_ids: Any = None) -> bool:
    records = existing_rows(env, model, ids)
    for record in records:
        subscribe(env, model, record["id"], list(partner_ids or []), subtype_ids)
    return True


def message_unsubscribe(env: Env, model: str, ids: list[int], partner_ids: Any = None) -> bool:
    for record in existing_rows(env, model, ids):
        for follower in _followers_of(env, model, record["id"]):
            if follower["partner_id"] in (partner_ids or []):
                del env.store.tables["mail.followers"][follower["id"]]
    return True


def activity_schedule(env: Env, model: str, ids: list[int], act_type_xmlid: str = "", date_deadline: Any = None,
                      summary: str = "", note: str = "", **act_values: Any) -> Recordset:
    records = existing_rows(env, model, ids)
    entry = env.store.xmlids.get(act_type_xmlid) if act_type_xmlid else None
    type_id = act_values.pop("activity_type_id", None) or (entry[1] if entry else env.ref(
        "mail.mail_activity_data_todo"))
    activity_type = env.row("mail.activity.type", type_id) or {}
    if not date_deadline:
        date_deadline = (env.now().date() + timedelta(days=int(activity_type.get("delay_count") or 0))).isoformat()
    model_id = ir_model_id(env, model)
    created = [create_one(env, "mail.activity", {
        "res_model_id": model_id, "res_id": record["id"], "activity_type_id": type_id, "summary": summary or False,
        "note": note or False, "date_deadline": date_deadline, "user_id": act_values.pop("user_id", env.uid),
        **act_values}) for record in records]
    return Recordset("mail.activity", tuple(created))


def ir_model_id(env: Env, model: str) -> int:
    for row in env.rows("ir.model"):
        if row["model"] == model:
            return int(row["id"])
    raise faults.unknown_model(model)


THREAD_METHODS: Mapping[str, Method] = MappingProxyType({
    "message_post": Method(message_post, True),
    "message_subscribe": Method(message_subscribe, True),
    "message_unsubscribe": Method(message_unsubscribe, True),
    "activity_schedule": Method(activity_schedule, True),
})


def on_thread_created(model: str, created_subtype_xmlid: str) -> Any:
    """after_create hook: the creator follows the record and a 'created' notification is posted."""
    def hook(env: Env, row: Row, changes: Row) -> None:
        created = subtype_id(env, created_subtype_xmlid)
        subtypes = [int(subtype_id(env, "mail.mt_comment"))] + ([int(created)] if created else [])
        subscribe(env, model, row["id"], [env.partner_id], subtypes)
        create_message(env, model, row["id"], body="", message_type="notification",
                       subtype=created or subtype_id_or_note(env, None))
    return hook


def subscribe_users(env: Env, model: str, res_id: int, user_ids: Iterable[int]) -> None:
    """Assigned users follow the record (Odoo's auto-subscription on user fields)."""
    partners = [u["partner_id"] for u in (env.row("res.users", i) for i in user_ids) if u]
    subscribe(env, model, res_id, partners)


def tracking_value(env: Env, field_id: int, old: Any, new: Any, *, kind: str) -> Row:
    """Values of one mail.tracking.value (many2one: names + ids; selection/char: labels)."""
    if kind == "many2one":
        return {"field_id": field_id, "old_value_char": old[1] if old else "", "new_value_char": new[1] if new else "",
                "old_value_integer": old[0] if old else 0, "new_value_integer": new[0] if new else 0}
    return {"field_id": field_id, "old_value_char": old or "", "new_value_char": new or "",
            "old_value_integer": 0, "new_value_integer": 0}


def activity_feedback_body(env: Env, activity: Row, feedback: Any) -> str:
    activity_type = env.row("mail.activity.type", activity["activity_type_id"]) or {}
    parts = [f"<p><span>{escape_text(activity_type.get('name') or 'Activity')}</span> done"]
    if activity.get("summary"):
        parts.append(f"<span>: </span><span>{escape_text(activity['summary'])}</span>")
    parts.append("</p>")
    if feedback:
        parts.append(f"<div>{escape_text(str(feedback))}</div>")
    if activity.get("note"):
        parts.append(f"<div><strong>Original note:</strong></div><div>{activity['note']}</div>")
    return "".join(parts)


def action_feedback(env: Env, model: str, ids: list[int], feedback: Any = False, attachment_ids: Any = None) -> Any:
    last = False
    for activity in existing_rows(env, model, ids):
        message = create_message(env, activity["res_model"], activity["res_id"],
                                 body=activity_feedback_body(env, activity, feedback), message_type="notification",
                                 subtype=subtype_id(env, "mail.mt_activities"))
        message["mail_activity_type_id"] = activity["activity_type_id"]
        del env.store.tables["mail.activity"][activity["id"]]
        last = message["id"]
    return last


def action_done(env: Env, model: str, ids: list[int]) -> Any:
    return action_feedback(env, model, ids)


def _activity_prepare(env: Env, vals: dict[str, Any]) -> None:
    model_id = vals.get("res_model_id")
    if not model_id and vals.get("res_model"):
        vals["res_model_id"] = ir_model_id(env, str(vals["res_model"]))
    vals.pop("res_model", None)


def _activity_after_create(env: Env, row: Row, changes: Row) -> None:
    ir_model = env.row("ir.model", row["res_model_id"])
    row["res_model"] = ir_model["model"] if ir_model else False
    if row["res_model"] and env.row(row["res_model"], row["res_id"]) is None:
        raise faults.missing(row["res_model"], [row["res_id"]], env.uid)


def _activity_name(env: Env, row: Row) -> Any:
    if row.get("summary"):
        return row["summary"]
    activity_type = env.row("mail.activity.type", row["activity_type_id"])
    return activity_type["name"] if activity_type else False


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
        Field("is_internal", "boolean", "Employee Only", compute=lambda env, row: _is_internal(env, row)),
        Field("tracking_value_ids", "one2many", "Tracking values", relation="mail.tracking.value",
              compute=lambda env, row: sorted((t["id"] for t in env.rows("mail.tracking.value")
                                               if t["mail_message_id"] == row["id"]), reverse=True)),
    ], order="id desc", rec_name="record_name", display=lambda env, row: row.get("record_name") or False)
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
    ], order="date_deadline, id", display=_activity_name, methods={
        "action_feedback": Method(action_feedback, True),
        "action_done": Method(action_done, True),
    }, prepare_create=[_activity_prepare], after_create=[_activity_after_create])
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
