"""The bot logged in to a real Odoo as a plain agent (Helpdesk: User, or Project: User, and nothing else), as an
administrator who skipped docs/install.md's groups would set it up: `setup-odoo` names each right it lacks and the
group that grants it, and changes nothing; the bot does not start, and says in one line what to run."""

from __future__ import annotations

import pytest

from bot.server import CannotStart
from tests.real_odoo.conftest import DATABASES, RealOdoo, StartBot, setup_odoo, view_of

pytestmark = pytest.mark.real_odoo

KINDS = ["helpdesk", "projects"]
STAGE_AND_TAG_MODELS = {"helpdesk": ("helpdesk.ticket.stage", "helpdesk.ticket.tag"),
                        "projects": ("project.task.type", "project.tags")}


@pytest.mark.parametrize("kind", KINDS)
def test_setup_odoo_names_each_right_a_plain_agent_lacks(real_odoo: RealOdoo, protocol: str, kind: str) -> None:
    view = view_of(real_odoo, kind)
    made = STAGE_AND_TAG_MODELS[kind] + ("res.groups",)
    before = [view.call(model, "search_count", []) for model in made]
    result = setup_odoo(real_odoo, kind, protocol, as_user="AGENT", apply=True)
    said = result.stdout
    assert result.returncode == 1, said + result.stderr
    login = real_odoo.env["ODOO_AGENT_LOGIN"]
    assert (f"the Odoo user '{login}' may not read ir.model.data records (the bot needs it to find the leads' and "
            "managers' groups by external id): give it the group Administration: Access Rights "
            "(base.group_erp_manager)") in said
    assert (f"the Odoo user '{login}' may not create res.partner records (the bot needs it to add a customer Odoo "
            "does not know yet): give it the group Extra Rights: Contact Creation (base.group_partner_manager)") in said
    assert f"Odoo is not ready for the '{DATABASES[kind][1]}' process" in said
    # --apply made nothing: above all no second managers' group, which it could not look up by external id
    assert [view.call(model, "search_count", []) for model in made] == before


@pytest.mark.parametrize("kind", KINDS)
async def test_the_bot_logged_in_as_a_plain_agent_says_what_to_run(real_odoo: RealOdoo, start_bot: StartBot,
                                                                   protocol: str, kind: str) -> None:
    with pytest.raises(CannotStart) as refused:
        await start_bot(kind, protocol, login=real_odoo.env["ODOO_AGENT_LOGIN"],
                        api_key=real_odoo.env["ODOO_AGENT_API_KEY"])
    [problem] = refused.value.problems
    assert problem.startswith("Odoo: the bot's Odoo user (ODOO_LOGIN) lacks a right the bot needs (Odoo said: ")
    assert "ir.model.data" in problem and "\n" not in problem
    assert problem.endswith("`python app.py setup-odoo` names every right it lacks and the group that grants each")
