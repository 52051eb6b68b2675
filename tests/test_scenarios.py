"""The six scenarios of seeds/000 played through the bot against the Odoo double: the lifecycle commands, and the
escalations of scenarios 2, 3 and 5 answered from their cards. The scripts are in tests/scenarios.py, which
tests/real_odoo/test_scenarios.py plays against a real Odoo of each series."""

from __future__ import annotations

import pytest

from tests.conftest import LEAD, FakeClock
from tests.scenarios import SCENARIOS, Desk
from tests.support.odoo_view import OdooView
from tests.support.teams import TeamsClient


@pytest.mark.parametrize("scenario", list(SCENARIOS))
async def test_scenario(scenario: str, teams: TeamsClient, odoo: OdooView, clock: FakeClock) -> None:
    await SCENARIOS[scenario](Desk(teams, odoo, clock, LEAD))
