"""Activities (mail.activity): scheduled on a record, marked done with feedback (which posts a message
and deletes the activity). `activity_schedule` returns a recordset, which XML-RPC cannot marshal:
the recorded call faults after committing, JSON-RPC answers its repr ("mail.activity(6,)").
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from odoo_double import faults
from odoo_double.html_body import escape_text
from odoo_double.messages import create_message, subtype_id
from odoo_double.methods import create_one, existing_rows
from odoo_double.orm import Env, Recordset, Row

ACTIVITY_STATES = (("overdue", "Overdue"), ("today", "Today"), ("planned", "Planned"), ("done", "Done"))


def activities_of(env: Env, model: str, res_id: int) -> list[Row]:
    rows = [a for a in env.rows("mail.activity") if a["res_model"] == model and a["res_id"] == res_id]
    return sorted(rows, key=lambda a: (a["date_deadline"], a["id"]))


def activity_state(env: Env, activity: Row) -> str:
    days = (activity["date_deadline"] - env.now().date()).days
    return "overdue" if days < 0 else "today" if days == 0 else "planned"


def ir_model_id(env: Env, model: str) -> int:
    for row in env.rows("ir.model"):
        if row["model"] == model:
            return int(row["id"])
    raise faults.unknown_model(model)


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


def resolve_activity_model(env: Env, vals: dict[str, Any]) -> None:
    model_id = vals.get("res_model_id")
    if not model_id and vals.get("res_model"):
        vals["res_model_id"] = ir_model_id(env, str(vals["res_model"]))
    vals.pop("res_model", None)


def check_activity_target(env: Env, row: Row, changes: Row) -> None:
    ir_model = env.row("ir.model", row["res_model_id"])
    row["res_model"] = ir_model["model"] if ir_model else False
    if row["res_model"] and env.row(row["res_model"], row["res_id"]) is None:
        raise faults.missing(row["res_model"], [row["res_id"]], env.uid)


def activity_display_name(env: Env, row: Row) -> Any:
    if row.get("summary"):
        return row["summary"]
    activity_type = env.row("mail.activity.type", row["activity_type_id"])
    return activity_type["name"] if activity_type else False
