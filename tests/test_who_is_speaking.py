"""Who is speaking (issue 15, items 1-4), through the bot's HTTP endpoint with Teams-shaped activities: only the
tenants the bot serves may act; a person is who Teams' roster says (never a display name); registering a channel is
for leads and managers; reading the desk's summaries is for those with an Odoo user the profile lets read them."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from redis.asyncio import Redis

from bot.escalation.model import Answer
from bot.server import create_app
from tests.conftest import AGENT, LEAD, MANAGER, STRANGER, FakeClock, RunningSandbox, bot_settings
from tests.support.connector import ConnectorStub
from tests.support.odoo_view import OdooView
from tests.support.teams import TENANT, TeamsClient, TeamsUser, card_text

SECOND_TENANT = "tenant-2"  # also served (ALLOWED_TENANT_IDS lists both)
FOREIGN = "tenant-evil"  # not served
DEV = "19:dev@thread.tacv2"
# A user of another organisation whose roster entry carries an agent's address (their admin can set any e-mail)
INTRUDER = TeamsUser("29:intruder", "Phạm Quốc Huy", AGENT.email)
REFUSED = "This bot works for another organisation, so nothing was done."


@pytest.fixture
async def bot_server(redis: Redis, redis_url: str, sandbox: RunningSandbox, clock: FakeClock, process_profile: str
                     ) -> AsyncIterator[TestServer]:
    """The bot as conftest runs it, serving two tenants (overrides conftest's)."""
    settings = bot_settings(redis_url, sandbox.url, process_profile=process_profile,
                            allowed_tenant_ids=(TENANT, SECOND_TENANT.upper()))  # tenant ids compare in any case
    server = TestServer(create_app(settings, clock=clock.now), host="127.0.0.1")
    await server.start_server()
    yield server
    await server.close()


@pytest.fixture
async def intruder(teams: TeamsClient, connector: tuple[ConnectorStub, str]) -> AsyncIterator[TeamsClient]:
    stub, connector_url = connector
    stub.add_member(INTRUDER.id, INTRUDER.name, INTRUDER.email)
    async with aiohttp.ClientSession() as session:
        yield TeamsClient(teams.bot_url, connector_url, stub, session, INTRUDER, tenant=FOREIGN)


def chatter(odoo: OdooView, tid: int) -> list[dict[str, Any]]:
    return odoo.call("mail.message", "search_read", [["model", "=", "helpdesk.ticket"], ["res_id", "=", tid]],
                     order="id")


# --- 1. tenants ----------------------------------------------------------------------------------------------------

async def test_another_tenants_message_form_and_card_click_are_refused_with_no_effect(
        teams: TeamsClient, intruder: TeamsClient, odoo: OdooView, caplog: pytest.LogCaptureFixture) -> None:
    await teams.say_in_channel("/ticket channel dev", DEV, sender=LEAD)
    await teams.card("/ticket new Attendance report times out users:16 customer:coordinator.ha@mindx.edu.vn")
    tid = int(odoo.newest_ticket()["id"])
    await teams.card(f"/ticket escalate {tid} dev 16 teachers blocked")
    [posted] = teams.connector.cards_in(DEV)
    escalation = posted.card["refresh"]["action"]["data"]["escalation"] if posted.card else ""
    before = (chatter(odoo, tid), odoo.ticket(tid), odoo.call("helpdesk.ticket", "search_count", []))

    with caplog.at_level(logging.WARNING, logger="bot.tenants"):
        typed = card_text(await intruder.card(f"/ticket note {tid} Called the customer: all fine, closing"))
        formed = await intruder.submit({"command": "note", "ticket": str(tid), "text": "From a form"})
        status, body = await intruder.invoke(Answer.ACKNOWLEDGE.value, {"escalation": escalation}, channel=DEV)
        created = card_text(await intruder.card("/ticket new Phishing test users:1"))

    assert REFUSED in typed and REFUSED in created
    assert [REFUSED in card_text(p.card or {}) for p in formed] == [True]
    assert status == 200 and REFUSED in card_text(body["value"])
    assert (chatter(odoo, tid), odoo.ticket(tid), odoo.call("helpdesk.ticket", "search_count", [])) == before
    assert teams.connector.updated == []  # the escalation card was not redrawn as acknowledged
    refusals = [r.getMessage() for r in caplog.records if r.name == "bot.tenants"]
    assert len(refusals) == 4 and all("from tenant 'tenant-evil'" in line and "\n" not in line for line in refusals)


async def test_an_activity_whose_two_tenant_ids_disagree_is_refused(teams: TeamsClient, odoo: OdooView) -> None:
    await teams.card("/ticket new Projector in room 3 is dead users:1")
    tid = int(odoo.newest_ticket()["id"])
    before = chatter(odoo, tid)
    activity = {**teams._base(teams.personal()), "type": "message", "text": f"/ticket note {tid} Spoofed"}
    activity["conversation"] = {**activity["conversation"], "tenantId": FOREIGN}  # channelData still says TENANT
    [answer] = await teams.send(activity)
    assert REFUSED in card_text(answer.card or {})
    assert chatter(odoo, tid) == before


async def test_every_tenant_the_settings_list_is_served(teams: TeamsClient, odoo: OdooView) -> None:
    teams.tenant = SECOND_TENANT
    assert "Logged as Standard." in card_text(await teams.card("/ticket new Projector in room 3 is dead users:1"))
    teams.tenant = TENANT
    tid = int(odoo.newest_ticket()["id"])
    assert "Acknowledged" in card_text(await teams.card(f"/ticket ack {tid}"))


# --- 2. identity comes from the roster only ------------------------------------------------------------------------

IMPOSTOR = TeamsUser("29:impostor", LEAD.name, "")  # named like the lead; Teams' roster has no entry for them
NAMESAKE = TeamsUser("29:namesake", LEAD.name, "")  # named like the lead; in the roster, without an address


async def test_a_display_name_never_makes_someone_a_lead(teams: TeamsClient, odoo: OdooView,
                                                         connector: tuple[ConnectorStub, str]) -> None:
    stub, _ = connector
    stub.add_member(NAMESAKE.id, NAMESAKE.name, "")
    await teams.card("/ticket new Projector in room 3 is dead users:1")
    tid = int(odoo.newest_ticket()["id"])
    before = (odoo.ticket(tid), chatter(odoo, tid))

    unconfirmed = card_text(await teams.card(f"/ticket close {tid} force:yes Customer unreachable", sender=IMPOSTOR))
    unknown = card_text(await teams.card(f"/ticket close {tid} force:yes Customer unreachable", sender=NAMESAKE))

    assert "I can't confirm who you are right now" in unconfirmed and "try again" in unconfirmed
    assert "I can't find an Odoo user for you" in unknown
    assert (odoo.ticket(tid), chatter(odoo, tid)) == before  # not closed, no note


async def test_who_someone_is_is_remembered_by_their_aad_object_id_for_minutes_only(
        teams: TeamsClient, redis: Redis, connector: tuple[ConnectorStub, str]) -> None:
    await teams.card("/ticket list mine", sender=LEAD)
    assert [key async for key in redis.scan_iter("ticketbot:user:*")] == [f"ticketbot:user:aad:aad-{LEAD.id}"]
    assert 0 < await redis.ttl(f"ticketbot:user:aad:aad-{LEAD.id}") <= 15 * 60
    stub, _ = connector
    del stub.roster[LEAD.id]  # the roster can no longer be read for them: the remembered answer still holds...
    assert "can't confirm" not in card_text(await teams.card("/ticket list mine", sender=LEAD))
    await redis.delete(f"ticketbot:user:aad:aad-{LEAD.id}")  # ...until it lapses
    assert "I can't confirm who you are right now" in card_text(await teams.card("/ticket list mine", sender=LEAD))


# --- 3. registering or moving a channel: leads and managers ----------------------------------------------------------

MINE = "19:huy-own@thread.tacv2"  # an agent's own channel
MANAGEMENT = "19:management@thread.tacv2"
CHANNEL_REFUSED = ("registering or moving the channel a team's posts go to is for: lead, manager (you are: agent). "
                   f"Ask {LEAD.name}, ")  # the double's leads, then its managers


@pytest.mark.parametrize("name", ["management", "support", "dev"])
async def test_an_agent_cannot_move_a_channel_a_lead_or_manager_registered(
        teams: TeamsClient, name: str, caplog: pytest.LogCaptureFixture) -> None:
    await teams.say_in_channel(f"/ticket channel {name}", MANAGEMENT if name == "management" else DEV, sender=LEAD)
    [before] = await teams.say("/ticket channels", sender=LEAD)

    [refused] = await teams.say_in_channel(f"/ticket channel {name}", MINE)  # the agent, in their own channel
    assert CHANNEL_REFUSED in card_text(refused.card or {})
    assert (await teams.say("/ticket channels", sender=LEAD))[0].text == before.text  # not moved

    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="bot.handlers.setup"):
        [moved] = await teams.say_in_channel(f"/ticket channel {name}", MINE, sender=MANAGER)
    assert f"now the **{name}** channel" in moved.text
    [listed] = await teams.say("/ticket channels")
    assert f"- **{name}**: {MINE} (registered by {MANAGER.name}, Wed 29 Jan 15:33)" in listed.text.splitlines()
    [line] = [r.getMessage() for r in caplog.records if r.name == "bot.handlers.setup"]
    assert line.startswith(f"the {name} channel was moved by Odoo user ") and MINE in line


