"""The bot on the three transports and on the other Odoo set-ups (project.task, missing stages)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from redis.asyncio import Redis

from bot.demo.seed import seed_scenarios
from bot.odoo.gateway import OdooGateway, OdooSetupError
from bot.odoo.models import HELPDESK_ENTERPRISE, HELPDESK_MGMT, PROJECT_TASK, choose_profile
from bot.odoo.transport import OdooCredentials, make_transport
from bot.process import PROFILES_DIR, KanbanState, Stage, load_profile
from bot.server import RUNTIME, create_app
from bot.settings import SettingsError
from odoo_double import OdooSandbox, create_sandbox_app
from tests.conftest import AGENT, FakeClock, RunningSandbox, bot_settings
from tests.odoo_contract import SERIES, entries
from tests.support.connector import ConnectorStub
from tests.support.odoo_view import OdooView
from tests.support.teams import TeamsClient, card_text


async def _bot(redis_url: str, odoo_url: str, connector: tuple[ConnectorStub, str], clock: FakeClock,
               **settings: object) -> tuple[TestServer, str]:
    server = TestServer(create_app(bot_settings(redis_url, odoo_url, **settings), clock=clock.now),  # type: ignore[arg-type]
                        host="127.0.0.1")
    await server.start_server()
    return server, str(server.make_url("/api/messages"))


@pytest.mark.parametrize("protocol", ["jsonrpc", "json2"])
async def test_the_lifecycle_on_each_transport(protocol: str, redis: Redis, redis_url: str,
                                               sandbox: RunningSandbox, connector: tuple[ConnectorStub, str],
                                               clock: FakeClock) -> None:
    server, url = await _bot(redis_url, sandbox.url, connector, clock, protocol=protocol)
    odoo = OdooView(sandbox.odoo)
    async with aiohttp.ClientSession() as session:
        teams = TeamsClient(url, connector[1], connector[0], session, AGENT)
        assert "Standard" in card_text(await teams.card("/ticket new Mouse broken users:1 customer:a@b.example"))
        tid = odoo.newest_ticket()["id"]
        await teams.card(f"/ticket ack {tid}")
        await teams.card(f"/ticket resolve {tid} New mouse")
        await teams.card(f"/ticket confirm {tid}")
    await server.close()
    assert odoo.ticket(tid)["closed"] is True
    assert len(odoo.messages(tid, subtype="Discussions")) == 2


@pytest.fixture
async def project_sandbox(clock: FakeClock) -> AsyncIterator[RunningSandbox]:
    odoo = OdooSandbox(flavour="project", db="helpdesk", login="admin", password="admin", api_key="test-api-key",
                       clock=clock.now)
    seed_scenarios(odoo)
    server = TestServer(create_sandbox_app(odoo), host="127.0.0.1")
    await server.start_server()
    yield RunningSandbox(odoo, str(server.make_url("")).rstrip("/"))
    await server.close()


async def test_odoo_ps_process_on_project_tasks(redis: Redis, redis_url: str, project_sandbox: RunningSandbox,
                                                connector: tuple[ConnectorStub, str], clock: FakeClock) -> None:
    server, url = await _bot(redis_url, project_sandbox.url, connector, clock, process_profile="odoo-ps")
    odoo = OdooView(project_sandbox.odoo)

    def task(task_id: int) -> dict[str, object]:
        [record] = odoo.call("project.task", "read", [task_id], fields=["stage_id", "state", "user_ids", "priority"])
        return record

    async with aiohttp.ClientSession() as session:
        teams = TeamsClient(url, connector[1], connector[0], session, AGENT)
        card = card_text(await teams.card("/ticket new Invoices report is empty users:12 type:call"))
        assert "Priority · High priority" in card  # a starred task on Odoo 17's two priorities
        [newest] = odoo.call("project.task", "search_read", [], fields=["id", "tag_ids"], order="id desc", limit=1)
        tid = newest["id"]
        tags = {t["name"] for t in odoo.call("project.tags", "read", newest["tag_ids"], fields=["name"])}
        assert tags == {"priority", "Technical Call"}  # the class, and the guide's tag for a call
        assert task(tid)["priority"] == "1" and task(tid)["user_ids"] == [odoo.user_id(AGENT.email)]
        assert task(tid)["stage_id"][1] == "Requirements"  # type: ignore[index]
        refused = card_text(await teams.card(f"/ticket ack {tid} We are looking at it"))
        assert "fill in Parent Task (parent_id) in Odoo first" in refused  # Odoo PS: mandatory before Development
        assert "Fill in `parent` from here with `/ticket set" in refused
        [parent] = odoo.call("project.task", "search", [["name", "=", "Add SSO login"]])
        [project] = odoo.call("project.task", "read", [tid], fields=["project_id"])
        odoo.call("project.task", "create", [{"name": "Add SSO logout", "project_id": project["project_id"][0]}])
        several = card_text(await teams.card(f"/ticket set {tid} parent Add SSO"))  # two tasks match
        assert "Several match `Add SSO`: " in several and f"`#{parent}` Add SSO login" in several
        assert "Add SSO logout" in several and "#<id>" in several
        assert "Odoo has nothing named `nothing like this`" in card_text(
            await teams.card(f"/ticket set {tid} parent nothing like this"))
        assert "`color` is not a field I fill in here" in card_text(await teams.card(f"/ticket set {tid} color red"))
        set_it = card_text(await teams.card(f"/ticket set {tid} parent #{parent}"))
        assert "Parent Task (parent_id): Add SSO login." in set_it
        assert odoo.call("project.task", "read", [tid], fields=["parent_id"])[0]["parent_id"][0] == parent
        await teams.card(f"/ticket ack {tid} We are looking at it")
        assert task(tid)["stage_id"][1] == "Development"  # type: ignore[index]
        await teams.card(f"/ticket block {tid} Need the customer's database dump")
        assert task(tid)["state"] == "02_changes_requested"  # red: blocked in Development
        await teams.card(f"/ticket resume {tid}")
        assert task(tid)["state"] == "01_in_progress"
        refused = card_text(await teams.card(f"/ticket resolve {tid} Fixed the report domain"))
        assert "fill in Timesheets (timesheet_ids) in Odoo first" in refused  # "log all your time spent here"
        assert "Logged 1h30m" in card_text(await teams.card(f"/ticket time {tid} 1h30m Investigation"))
        await teams.card(f"/ticket resolve {tid} Fixed the report domain")
        assert task(tid)["stage_id"][1] == "UAT"  # type: ignore[index]
        # the guide's "Set Activity to follow up": a To-Do for the owner, due when the follow-up is (7 days)
        [activity] = odoo.call("mail.activity", "search_read",
                               [["res_model", "=", "project.task"], ["res_id", "=", tid]],
                               fields=["summary", "date_deadline", "user_id", "activity_type_id"])
        assert activity["summary"] == "Follow up with the customer"
        assert activity["date_deadline"] == (clock.now() + timedelta(days=7)).date().isoformat()
        assert activity["user_id"][0] == odoo.user_id(AGENT.email) and activity["activity_type_id"][1] == "To-Do"
        await teams.card(f"/ticket confirm {tid}")
    leads = {user.name for user in server.app[RUNTIME].services.odoo.leads()}
    await server.close()
    done = task(tid)
    assert done["stage_id"][1] == "Done" and done["state"] == "1_done"  # type: ignore[index]
    assert {"Trần Thị Lan", "Megan Bowen"} <= leads and AGENT.name not in leads  # Project Administrators


HUGE = "9" * 4_301  # one digit past what int() reads from text


@pytest.mark.parametrize("wanted", ["#²", "#①", "#٣", "#2147483648", "#99999999999", f"#{HUGE}"],
                         ids=lambda wanted: wanted.replace(HUGE, "<4,301 digits>"))
async def test_a_record_id_in_other_digits_or_too_big_is_refused_and_changes_nothing(
        wanted: str, redis: Redis, redis_url: str, project_sandbox: RunningSandbox,
        connector: tuple[ConnectorStub, str], clock: FakeClock) -> None:
    """`/ticket set <id> parent #²` raised in the gateway (`'²'.isdigit()` is true, `int('²')` raises; so does
    int() of 4,301 digits) and an id past 2**31-1 overflowed XML-RPC: both were the crash card."""
    server, url = await _bot(redis_url, project_sandbox.url, connector, clock, process_profile="odoo-ps")
    odoo = OdooView(project_sandbox.odoo)
    try:
        async with aiohttp.ClientSession() as session:
            teams = TeamsClient(url, connector[1], connector[0], session, AGENT)
            await teams.card("/ticket new Invoices report is empty users:12 type:call")
            [newest] = odoo.call("project.task", "search_read", [], fields=["id"], order="id desc", limit=1)
            tid = newest["id"]

            def state() -> tuple[object, ...]:
                return (odoo.call("project.task", "read", [tid], fields=["parent_id", "write_date"]),
                        odoo.call("mail.message", "search_count", []))
            before = state()
            card = await teams.card(f"/ticket set {tid} parent {wanted}")
            text = card_text(card)
            assert card["body"][0].get("color") == "attention", text
            assert "is not a record id" in text and "digits 0-9, up to 2,147,483,647" in text, text
            assert "went wrong" not in text and len(text) < 1_000  # what was typed is quoted back shortened
            assert state() == before
    finally:
        await server.close()


async def test_a_missing_stage_is_reported_at_start_up(sandbox: RunningSandbox) -> None:
    [solved] = sandbox.odoo.call(2, "helpdesk.ticket.stage", "search", [[["name", "=", "Solved"]]], {})
    sandbox.odoo.call(2, "helpdesk.ticket.stage", "unlink", [[solved]], {})
    async with aiohttp.ClientSession() as session:
        transport = make_transport("xmlrpc", session, OdooCredentials(sandbox.url, "helpdesk", "admin", "test-api-key"))
        with pytest.raises(OdooSetupError, match=r"no stage named 'Solved'.*setup-odoo --apply.*'mindx' process"):
            await OdooGateway.connect(transport, load_profile("mindx"), base_url=sandbox.url)


def test_model_profile_detection() -> None:
    assert choose_profile({"helpdesk_mgmt", "project"}, wanted_model="helpdesk.ticket") is HELPDESK_MGMT
    assert choose_profile({"helpdesk", "project"}, wanted_model="helpdesk.ticket") is HELPDESK_ENTERPRISE
    assert choose_profile({"helpdesk_mgmt", "project"}, wanted_model="project.task") is PROJECT_TASK
    assert choose_profile({"helpdesk_mgmt", "project"}, wanted_model="project.task", configured="project") \
        is PROJECT_TASK
    with pytest.raises(LookupError, match="install one or set ODOO_PROFILE"):
        choose_profile({"project"}, wanted_model="helpdesk.ticket")


def _fields_get(series: str, topic: str, model: str) -> dict[str, Any]:
    [entry] = [e for e in entries(f"fields_get_{topic}.json", series) if e["id"] == f"fields_get {model}"]
    return entry["result"]  # type: ignore[no-any-return]


@pytest.mark.parametrize("series", SERIES)
def test_the_kanban_light_is_the_one_each_real_series_has(series: str) -> None:
    task = PROJECT_TASK.fitted_to(_fields_get(series, "project", "project.task"))
    assert task.kanban is not None and task.kanban.field_name == "state"
    assert task.kanban_value(Stage.DONE, None) == "1_done"
    assert "state" in task.read_fields() and "kanban_state" not in task.read_fields()
    ticket = HELPDESK_MGMT.fitted_to(_fields_get(series, "helpdesk", "helpdesk.ticket"))
    assert ticket.kanban is not None and ticket.kanban.field_name == "kanban_state"
    assert ticket.kanban_value(Stage.ON_HOLD, KanbanState.BLOCKED) == "blocked"


@pytest.mark.parametrize(("series", "starred"), [("17.0", "High"), ("18.0", "High"), ("19.0", "Medium")])
def test_priorities_are_said_on_each_real_series_scale(series: str, starred: str) -> None:
    """project.task has two priorities up to 18 (a star: High) and four on 19 ('1': Medium priority); tickets four."""
    task = PROJECT_TASK.fitted_to(_fields_get(series, "project", "project.task"))
    assert task.priority_label("1") == starred and task.priority_label("0") == "Low"
    assert task.priorities == (("0", "1") if series != "19.0" else ("0", "1", "2", "3"))
    ticket = HELPDESK_MGMT.fitted_to(_fields_get(series, "helpdesk", "helpdesk.ticket"))
    assert [ticket.priority_label(p) for p in ticket.priorities] == ["Low", "Medium", "High", "Urgent"]
    assert ticket.priority_label("9") == "9"  # not on the scale: said as Odoo wrote it


def test_a_task_model_of_an_older_odoo_gets_its_kanban_state() -> None:
    """Up to Odoo 16 project.task's light was kanban_state (normal/done/blocked) and no state closed a task."""
    light = {"type": "selection", "selection": [["normal", "Grey"], ["done", "Green"], ["blocked", "Red"]]}
    task = PROJECT_TASK.fitted_to({"kanban_state": light, "name": {"type": "char"}})
    assert task.kanban is not None and task.kanban.field_name == "kanban_state"
    assert task.kanban_value(Stage.DONE, None) is None  # the stage closes it; the light is left alone
    assert task.kanban_state("blocked") is KanbanState.BLOCKED


