"""The bot starts on a real Odoo of each series, over every protocol the series speaks, and reads who is a lead:
on Odoo 19 res.users' groups are `all_group_ids` (`groups_id` is gone), found from fields_get at start-up."""

from __future__ import annotations

import logging
import re

import aiohttp
import pytest

from bot.odoo.gateway import OdooGateway
from bot.odoo.transport import OdooCredentials, OdooTransport, make_transport
from bot.process import Role, load_profile
from tests.real_odoo.conftest import RealOdoo

pytestmark = pytest.mark.real_odoo


@pytest.mark.parametrize(("kind", "profile"), [("helpdesk", "mindx"), ("projects", "odoo-ps")])
async def test_the_bot_connects_and_finds_its_leads(real_odoo: RealOdoo, protocol: str, kind: str, profile: str,
                                                    caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="bot.odoo.gateway")
    async with aiohttp.ClientSession() as session:
        creds = OdooCredentials(real_odoo.url, real_odoo.dbs[kind], real_odoo.login, real_odoo.api_key)
        transport = make_transport(protocol, session, creds, timeout=60)  # type: ignore[arg-type]
        gateway = await OdooGateway.connect(transport, load_profile(profile), base_url=real_odoo.url)
        said = [record.getMessage() for record in caplog.records]
        connected = re.compile(rf"connected to Odoo {re.escape(real_odoo.series)}\S* over {protocol}:")
        assert any(connected.search(line) for line in said), said
        json2_hint = any("ODOO_PROTOCOL=json2" in line for line in said)
        assert json2_hint == (real_odoo.major >= 19 and protocol != "json2"), said

        # the bot's own user (admin) is in the manager group but never counts; a lead made in Odoo does
        assert 2 not in {user.id for user in gateway.leads()}  # admin, uid 2
        lead = await _lead(transport, gateway.model.lead_group or "", f"lead-{kind}-{protocol}@example.test",
                           groups_field="group_ids" if real_odoo.major >= 19 else "groups_id")
        await gateway.refresh_users()
        assert lead in {user.id for user in gateway.leads()}
        assert 2 not in {user.id for user in gateway.leads()}
        assert Role.LEAD in gateway.roles_of(lead)


async def _lead(transport: OdooTransport, group_xmlid: str, login: str, *, groups_field: str) -> int:
    """An internal user in the model's manager group (found again when the test runs twice on one server)."""
    module, _, name = group_xmlid.partition(".")
    [group] = await transport.execute_kw("ir.model.data", "search_read",
                                         [[["module", "=", module], ["name", "=", name]]], {"fields": ["res_id"]})
    found = await transport.execute_kw("res.users", "search", [[["login", "=", login]]])
    if found:
        return int(found[0])
    return int(await transport.execute_kw("res.users", "create", [{
        "name": f"Lead {login}", "login": login, "email": login,
        groups_field: [(6, 0, [group["res_id"], *await _internal_group(transport)])]}]))


async def _internal_group(transport: OdooTransport) -> list[int]:
    rows = await transport.execute_kw("ir.model.data", "search_read",
                                      [[["module", "=", "base"], ["name", "=", "group_user"]]], {"fields": ["res_id"]})
    return [int(rows[0]["res_id"])]