async def test_an_agent_cannot_register_a_channel_nobody_registered_yet(teams: TeamsClient) -> None:
    [refused] = await teams.say_in_channel("/ticket channel management", MINE)
    assert CHANNEL_REFUSED in card_text(refused.card or {})
    assert "No channel is registered yet" in (await teams.say("/ticket channels"))[0].text


# --- 4. readers: the desk's summaries are for those the profile lets read them ---------------------------------------

@pytest.mark.parametrize("reader", [AGENT, LEAD, MANAGER, STRANGER], ids=lambda user: user.id)
async def test_summaries_are_read_by_agents_leads_and_managers_only(teams: TeamsClient, odoo: OdooView,
                                                                    reader: TeamsUser) -> None:
    await teams.card("/ticket new Student portal down for the exam users:53")
    tid = int(odoo.newest_ticket()["id"])
    today = card_text(await teams.card("/ticket summary today", sender=reader))
    one = card_text(await teams.card(f"/ticket summary {tid}", sender=reader))
    if reader is not STRANGER:
        assert "Support desk digest" in today and "Student portal down" in one
        return
    for answer in (today, one):
        assert "reading the desk's summaries is for: agent, lead, manager (you are: no Odoo user)" in answer
        assert f"Ask {LEAD.name}" in answer and "ask your Odoo administrator" in answer
        assert "Student portal down" not in answer and "users" not in answer.lower().replace("odoo user", "")
