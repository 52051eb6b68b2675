"""The six scenarios of the seeds (tests/scenarios.py) on helpdesk_mgmt with the MindX profile, against a real Odoo
of the series, over every protocol it speaks; the bot logs in as its own non-admin user, the agents are real Odoo
users."""

from __future__ import annotations

import pytest

from tests.real_odoo.conftest import StartBot
from tests.scenarios import SCENARIOS

pytestmark = pytest.mark.real_odoo


@pytest.mark.parametrize("scenario", list(SCENARIOS))
async def test_scenario(start_bot: StartBot, protocol: str, scenario: str) -> None:
    desk = await start_bot("helpdesk", protocol)
    await SCENARIOS[scenario](desk.scenario())
