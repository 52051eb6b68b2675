"""Base models: companies, partners, users and groups, and the ir.* registry models.

Recorded behaviour reproduced: `res.partner.find_or_create('Name <email>')` and
`name_create('email')` parse e-mail addresses; a portal user sees only its own partner;
`res.users.share` is True for users outside base.group_user; ir.module.module tells which
helpdesk/project module is installed, so the bot can detect the flavour with one search_read.
"""

from __future__ import annotations

import re
from typing import Any

from odoo_double import faults
from odoo_double.domain import Predicate
from odoo_double.fields import Field
from odoo_double.methods import create_one, search_rows
from odoo_double.orm import Env, Method, ModelDef, Row, define

_CONTACT = re.compile(r"^\s*\"?(?P<name>[^\"<]*?)\"?\s*<(?P<email>[^>]+)>\s*$")
_EMAIL = re.compile(r"^[^@\s<>]+@[^@\s<>]+$")
MODULE_STATES = (("uninstallable", "Uninstallable"), ("uninstalled", "Not Installed"), ("installed", "Installed"),
                 ("to upgrade", "To be upgraded"), ("to remove", "To be removed"), ("to install", "To be installed"))


def parse_contact(text: str) -> tuple[str, str]:
    """'Jane Doe <jane@x.com>' -> ('Jane Doe', 'jane@x.com'); 'jane@x.com' -> ('', 'jane@x.com')."""
    match = _CONTACT.match(text or "")
    if match:
        return match.group("name").strip(), match.group("email").strip().lower()
    stripped = (text or "").strip()
    if _EMAIL.match(stripped):
        return "", stripped.lower()
    return stripped, ""


def _commercial_partner(env: Env, row: Row) -> int:
    current = row
    seen: set[int] = set()
    while not current.get("is_company") and current.get("parent_id") and current["id"] not in seen:
        seen.add(current["id"])
        parent = env.row("res.partner", current["parent_id"])
        if parent is None:
            break
        current = parent
    return int(current["id"])


def _partner_display(env: Env, row: Row) -> Any:
    name = row.get("name") or ""
    parent = env.row("res.partner", row["parent_id"]) if row.get("parent_id") else None
    if parent is not None and not row.get("is_company"):
        return f"{parent.get('name') or ''}, {name}" if name else parent.get("name") or False
    return name or False


def find_or_create(env: Env, model: str, email: str, assert_valid_email: bool = False) -> int:
    name, address = parse_contact(email)
    if not address and assert_valid_email:
        raise faults.value_error(f"{email} contains no valid email address")
    if address:
        found = search_rows(env, model, [["email", "=ilike", address]], 0, 1, None)
        if found:
            return int(found[0]["id"])
    values: dict[str, Any] = {"name": name or address}
    if address:
        values["email"] = address
    return create_one(env, model, values)


def partner_name_create(env: Env, model: str, name: str) -> list[Any]:
    parsed_name, address = parse_contact(name)
    values: dict[str, Any] = {"name": parsed_name or address}
    if address:
        values["email"] = address
    record_id = create_one(env, model, values)
    row = env.row(model, record_id)
    assert row is not None
    return [record_id, env.display_name(model, row)]


def _partner_rule(env: Env) -> Predicate | None:
    if not env.is_portal:
        return None
    own = _commercial_partner(env, env.row("res.partner", env.partner_id) or {"id": env.partner_id})

    def allowed(row: Row) -> bool:
        return row["id"] == own or _commercial_partner(env, row) == own
    return allowed


def _users_prepare(env: Env, vals: dict[str, Any]) -> None:
    login = vals.get("login")
    if login and any(u["login"] == login for u in env.store.tables["res.users"].values()):
        raise faults.validation_error("You can not have two users with the same login!")
    if not vals.get("partner_id"):
        vals["partner_id"] = create_one(env, "res.partner", {"name": vals.get("name") or login or "",
                                                             "email": vals.get("email") or False})
    else:
        partner = env.row("res.partner", vals["partner_id"]) or {}
        vals.setdefault("name", partner.get("name") or login)
        vals.setdefault("email", partner.get("email") or False)


def _users_sync_partner(env: Env, row: Row, old: Row, changes: Row) -> None:
    partner = env.row("res.partner", row["partner_id"])
    if partner is not None:
        for key in ("name", "email"):
            if key in changes:
                partner[key] = changes[key]