@pytest.mark.parametrize("fields", [
    {},
    {"state": {"type": "char"}},  # not a selection
    {"state": {"type": "selection", "selection": [["01_in_progress", "In Progress"], ["1_done", "Done"]]}},
    {"kanban_state": {"type": "selection", "selection": "not a list"}},
], ids=["none", "not a selection", "values missing", "selection unreadable"])
def test_a_model_without_a_known_kanban_light_is_left_alone(fields: dict[str, Any]) -> None:
    task = PROJECT_TASK.fitted_to(fields)
    assert task.kanban is None
    assert task.kanban_value(Stage.DONE, None) is None and task.kanban_state("1_done") is None
    assert "state" not in task.read_fields() and "kanban_state" not in task.read_fields()


def test_an_odoo_profile_that_cannot_fit_names_the_setting() -> None:
    with pytest.raises(SettingsError) as wrong_model:
        choose_profile({"helpdesk_mgmt", "project"}, wanted_model="helpdesk.ticket", configured="project")
    assert str(wrong_model.value) == (
        "ODOO_PROFILE: 'project' works on project.task, but the process profile (PROCESS_PROFILE) works on "
        "helpdesk.ticket; set ODOO_PROFILE to auto, helpdesk or helpdesk_mgmt")
    with pytest.raises(SettingsError) as not_installed:
        choose_profile({"helpdesk_mgmt", "project"}, wanted_model="helpdesk.ticket", configured="helpdesk")
    assert str(not_installed.value) == (
        "ODOO_PROFILE: 'helpdesk' needs the Odoo module helpdesk, which this Odoo does not have installed "
        "(it has helpdesk_mgmt and project); install it, or set ODOO_PROFILE to auto")


