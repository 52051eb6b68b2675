"""Chatter records: mail.message with its subtype and tracking values, and the outgoing mail queue.

No SMTP server runs beside the recorded Odoo, so every queued mail.mail ends in state
'exception' with "111 Connection refused", as recorded.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from odoo_double.orm import Env, Row


def subtype_id(env: Env, xmlid: str | None) -> int | bool:
    entry = env.store.xmlids.get(xmlid or "")
    return entry[1] if entry and entry[0] == "mail.message.subtype" else False


def subtype_id_or_note(env: Env, xmlid: str | None) -> int:
    found = subtype_id(env, xmlid) if xmlid else False
    return int(found or subtype_id(env, "mail.mt_note"))


def email_from(env: Env, partner_id: int) -> str | bool:
    partner = env.row("res.partner", partner_id)
    if not partner or not partner.get("email"):
        return False
    return f'"{partner["name"]}" <{partner["email"]}>'


def create_message(env: Env, model: str, res_id: int, *, body: str, message_type: str, subtype: int | bool,
                   partner_ids: Iterable[int] = (), record_name: Any = None, subject: Any = False,
                   tracking: Iterable[Row] = (), author_id: int | None = None) -> Row:
    record = env.row(model, res_id)
    name = env.display_name(model, record) if record is not None and record_name is None else record_name
    author = env.partner_id if author_id is None else author_id
    message = env.insert("mail.message", {
        "body": body, "model": model, "res_id": res_id, "message_type": message_type, "subtype_id": subtype,
        # 19 leaves email_from empty on messages posted through the API and names the record on every message
        "author_id": author, "email_from": email_from(env, author) if env.store.major < 19 else False,
        "partner_ids": list(partner_ids), "date": env.now_seconds(),
        "record_name": (env.display_name(model, record) if env.store.major >= 19 and record is not None
                        else name if name is not None else False), "subject": subject,
    })
    for values in tracking:
        env.insert("mail.tracking.value", {**values, "mail_message_id": message["id"]})
    return message


def tracking_value(env: Env, field_id: int, old: Any, new: Any, *, kind: str) -> Row:
    """Values of one mail.tracking.value (many2one: names + ids; selection/char: labels)."""
    if kind == "many2one":
        return {"field_id": field_id, "old_value_char": old[1] if old else "", "new_value_char": new[1] if new else "",
                "old_value_integer": old[0] if old else 0, "new_value_integer": new[0] if new else 0}
    return {"field_id": field_id, "old_value_char": old or "", "new_value_char": new or "",
            "old_value_integer": 0, "new_value_integer": 0}


NO_SMTP_REASON = "111\nConnection refused"


def queue_mail(env: Env, model: str, res_id: int, message: Row, recipients: list[int], *, subject: str) -> Row:
    return env.insert("mail.mail", {
        "subject": subject, "body_html": message["body"], "model": model, "res_id": res_id,
        "mail_message_id": message["id"], "recipient_ids": recipients, "email_to": False,
        "email_from": message["email_from"], "state": "exception", "failure_type": False,
        "failure_reason": NO_SMTP_REASON,
    })


def is_internal(env: Env, message: Row) -> bool:
    subtype = env.row("mail.message.subtype", message["subtype_id"]) if message["subtype_id"] else None
    return bool(subtype and subtype["internal"])