def _users_imply_groups(env: Env, row: Row, *rest: Any) -> None:
    """Odoo stores the implied groups on the user too (groups_id reads them all; 19: group_ids holds only the
    groups set, all_group_ids computes them all)."""
    if "groups_id" not in env.store.models["res.users"].fields:
        return
    groups = list(row.get("groups_id") or [])
    for group_id in sorted(env.group_ids(row["id"]) - set(groups)):
        groups.append(group_id)
    row["groups_id"] = groups


def has_group(env: Env, model: str, ids: list[int], group_ext_id: str) -> bool:
    return env.has_group(group_ext_id, ids[0] if ids else env.uid)


def context_get(env: Env, model: str) -> dict[str, Any]:
    return {"lang": "en_US", "tz": False, "uid": env.uid}


def _data_names_its_record(env: Env, row: Row, *rest: Any) -> None:
    """An external id created over the API (an administrator naming a group they made) is found by `ref` and
    `has_group` from then on, as in Odoo."""
    env.store.xmlids[f"{row['module']}.{row['name']}"] = (row["model"], int(row["res_id"]))


ACCESS_RIGHTS_GROUP = "base.group_erp_manager"  # Administration / Access Rights (implied by Settings)
ACCESS_RIGHTS_LABEL = "Administration/Access Rights"


def _groups_access(env: Env, operation: str, rows: list[Row]) -> None:
    """res.groups: every internal user reads them; only Access Rights changes them (base's ir.model.access)."""
    if operation != "read" and not env.has_group(ACCESS_RIGHTS_GROUP):
        raise faults.acl_denied(operation, "res.groups", "Access Groups", (ACCESS_RIGHTS_LABEL,))


def _data_access(env: Env, operation: str, rows: list[Row]) -> None:
    """ir.model.data: Access Rights only, even to read (base gives internal users no access to it)."""
    if not env.has_group(ACCESS_RIGHTS_GROUP):
        raise faults.acl_denied(operation, "ir.model.data", "Model Data", (ACCESS_RIGHTS_LABEL,))


def _data_unique(env: Env, vals: dict[str, Any]) -> None:
    """An external id is unique per module (Odoo's unique index on module and name; PostgreSQL refuses the
    insert and Odoo answers with the database's message)."""
    module, name = vals.get("module"), vals.get("name")
    if any(row["module"] == module and row["name"] == name for row in env.rows("ir.model.data")):
        raise faults.validation_error(
            "The operation cannot be completed: duplicate key value violates unique constraint "
            f'"ir_model_data_module_name_uniq_index"\nDETAIL:  Key (module, name)=({module}, {name}) already exists.\n')


def _full_group_name(env: Env, row: Row) -> str:
    category = env.row("ir.module.category", row["category_id"]) if row.get("category_id") else None
    return f"{category['name']} / {row['name']}" if category else row["name"]


def _field_display(env: Env, row: Row) -> str:
    model = next((m for m in env.rows("ir.model") if m["model"] == row["model"]), None)
    return f"{row['field_description']} ({model['name'] if model else row['model']})"


def odoo19_users(users: ModelDef) -> None:
    """Odoo 19's res.users: groups_id is gone; group_ids (set on the user) and all_group_ids (with implied ones)."""
    del users.fields["groups_id"]
    users.fields["group_ids"] = Field("group_ids", "many2many", "Groups", relation="res.groups")
    users.fields["all_group_ids"] = Field("all_group_ids", "many2many", "Groups and implied groups",
                                          relation="res.groups",
                                          compute=lambda env, row: sorted(env.group_ids(row["id"])))


