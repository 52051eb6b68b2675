"""Smoke test of a real Odoo brought up by tools/real_odoo.py: the bot's transport speaks to it over every protocol
of its series, the stages the profiles need are there, and `python app.py setup-odoo` finds it ready."""

from __future__ import annotations

import pytest

from bot.process import load_profile
from tests.real_odoo.conftest import DATABASES, RealOdoo, setup_odoo

pytestmark = pytest.mark.real_odoo


async def test_version(real_odoo: RealOdoo, connect, protocol: str) -> None:
    version = await connect("helpdesk").version()
    assert str(version["server_version"]).startswith(str(real_odoo.major))
    assert version["server_version_info"][0] == real_odoo.major


@pytest.mark.parametrize("kind", ["helpdesk", "projects"])
async def test_authenticate_with_the_api_key(connect, protocol: str, kind: str) -> None:
    transport = connect(kind)
    uid = await transport.authenticate()
    assert uid == 2  # admin
    [user] = await transport.execute_kw("res.users", "read", [[uid]], {"fields": ["login"]})
    assert user["login"] == "admin"


async def test_helpdesk_stages(connect, protocol: str) -> None:
    transport = connect("helpdesk")
    rows = await transport.execute_kw("helpdesk.ticket.stage", "search_read", [[]],
                                      {"fields": ["name", "sequence", "closed"], "order": "sequence, id"})
    names = [row["name"] for row in rows]
    needed = [stage.name for stage in load_profile("mindx").needed_stages()]
    assert set(needed) <= set(names), f"missing: {set(needed) - set(names)}"
    closing = {row["name"] for row in rows if row["closed"]}
    assert {s.name for s in load_profile("mindx").needed_stages() if s.closing} <= closing


async def test_support_project_stages(connect, protocol: str) -> None:
    transport = connect("projects")
    [project] = await transport.execute_kw("project.project", "search_read", [[["name", "=", "Support"]]],
                                           {"fields": ["name", "type_ids"]})
    stages = await transport.execute_kw("project.task.type", "read", [project["type_ids"]], {"fields": ["name"]})
    needed = [stage.name for stage in load_profile("odoo-ps").needed_stages()]
    assert set(needed) <= {row["name"] for row in stages}


@pytest.mark.parametrize("kind", list(DATABASES))
def test_setup_odoo_finds_it_ready_for_the_bots_own_user(real_odoo: RealOdoo, protocol: str, kind: str) -> None:
    """`setup-odoo` (the check) as the bot's own non-admin user: the stages are there and it has every right the
    bot needs (docs/install.md's groups)."""
    result = setup_odoo(real_odoo, kind, protocol)
    profile = DATABASES[kind][1]
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"Odoo is ready for the '{profile}' process." in result.stdout
