"""`python app.py setup-odoo [--apply]`: check that Odoo has what the process profile needs, and create it.

Talks to Odoo through the bot's own transport, as the user the bot is configured with (ODOO_URL, ODOO_DB,
ODOO_LOGIN, ODOO_API_KEY, ODOO_PROTOCOL, ODOO_PROFILE), and detects the model profile as the bot does at start-up.
`read_state` reads what the plan needs (the stages with archived ones, the tags, the groups' external ids, the
projects, and which access rights the user has, from Odoo's own `check_access_rights`); the plan is
`bot.odoo.setup_plan.make_plan`'s, a pure function; `apply_plan` creates what it says, one record at a time, in the
profile's order. With --apply, Odoo is read again afterwards and what is left is reported.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, TextIO

import aiohttp

from bot.odoo.errors import OdooError
from bot.odoo.gateway import detect_model
from bot.odoo.models import ModelProfile
from bot.odoo.setup_plan import (
    Change,
    CreateGroup,
    CreateStage,
    CreateTag,
    ExternalId,
    OdooStage,
    OdooState,
    Plan,
    Project,
    describe,
    make_plan,
    report,
    rights_to_check,
)
from bot.odoo.transport import OdooCredentials, OdooTransport, make_transport
from bot.process import ProcessProfile
from bot.settings import OdooSettings, SettingsError


async def read_state(transport: OdooTransport, model: ModelProfile, process: ProcessProfile, *,
                     login: str) -> OdooState:
    """What the plan compares with the profile, read as the transport's user."""
    allowed = {right.key: bool(await transport.execute_kw(right.model, "check_access_rights", [right.operation],
                                                          {"raise_exception": False}))
               for right in rights_to_check(model)}
    known = await transport.execute_kw(model.stage_model, "fields_get", [], {"attributes": ["type"]})
    wanted = ("name", "sequence", "active", model.stage_closed_field, "fold", "project_ids")
    fields = [name for name in dict.fromkeys(wanted) if name and name in known]
    rows = await transport.execute_kw(model.stage_model, "search_read", [model.stage_domain()],
                                      {"fields": fields, "order": "sequence, id", "context": {"active_test": False}})
    tags = await transport.execute_kw(model.tag_model, "search_read", [[]], {"fields": ["name"]})
    groups = [*process.manager_groups, *([model.lead_group] if model.lead_group else [])]
    readable = allowed.get(("ir.model.data", "read"), True)
    projects = await transport.execute_kw("project.project", "search_read", [[]],
                                          {"fields": ["name"]}) if model.project_field else []
    return OdooState(
        login=login,
        stage_fields=frozenset(known),
        stages=tuple(_stage(row, model) for row in rows),
        tags=frozenset(tag["name"] for tag in tags),
        external_ids=await external_ids(transport, groups) if readable else None,
        allowed=allowed,
        projects=tuple(Project(row["id"], row["name"]) for row in projects),
    )


def _stage(row: dict[str, Any], model: ModelProfile) -> OdooStage:
    closing = model.stage_closed_field
    return OdooStage(
        id=int(row["id"]), name=row["name"], sequence=int(row.get("sequence") or 0),
        active=bool(row.get("active", True)),
        closed=bool(row[closing]) if closing and closing in row else None,
        folded=bool(row["fold"]) if "fold" in row else None,
        projects=tuple(row.get("project_ids") or ()),
    )


async def external_ids(transport: OdooTransport, xmlids: Sequence[str]) -> dict[str, ExternalId]:
    """The external ids among `xmlids` that Odoo has, and whether the groups they name still exist."""
    if not xmlids:
        return {}
    rows = await transport.execute_kw(
        "ir.model.data", "search_read",
        [[["module", "in", sorted({x.partition(".")[0] for x in xmlids})],
          ["name", "in", sorted({x.partition(".")[2] for x in xmlids})]]],
        {"fields": ["module", "name", "model", "res_id"]})
    found = {f"{row['module']}.{row['name']}": row for row in rows}
    group_ids = sorted({int(row["res_id"]) for row in found.values() if row["model"] == "res.groups"})
    existing = set(await transport.execute_kw("res.groups", "search", [[["id", "in", group_ids]]]) if group_ids else [])
    return {xmlid: ExternalId(xmlid, row["model"], int(row["res_id"] or 0),
                              exists=row["model"] != "res.groups" or int(row["res_id"] or 0) in existing)
            for xmlid, row in found.items() if xmlid in xmlids}