async def test_mandatory_fields_block_a_stage_move_until_filled(
        tmp_path: Path, redis: Redis, redis_url: str, project_sandbox: RunningSandbox,
        connector: tuple[ConnectorStub, str], clock: FakeClock, caplog: pytest.LogCaptureFixture) -> None:
    text = (PROFILES_DIR / "odoo-ps.yaml").read_text()
    start = text.index("required_fields:")
    end = text.index("\n\n", start)
    profile = tmp_path / "ps-strict.yaml"
    profile.write_text(text[:start] + "required_fields:\n  resolved: [date_deadline, sale_line_id]" + text[end:])
    server, url = await _bot(redis_url, project_sandbox.url, connector, clock, process_profile=str(profile))
    assert "requires sale_line_id, which project.task does not have" in caplog.text
    odoo = OdooView(project_sandbox.odoo)
    async with aiohttp.ClientSession() as session:
        teams = TeamsClient(url, connector[1], connector[0], session, AGENT)
        await teams.card("/ticket new Export fails users:1")
        [newest] = odoo.call("project.task", "search_read", [], fields=["id"], order="id desc", limit=1)
        tid = newest["id"]
        refused = card_text(await teams.card(f"/ticket resolve {tid} Fixed"))
        assert "cannot move to resolved yet: fill in Deadline (date_deadline) in Odoo first" in refused
        [task] = odoo.call("project.task", "read", [tid], fields=["stage_id"])
        assert task["stage_id"][1] == "Requirements"
        odoo.call("project.task", "write", [tid], {"date_deadline": "2025-02-01 10:00:00"})
        await teams.card(f"/ticket resolve {tid} Fixed")
    await server.close()
    [task] = odoo.call("project.task", "read", [tid], fields=["stage_id"])
    assert task["stage_id"][1] == "UAT"
