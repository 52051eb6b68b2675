"""mail.thread: the chatter fields and methods shared by tickets and tasks.

Recorded behaviour reproduced here: `message_post` returns the message id, stores plain-text
bodies as `<p>...</p>` and escapes HTML sent without `body_is_html`; an unknown subtype xmlid
silently becomes Note; the customer is not a follower, so a comment reaches her only through
`partner_ids` (or after `message_subscribe`); the first mail to an external partner writes the
record's access_token (which bumps its write_date); other chatter operations leave write_date alone.
"""

from __future__ import annotations

import html
import uuid
from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Any

from odoo_double import faults
from odoo_double.activities import ACTIVITY_STATES, activities_of, activity_schedule, activity_state
from odoo_double.fields import Field, to_cache
from odoo_double.html_body import plaintext_to_html, sanitize_html
from odoo_double.messages import create_message, is_internal, queue_mail, subtype_id, subtype_id_or_note
from odoo_double.methods import existing_rows
from odoo_double.orm import Env, Method, Row


def _messages_of(env: Env, model: str, res_id: int) -> list[Row]:
    return [m for m in env.rows("mail.message") if m["model"] == model and m["res_id"] == res_id]


def _followers_of(env: Env, model: str, res_id: int) -> list[Row]:
    return [f for f in env.rows("mail.followers") if f["res_model"] == model and f["res_id"] == res_id]


def thread_fields(model: str, portal_path: str) -> list[Field]:
    def first_activity(env: Env, row: Row) -> Row | None:
        activities = activities_of(env, model, row["id"])
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
        mine = [a for a in activities_of(env, model, row["id"]) if a["user_id"] == env.uid]
        return mine[0]["date_deadline"] if mine else False

    def partners(env: Env, row: Row) -> list[int]:
        return [f["partner_id"] for f in _followers_of(env, model, row["id"])]

    def messages(env: Env, row: Row) -> list[int]:
        return sorted((m["id"] for m in _messages_of(env, model, row["id"])), reverse=True)

    def website_messages(env: Env, row: Row) -> list[int]:
        return sorted((m["id"] for m in _messages_of(env, model, row["id"])
                       if m["message_type"] in ("comment", "email", "email_outgoing")
                       and not is_internal(env, m)), reverse=True)

    def const(value: Any) -> Any:
        return lambda env, row: value

    return [
        Field("access_url", "char", "Portal Access URL", compute=lambda env, row: f"{portal_path}/{row['id']}"),
        Field("access_token", "char", "Security Token"),
        Field("access_warning", "text", "Access warning", compute=const("")),
        Field("activity_ids", "one2many", "Activities", relation="mail.activity",
              compute=lambda env, row: [a["id"] for a in activities_of(env, model, row["id"])]),
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
        record["write_date"] = env.log_time()  # the token is written on the record: write_date moves


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
        create_message(env, model, row["id"], body=creation_body(env, model, row), message_type="notification",
                       subtype=created or subtype_id_or_note(env, None))
    return hook


def creation_body(env: Env, model: str, row: Row) -> str:
    """The body of the 'created' notification: empty up to 17; from 18 Odoo's _creation_message."""
    if env.store.major < 18:
        return ""
    if model == "project.task":
        project = env.row("project.project", row["project_id"]) if row.get("project_id") else None
        text = (f'A new task has been created in the "{html.escape(project["name"])}" project.' if project
                else "A new task has been created and is not part of any project.")
    else:
        text = f"{html.escape(env.model_def(model).description)} created"
    return f'<div summary="o_mail_notification"><p>{text}</p></div>'


def subscribe_users(env: Env, model: str, res_id: int, user_ids: Iterable[int]) -> None:
    """Assigned users follow the record (Odoo's auto-subscription on user fields)."""
    partners = [u["partner_id"] for u in (env.row("res.users", i) for i in user_ids) if u]
    subscribe(env, model, res_id, partners)