def base_models() -> list[ModelDef]:
    company = define("res.company", "Companies", [
        Field("name", "char", "Company Name", required=True),
        Field("email", "char", "Email"),
        Field("partner_id", "many2one", "Partner", relation="res.partner"),
        Field("sequence", "integer", "Sequence", default=10),
    ], order="sequence, name")
    partner = define("res.partner", "Contact", [
        Field("name", "char", "Name"),
        Field("complete_name", "char", "Complete Name", compute=_partner_display),
        Field("email", "char", "Email"),
        Field("phone", "char", "Phone"),
        Field("mobile", "char", "Mobile"),
        Field("is_company", "boolean", "Is a Company"),
        Field("parent_id", "many2one", "Related Company", relation="res.partner"),
        Field("child_ids", "one2many", "Contact", relation="res.partner",
              compute=lambda env, row: [p["id"] for p in env.rows("res.partner") if p["parent_id"] == row["id"]]),
        Field("commercial_partner_id", "many2one", "Commercial Entity", relation="res.partner",
              compute=_commercial_partner),
        Field("company_id", "many2one", "Company", relation="res.company"),
        Field("user_ids", "one2many", "Users", relation="res.users",
              compute=lambda env, row: [u["id"] for u in env.rows("res.users") if u["partner_id"] == row["id"]]),
        Field("function", "char", "Job Position"),
        Field("comment", "html", "Notes"),
        Field("lang", "char", "Language", default="en_US"),
        Field("active", "boolean", "Active", default=True),
    ], order="complete_name ASC, id DESC", search_names=("complete_name", "email"), display=_partner_display,
        methods={"find_or_create": Method(find_or_create, False),
                 "name_create": Method(partner_name_create, False)},
        rule=_partner_rule)
    users = define("res.users", "User", [
        Field("login", "char", "Login", required=True),
        Field("name", "char", "Name"),
        Field("email", "char", "Email"),
        Field("password", "char", "Password"),
        Field("partner_id", "many2one", "Related Partner", relation="res.partner", required=True,
              missing_is_fault=True),
        Field("share", "boolean", "Share User",
              compute=lambda env, row: not env.has_group("base.group_user", row["id"])),
        Field("groups_id", "many2many", "Groups", relation="res.groups"),
        Field("company_id", "many2one", "Company", relation="res.company", default=1),
        Field("active", "boolean", "Active", default=True),
        Field("tz", "char", "Timezone"),
        Field("lang", "char", "Language", default="en_US"),
    ], order="name, login", search_names=("name", "login"), methods={
        "has_group": Method(has_group, True), "context_get": Method(context_get, False)},
        prepare_create=[_users_prepare], after_create=[_users_imply_groups],
        after_write=[_users_sync_partner, _users_imply_groups])
    groups = define("res.groups", "Access Groups", [
        Field("name", "char", "Name", required=True),
        Field("full_name", "char", "Group Name", compute=_full_group_name),
        Field("category_id", "many2one", "Application", relation="ir.module.category"),
        Field("implied_ids", "many2many", "Inherits", relation="res.groups"),
        Field("comment", "text", "Comment"),
    ], order="name", display=_full_group_name, access=_groups_access)
    category = define("ir.module.category", "Application", [
        Field("name", "char", "Name", required=True),
        Field("sequence", "integer", "Sequence"),
    ], order="name")
    ir_model = define("ir.model", "Models", [
        Field("model", "char", "Model", required=True),
        Field("name", "char", "Model Description", required=True),
        Field("transient", "boolean", "Transient Model"),
    ], order="model")
    ir_fields = define("ir.model.fields", "Fields", [
        Field("name", "char", "Field Name", required=True),
        Field("model", "char", "Model Name", required=True),
        Field("model_id", "many2one", "Model", relation="ir.model"),
        Field("field_description", "char", "Field Label"),
        Field("ttype", "char", "Field Type"),
    ], order="name", display=_field_display)
    ir_data = define("ir.model.data", "Model Data", [
        Field("module", "char", "Module", required=True),
        Field("name", "char", "External Identifier", required=True),
        Field("model", "char", "Model Name", required=True),
        Field("res_id", "many2one_reference", "Record ID"),
        Field("complete_name", "char", "Complete ID", compute=lambda env, row: f"{row['module']}.{row['name']}"),
        Field("noupdate", "boolean", "Non Updatable"),
    ], order="module, model, name", display=lambda env, row: f"{row['module']}.{row['name']}",
        prepare_create=[_data_unique], after_create=[_data_names_its_record], access=_data_access)
    modules = define("ir.module.module", "Module", [
        Field("name", "char", "Technical Name", required=True),
        Field("shortdesc", "char", "Module Name"),
        Field("state", "selection", "Status", selection=MODULE_STATES, default="uninstalled"),
        Field("latest_version", "char", "Installed Version"),
        Field("application", "boolean", "Application"),
    ], order="application desc, sequence, name", display=lambda env, row: row.get("shortdesc") or row["name"])
    modules.fields["sequence"] = Field("sequence", "integer", "Sequence", default=100)
    return [company, partner, users, groups, category, ir_model, ir_fields, ir_data, modules]
