"""`app.py --demo` welcomes whoever tries it: a Teams user its sandbox Odoo does not know becomes one of the desk's
agents on first contact, where production and --dev refuse them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aiohttp

from bot.demo import demo_address
from bot.demo.history import PAST
from bot.settings import Mode
from bot.turn import Person
from odoo_double import OdooSandbox
from tests.conftest import FakeClock
from tests.support.connector import ConnectorStub
from tests.support.demo import embedded_bot
from tests.support.teams import TeamsClient, TeamsUser, card_text

MAI = TeamsUser("29:newcomer-mai", "Nguyễn Thị Mai", "Mai.NT@contoso.example")  # not one of the seeded people
GUEST = TeamsUser("29:guest-kim", "Kim Guest", "")  # Teams gives no roster entry (no email) for them


def users_with(sandbox: OdooSandbox, login: str) -> list[dict[str, Any]]:
    return sandbox.call(sandbox.admin_uid, "res.users", "search_read", [[["login", "=", login]]],
                        {"fields": ["name", "email", "share", sandbox.groups_field]})


def in_group(sandbox: OdooSandbox, user: dict[str, Any], xmlid: str) -> bool:
    module, _, name = xmlid.partition(".")
    [group] = sandbox.call(sandbox.admin_uid, "ir.model.data", "search_read",
                           [[["module", "=", module], ["name", "=", name]]], {"fields": ["res_id"]})
    return group["res_id"] in user[sandbox.groups_field]  # groups_id, group_ids on 19 (the demo's series)


async def test_the_demo_makes_a_newcomer_an_agent_where_dev_refuses_them(
        clock: FakeClock, connector: tuple[ConnectorStub, str]) -> None:
    stub, connector_url = connector
    stub.add_member(MAI.id, MAI.name, MAI.email)
    async with aiohttp.ClientSession() as session:
        async with embedded_bot(Mode.DEV, clock.now) as dev:  # the same built-in sandbox, not the demo
            mai = TeamsClient(dev.url, connector_url, stub, session, MAI)
            refused = card_text(await mai.card("/ticket new Projector in room 4 shows no signal users:1"))
            assert "I can't find an Odoo user for you (Mai.NT@contoso.example)" in refused
            assert users_with(dev.sandbox, "mai.nt@contoso.example") == []

        async with embedded_bot(Mode.DEMO, clock.now) as demo:
            mai = TeamsClient(demo.url, connector_url, stub, session, MAI)
            logged = card_text(await mai.card("/ticket new Projector in room 4 shows no signal users:1"))
            assert "Logged as Standard." in logged
            [user] = users_with(demo.sandbox, "mai.nt@contoso.example")
            assert user["name"] == MAI.name and user["email"] == "mai.nt@contoso.example"
            assert user["share"] is False and in_group(demo.sandbox, user, "helpdesk_mgmt.group_helpdesk_user")
            [ticket] = demo.sandbox.call(demo.sandbox.admin_uid, "helpdesk.ticket", "search_read",
                                         [[["name", "=", "Projector in room 4 shows no signal"]]],
                                         {"fields": ["user_id"]})
            assert ticket["user_id"] == [user["id"], MAI.name]  # the owner is "me", as for anybody

            acked = card_text(await mai.card(f"/ticket ack {ticket['id']}"))  # the next turns: the same agent
            assert "Acknowledged" in acked and f"Owner: {MAI.name}" in acked
            assert len(users_with(demo.sandbox, "mai.nt@contoso.example")) == 1


async def test_a_newcomer_teams_gives_no_email_for_gets_a_stable_demo_address(
        clock: FakeClock, connector: tuple[ConnectorStub, str]) -> None:
    stub, connector_url = connector  # GUEST is not in the roster: the member lookup answers 404
    address = demo_address(Person(GUEST.id, GUEST.name, f"aad-{GUEST.id}"))  # the client sends aadObjectId
    assert address.endswith("@teams.demo.invalid") and address == demo_address(
        Person(GUEST.id, GUEST.name, f"AAD-{GUEST.id}".upper()))
    async with aiohttp.ClientSession() as session, embedded_bot(Mode.DEMO, clock.now) as demo:
        guest = TeamsClient(demo.url, connector_url, stub, session, GUEST)
        assert "Logged as Standard." in card_text(await guest.card("/ticket new Wi-Fi drops in the library users:1"))
        [user] = users_with(demo.sandbox, address)
        assert user["name"] == GUEST.name and user["share"] is False
        await demo.runtime.services.store.redis.flushall()  # the bot forgets who they were...
        renamed = TeamsUser(GUEST.id, "Kim G.", "")  # ...and their name no longer finds them: their address does
        listed = card_text(await guest.card("/ticket list", sender=renamed))
        assert "can't find an Odoo user" not in listed and "Wi-Fi drops in the library" in listed
        assert len(users_with(demo.sandbox, address)) == 1


async def test_the_demo_runs_the_tmf_profile_in_its_own_stages(clock: FakeClock,
                                                               connector: tuple[ConnectorStub, str]) -> None:
    """PROCESS_PROFILE=tmf: the demo's Odoo gets TMF's stages (made by `setup-odoo --apply`) and the scenarios'
    tickets stand in them; the commands move tickets through TMF's stages."""
    stub, connector_url = connector
    async with aiohttp.ClientSession() as session, \
            embedded_bot(Mode.DEMO, clock.now, {"PROCESS_PROFILE": "tmf"}) as demo:
        odoo = demo.sandbox
        stages = [s["name"] for s in odoo.call(odoo.admin_uid, "helpdesk.ticket.stage", "search_read", [[]],
                                                {"fields": ["name"], "order": "sequence, id"})]
        assert {"New", "1st line", "3rd line", "Done", "Canceled"} <= set(stages)
        standing = {t["name"]: t["stage_id"][1] for t in odoo.call(
            odoo.admin_uid, "helpdesk.ticket", "search_read", [[]], {"fields": ["name", "stage_id"]})}
        assert standing["Enrollment report for Director presentation"] == "1st line"  # in progress
        assert standing["Auto-generate PDF progress reports and email to parents weekly"] == "3rd line"  # on hold
        mai = TeamsClient(demo.url, connector_url, stub, session, MAI)
        stub.add_member(MAI.id, MAI.name, MAI.email)
        await mai.card("/ticket new Car 12 does not unlock users:2")
        [car] = odoo.call(odoo.admin_uid, "helpdesk.ticket", "search", [[["name", "=", "Car 12 does not unlock"]]], {})
        assert {"Triage", "2nd line"} <= set(stages)  # the stages the bot moves tickets into, made by setup-odoo
        triaged = card_text(await mai.card(f"/ticket triage {car} 2"))
        assert ("Triaged: Priority (2 stars), owner Nguyễn Thị Mai, in Triage. Odoo sends the customer \u201cTeam "
                "member is addressing your support request\u201d.") in triaged
        [record] = odoo.call(odoo.admin_uid, "helpdesk.ticket", "read", [[car]], {"fields": ["stage_id", "priority"]})
        assert record["stage_id"][1] == "Triage" and record["priority"] == "2"
        assert "How many stars?" in card_text(await mai.card(f"/ticket triage {car} 5"))
        assert "1st line" in card_text(await mai.card(f"/ticket ack {car}"))
        assert "3rd line" in card_text(await mai.card(f"/ticket hold {car} Waiting for Invers"))
        await mai.card(f"/ticket resume {car}")
        await mai.say_in_channel("/ticket channel second-line", "19:second-line@thread.tacv2")
        told = card_text(await mai.card(f"/ticket escalate {car} second-line Needs a script to reset the box"))
        assert "2nd line (TMF team): must acknowledge by" in told  # the profile's escalation_teams.second-line
        [record] = odoo.call(odoo.admin_uid, "helpdesk.ticket", "read", [[car]], {"fields": ["stage_id"]})
        assert record["stage_id"][1] == "2nd line"  # the team's own stage (escalation_teams.second-line.stage)
        resolved = card_text(await mai.card(f"/ticket resolve {car} The box was reset; the car unlocks"))
        assert ("Resolved and closed (this process has no confirmation step); Odoo sends the customer its "
                "\u201cclosing ticket\u201d e-mail.") in resolved  # TMF closes to Done: nobody is asked to confirm
        told = odoo.call(odoo.admin_uid, "mail.message", "search_read", [[
            ["model", "=", "helpdesk.ticket"], ["res_id", "=", car], ["body", "ilike", "box was reset"]]],
                         {"fields": ["body"]})
        assert told and not any("Could you please confirm" in message["body"] for message in told)