async def create(transport: OdooTransport, change: Change) -> str:
    """Make one change in Odoo; what was done, in a line."""
    if isinstance(change, CreateStage):
        stage_id = await transport.execute_kw(change.model, "create", [dict(change.values)])
        return f"created {describe(change)}: id {stage_id}"
    if isinstance(change, CreateTag):
        tag_id = await transport.execute_kw(change.model, "create", [{"name": change.name}])
        return f"created {describe(change)}: id {tag_id}"
    return await _create_group(transport, change)


async def _create_group(transport: OdooTransport, change: CreateGroup) -> str:
    group_id = await transport.execute_kw("res.groups", "create", [{"name": change.name}])
    try:
        await transport.execute_kw("ir.model.data", "create", [{
            "module": change.module, "name": change.external_name, "model": "res.groups", "res_id": group_id,
            "noupdate": True}])
    except OdooError as error:
        raise OdooError(f"created the group {change.name!r} (id {group_id}) but could not give it the external id "
                        f"{change.xmlid}: {error}; give it that external id in Odoo (debug mode: Settings > Technical "
                        "> External Identifiers > New, model res.groups) instead of running setup-odoo again"
                        ) from error
    return (f"created the group {change.name!r} (id {group_id}) with the external id {change.xmlid}: add the "
            f"managers to it in Odoo (debug mode: Settings > Users & Companies > Groups > {change.name}, tab Users)")


async def apply_plan(transport: OdooTransport, plan: Plan, out: TextIO) -> bool:
    """Make the plan's changes in order, printing each; stop at the first Odoo refuses (False)."""
    for change in plan.changes:
        try:
            print(await create(transport, change), file=out)
        except OdooError as error:
            print(f"could not create {describe(change)}: {error}", file=out)
            return False
    return True


async def setup_odoo(odoo: OdooSettings, process: ProcessProfile, *, apply: bool, out: TextIO) -> int:
    """The `setup-odoo` command: 0 when Odoo is ready for the process (after --apply, if given), 1 otherwise.
    OdooError (unreachable, refused login, no helpdesk/project module) is the caller's to report."""
    if odoo.url is None:
        raise SettingsError("ODOO_URL: expected the address of your Odoo server, e.g. https://odoo.example.com")
    async with aiohttp.ClientSession() as session:
        transport = make_transport(odoo.protocol, session,  # type: ignore[arg-type]
                                   OdooCredentials(odoo.url, odoo.db, odoo.login, odoo.api_key), timeout=odoo.timeout)
        uid = await transport.authenticate()
        model = await detect_model(transport, process, odoo.profile)
        _print(out, [f"Odoo {odoo.url}, database {odoo.db!r}, user {odoo.login!r} (uid {uid}): {model.key} "
                     f"({model.model}), process profile '{process.name}'"])
        plan = make_plan(process, model, await read_state(transport, model, process, login=odoo.login))
        if not apply:
            _print(out, report(plan))
            return 0 if plan.ready else 1
        if not plan.changes:
            _print(out, ["Nothing to do: Odoo already has everything setup-odoo can create.", *report(plan)])
            return 0 if plan.ready else 1
        applied = await apply_plan(transport, plan, out)
        after = make_plan(process, model, await read_state(transport, model, process, login=odoo.login))
        _print(out, report(after))
        return 0 if applied and after.ready else 1


def _print(out: TextIO, lines: Iterable[str]) -> None:
    for line in lines:
        print(line, file=out)