async def test_the_demo_runs_the_odoo_ps_profile_on_its_support_project(
        clock: FakeClock, connector: tuple[ConnectorStub, str]) -> None:
    stub, connector_url = connector
    stub.add_member(MAI.id, MAI.name, MAI.email)
    async with aiohttp.ClientSession() as session, \
            embedded_bot(Mode.DEMO, clock.now, {"PROCESS_PROFILE": "odoo-ps"}) as demo:
        mai = TeamsClient(demo.url, connector_url, stub, session, MAI)
        listed = card_text(await mai.card("/ticket list open"))
        assert "Invoices report is empty since the upgrade" in listed and "Add SSO login" in listed


async def test_a_copy_of_the_mindx_profile_gets_the_whole_desk_with_its_history(clock: FakeClock) -> None:
    """The end-to-end run's faster MindX profile (another name, the same stages): the scenarios and the four weeks
    of history its `/ticket trend` shows (it once got the scenarios' tickets only, the way TMF does)."""
    fast = Path(__file__).resolve().parents[1] / "e2e" / "fast-profile.yaml"
    async with embedded_bot(Mode.DEMO, clock.now, {"PROCESS_PROFILE": str(fast)}) as demo:
        odoo = demo.sandbox
        closed = odoo.call(odoo.admin_uid, "helpdesk.ticket", "search_count", [[["closed", "=", True]]], {})
        assert closed == sum(incident.times for incident in PAST)
