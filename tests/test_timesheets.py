"""`/ticket time`: time spent logged from Teams in Odoo's timesheets (hr_timesheet's account.analytic.line, for the
agent's employee), read back per ticket and per agent, counted by the Odoo PS profile's mandatory timesheet_ids;
bad input, and what Odoo cannot take, refused with nothing written. Through the bot's HTTP endpoint with
Teams-shaped activities, against the Odoo double of a projects database (and of a helpdesk without timesheets)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from redis.asyncio import Redis

from bot.demo.seed import seed_scenarios
from bot.server import create_app
from bot.settings import Settings
from odoo_double import OdooSandbox, create_sandbox_app
from tests.conftest import AGENT, LEAD, FakeClock, RunningSandbox, bot_settings
from tests.support.connector import ConnectorStub
from tests.support.faultproxy import FaultProxy
from tests.support.odoo_view import OdooView
from tests.support.proxied_odoo import Relay, proxy_in_front_of, served_like_odoo, through
from tests.support.teams import TeamsClient, card_text

LINE = "account.analytic.line"
LINE_FIELDS = ["task_id", "project_id", "employee_id", "user_id", "unit_amount", "name", "date"]
# Monday 27 January 2025, 09:00 in Vietnam (the Teams client's zone): the week of the tests
MONDAY = datetime(2025, 1, 27, 2, 0, tzinfo=UTC)


@dataclass
class Desk:
    """The bot on the Odoo PS profile, AGENT typing in their 1:1 chat, the projects database behind it."""

    teams: TeamsClient
    odoo: OdooView
    sandbox: OdooSandbox

    async def say(self, text: str) -> str:
        return card_text(await self.teams.card(text))

    async def new_task(self, title: str) -> int:
        await self.say(f"/ticket new {title} users:1")
        [newest] = self.odoo.call("project.task", "search_read", [], fields=["id"], order="id desc", limit=1)
        return int(newest["id"])

    def lines(self, **where: Any) -> list[dict[str, Any]]:
        return self.odoo.call(LINE, "search_read", [[key, "=", value] for key, value in where.items()],  # type: ignore[no-any-return]
                              fields=LINE_FIELDS, order="id")

    def notes(self, task: int) -> list[str]:
        return [m["body"] for m in self.odoo.call("mail.message", "search_read",
                                                  [["model", "=", "project.task"], ["res_id", "=", task],
                                                   ["message_type", "=", "comment"]], fields=["body"], order="id")]

    def employee(self, email: str) -> int:
        [found] = self.odoo.call("hr.employee", "search", [["user_id", "=", self.odoo.user_id(email)]])
        return int(found)

    def log_in_odoo(self, email: str, task: int, hours: float, what: str, day: str) -> None:
        """A line someone logged in Odoo itself."""
        self.odoo.call(LINE, "create", {"task_id": task, "unit_amount": hours, "name": what, "date": day,
                                        "employee_id": self.employee(email)})


def _projects(clock: FakeClock) -> OdooSandbox:
    odoo = OdooSandbox(flavour="project", db="helpdesk", login="admin", password="admin", api_key="test-api-key",
                       clock=clock.now)
    seed_scenarios(odoo)  # the Support project; its people are employees
    return odoo


StartDesk = Callable[[Settings], Awaitable[Desk]]


@pytest.fixture
async def start_desk(redis: Redis, connector: tuple[ConnectorStub, str], clock: FakeClock
                     ) -> AsyncIterator[Callable[[Settings, OdooSandbox], Awaitable[tuple[Desk, TestServer]]]]:
    stub, connector_url = connector
    servers: list[TestServer] = []
    async with aiohttp.ClientSession() as session:
        async def start(settings: Settings, sandbox: OdooSandbox) -> tuple[Desk, TestServer]:
            server = TestServer(create_app(settings, clock=clock.now), host="127.0.0.1")
            await server.start_server()
            servers.append(server)
            teams = TeamsClient(str(server.make_url("/api/messages")), connector_url, stub, session, AGENT)
            return Desk(teams, OdooView(sandbox), sandbox), server

        yield start
        for server in servers:
            await server.close()


@pytest.fixture
async def projects(clock: FakeClock) -> AsyncIterator[RunningSandbox]:
    clock.current = MONDAY
    odoo = _projects(clock)
    server = TestServer(create_sandbox_app(odoo), host="127.0.0.1")
    await server.start_server()
    yield RunningSandbox(odoo, str(server.make_url("")).rstrip("/"))
    await server.close()


@pytest.fixture
async def desk(redis_url: str, projects: RunningSandbox, start_desk: Any) -> Desk:
    started, _ = await start_desk(bot_settings(redis_url, projects.url, process_profile="odoo-ps"), projects.odoo)
    return started  # type: ignore[no-any-return]


async def test_time_logged_from_teams_is_a_timesheet_line_of_the_agents_employee(desk: Desk, clock: FakeClock
                                                                                 ) -> None:
    task = await desk.new_task("Invoices report is empty")
    [project] = desk.odoo.call("project.task", "read", [task], fields=["project_id"])
    clock.current = datetime(2025, 1, 29, 20, 0, tzinfo=UTC)  # Thursday 30, 03:00 in Vietnam
    said = await desk.say(f"/ticket time {task} 1h30 Reproduced the empty report")
    assert "Logged 1h30m in your timesheet." in said and "Total: 1h30m (1 line)" in said, said
    [line] = desk.lines(task_id=task)
    assert line == {"id": line["id"], "task_id": [task, "Invoices report is empty"],
                    "project_id": project["project_id"], "employee_id": [desk.employee(AGENT.email), AGENT.name],
                    "user_id": [desk.odoo.user_id(AGENT.email), AGENT.name], "unit_amount": 1.5,
                    "name": "Reproduced the empty report", "date": "2025-01-30"}  # the day in the agent's zone
    assert any(f"{AGENT.name}</b> (via Teams):<br>Time logged: 1h30m on 2025-01-30: Reproduced the empty report" in note
               for note in desk.notes(task))

    assert "Total: 2h15m (2 lines)" in await desk.say(f"/ticket time {task} 45m Fixed the domain")
    desk.log_in_odoo(LEAD.email, task, 0.5, "Reviewed the fix", "2025-01-30")  # logged in Odoo by the lead
    shown = await desk.say(f"/ticket time #{task}")
    assert shown.splitlines()[:2] == [f"#{task} · Invoices report is empty", "Total: 2h45m (3 lines)"], shown
    assert "**30m** · Thu 30 Jan · Trần Thị Lan\nReviewed the fix" in shown
    assert f"**1h30m** · Thu 30 Jan · {AGENT.name}\nReproduced the empty report" in shown
    [effective] = desk.odoo.call("project.task", "read", [task], fields=["effective_hours"])
    assert effective["effective_hours"] == 2.75  # Odoo's own sum agrees


async def test_own_time_today_and_this_week_in_the_agents_time_zone(desk: Desk, clock: FakeClock) -> None:
    sso = await desk.new_task("Add SSO to the portal")
    export = await desk.new_task("Export to Excel fails")
    await desk.say(f"/ticket time {sso} 1h Read the SAML docs")  # Monday 09:00
    clock.current = datetime(2025, 1, 29, 8, 0, tzinfo=UTC)  # Wednesday 15:00
    await desk.say(f"/ticket time {export} 1.5h Found the failing column")
    await desk.say(f"/ticket time {export} 30m Tested the fix")
    clock.current = datetime(2025, 1, 29, 20, 0, tzinfo=UTC)  # Thursday 03:00 in Vietnam, still Wednesday in UTC
    await desk.say(f"/ticket time {sso} 0,5h Configured the test IdP")
    desk.log_in_odoo(AGENT.email, sso, 5, "Last week's work", "2025-01-26")  # Sunday: last week
    desk.log_in_odoo(LEAD.email, sso, 4, "Someone else's work", "2025-01-30")

    today = await desk.say("/ticket time mine")
    assert today.splitlines() == ["Your time today (Thu 30 Jan)", "Total: 30m (1 line)",
                                  f"**30m** · #{sso} Add SSO to the portal"], today
    week = await desk.say("/ticket time mine week")
    assert week.splitlines() == ["Your time this week (Mon 27 Jan to Thu 30 Jan)", "Total: 3h30m (4 lines)",
                                 f"**2h** · #{export} Export to Excel fails",
                                 f"**1h30m** · #{sso} Add SSO to the portal"], week


async def test_the_time_logged_counts_for_the_stages_that_require_it(desk: Desk) -> None:
    """The Odoo PS profile requires timesheet_ids before UAT and Done: the time logged from Teams fills it."""
    task = await desk.new_task("Payroll export is slow")
    [parent] = desk.odoo.call("project.task", "search", [["name", "=", "Add SSO login"]])
    desk.odoo.call("project.task", "write", [task], {"parent_id": parent})  # required before Development
    await desk.say(f"/ticket ack {task} Looking at it")
    refused = await desk.say(f"/ticket resolve {task} Added an index")
    assert "cannot move to resolved yet: fill in Timesheets (timesheet_ids) in Odoo first. Log the time spent with " \
           f"`/ticket time {task} <duration> <what was done>`." in refused
    await desk.say(f"/ticket time {task} 2h Profiled the export and added an index")
    assert "UAT" in await desk.say(f"/ticket resolve {task} Added an index")
    [moved] = desk.odoo.call("project.task", "read", [task], fields=["stage_id", "timesheet_ids"])
    assert moved["stage_id"][1] == "UAT" and len(moved["timesheet_ids"]) == 1


BAD = {
    "/ticket time": "Which ticket, and how long?",
    "/ticket time {task} research 1h": "`research` is not a time spent. Write it like `1h30m`, `90m`, `1h30` or "
                                       "`1.5h`.",
    "/ticket time {task} 25h The whole weekend": "`25h` is more than 24 hours. Log at most `24h` in one line",
    "/ticket time {task} 0m Nothing": "`0m` is no time at all. Log at least `1m`.",
    "/ticket time {task} 1.33h Research": "`1.33h` is not a whole number of minutes; write it in hours and minutes",
    "/ticket time {task} -1h Research": "-1h` is not a time spent.",  # (a word joiner before the `-`: not a list)
    "/ticket time {task} 1h30": "Please add what was done, e.g. `/ticket time {task} 1h30 Reproduced the bug`.",
    "/ticket time {task}\nResearched the report": "How long did it take? Put the time before what was done",
    "/ticket time abc 1h Research": "`abc` is not a ticket id.",
    "/ticket time 99999 1h Research": "There is no ticket #99999 in Odoo.",
    "/ticket time mine month": "`/ticket time mine` takes `today` (the default) or `week`, not `month`.",
}


@pytest.mark.parametrize("typed", list(BAD))
async def test_bad_input_is_refused_and_changes_nothing(desk: Desk, typed: str) -> None:
    task = await desk.new_task("Invoices report is empty")
    notes = desk.notes(task)
    said = await desk.say(typed.format(task=task))
    assert BAD[typed].format(task=task) in said, said
    assert desk.lines() == [] and desk.notes(task) == notes


def _no_employee(desk: Desk, task: int) -> None:
    desk.odoo.call("hr.employee", "write", [desk.employee(AGENT.email)], {"active": False})


def _no_timesheets_in_the_project(desk: Desk, task: int) -> None:
    [project] = desk.odoo.call("project.task", "read", [task], fields=["project_id"])
    desk.odoo.call("project.project", "write", [project["project_id"][0]], {"allow_timesheets": False})


def _private_task(desk: Desk, task: int) -> None:
    desk.odoo.call("project.task", "write", [task], {"project_id": False})


def _closed(desk: Desk, task: int) -> None:
    [done] = desk.odoo.call("project.task.type", "search", [["name", "=", "Done"], ["user_id", "=", False]])
    desk.odoo.call("project.task", "write", [task], {"stage_id": done, "state": "1_done"})


CANNOT = {
    "no employee": (_no_employee, f"{AGENT.name} is no employee in Odoo, and Odoo logs time for employees only: ask "
                                  "your Odoo administrator to create one in Employees (or open theirs) with "
                                  f"{AGENT.name} as its Related User."),
    "project without timesheets": (_no_timesheets_in_the_project, "The project Support keeps no timesheets: ask your "
                                   "Odoo administrator to turn on Timesheets in its settings."),
    "task without project": (_private_task, "#{task} is in no project, and Odoo keeps time spent by project: set its "
                             "project in Odoo first."),
    "closed task": (_closed, "#{task} is closed (Done). Reopen it first: `/ticket reopen {task} <reason>`."),
}


@pytest.mark.parametrize("case", list(CANNOT))
async def test_what_odoo_cannot_take_is_refused_saying_what_to_ask_for(desk: Desk, case: str) -> None:
    task = await desk.new_task("Invoices report is empty")
    set_up, refusal = CANNOT[case]
    set_up(desk, task)
    notes = desk.notes(task)
    said = await desk.say(f"/ticket time {task} 1h Research")
    assert refusal.format(task=task) in said, said
    assert desk.lines() == [] and desk.notes(task) == notes


async def test_a_vietnamese_agent_logs_time_in_vietnamese(desk: Desk) -> None:
    task = await desk.new_task("Invoices report is empty")
    desk.teams.locale = "vi-VN"
    said = await desk.say(f"/ticket time {task} 1h30m Đã tái hiện lỗi")
    assert "Đã ghi 1h30m vào timesheet của bạn." in said and "Tổng: 1h30m (1 dòng)" in said, said
    assert "Thời gian của bạn hôm nay (T2, 27 thg 1)" in await desk.say("/ticket time mine")
    refused = await desk.say(f"/ticket time {task} 25h Cả cuối tuần")
    assert "`25h` là hơn 24 giờ." in refused, refused
    assert [line["name"] for line in desk.lines()] == ["Đã tái hiện lỗi"]


async def test_a_helpdesk_without_its_timesheet_module_refuses(teams: TeamsClient, odoo: OdooView) -> None:
    """helpdesk_mgmt alone has no timesheets on tickets (helpdesk_mgmt_timesheet adds them): said, nothing written;
    and `log` is no longer a way to log a new ticket."""
    tickets = odoo.call("helpdesk.ticket", "search_count", [])
    messages = odoo.call("mail.message", "search_count", [])
    refusal = ("This Odoo keeps no timesheets on helpdesk tickets: ask your Odoo administrator to install the "
               "`helpdesk_mgmt_timesheet` module.")
    for typed in ("/ticket time 1 1h30m Research", "/ticket time 1", "/ticket time mine week",
                  "/ticket log 1 1h30 research"):
        said = card_text(await teams.card(typed))
        assert refusal in said, (typed, said)
    # the old alias of `new`: refused, nothing created (`users:` is new's option, not time's)
    assert card_text(await teams.card("/ticket log Cannot log in users:1")).startswith(
        "`/ticket time` has no `users:` option, so I did nothing")
    assert card_text(await teams.card("/ticket log Cannot log in")).startswith("`Cannot` is not a ticket id")
    assert odoo.call("helpdesk.ticket", "search_count", []) == tickets
    assert odoo.call("mail.message", "search_count", []) == messages


# ---- replayed: a time log whose first run reached Odoo lands once ------------------------------------------------

@dataclass(frozen=True)
class Lost:
    spare: int  # Odoo calls answered before the reply that is lost
    wrote: str  # what had landed when the reply was lost


# a time log's calls: the task, its project, the project's settings, the employee, the note, the line
LOST = {"the note's reply": Lost(4, "the note"), "the line's reply": Lost(5, "the note and the line")}


@asynccontextmanager
async def _behind_a_proxy(redis_url: str, clock: FakeClock,
                          start_desk: Any) -> AsyncIterator[tuple[Desk, TestServer, FaultProxy, int]]:
    """The Odoo PS desk on Monday, its Odoo reached through a fault proxy, and a task of it."""
    clock.current = MONDAY
    sandbox = _projects(clock)
    async with served_like_odoo(sandbox) as url:
        with proxy_in_front_of(url) as proxy:
            settings = through(bot_settings(redis_url, url, process_profile="odoo-ps"), proxy, timeout=2.0)
            desk, server = await start_desk(settings, sandbox)
            yield desk, server, proxy, await desk.new_task("Invoices report is empty")


@pytest.mark.parametrize("case", list(LOST))
async def test_a_time_log_whose_reply_was_lost_lands_once(redis_url: str, clock: FakeClock, start_desk: Any,
                                                          case: str) -> None:
    async with _behind_a_proxy(redis_url, clock, start_desk) as (desk, server, proxy, task):
        await desk.say(f"/ticket time {task}")
        await _lose_a_reply(desk, proxy, LOST[case].spare, f"/ticket time {task} 1h30m Reproduced the report")
        assert await _heal(Relay(server, desk.teams), proxy) == ["Odoo is back: your command was applied."]
    assert [line["unit_amount"] for line in desk.lines(task_id=task)] == [1.5]
    assert sum("Time logged: 1h30m" in note for note in desk.notes(task)) == 1


async def _lose_a_reply(desk: Desk, proxy: FaultProxy, spare: int, typed: str) -> None:
    proxy.spare(spare)
    proxy.swallow_replies()
    assert "Your command is saved" in await desk.say(typed)
    assert proxy.replies_swallowed >= 1


async def _heal(relay: Relay, proxy: FaultProxy) -> list[str]:
    proxy.heal()
    relay.odoo_answers_again()
    return [text.splitlines()[0] for text in await relay.run() if text.startswith("Odoo is back")]


async def test_while_odoo_is_away_a_time_log_is_kept_and_a_read_is_not(redis_url: str, clock: FakeClock,
                                                                       start_desk: Any) -> None:
    async with _behind_a_proxy(redis_url, clock, start_desk) as (desk, server, proxy, task):
        proxy.refuse()
        assert "Odoo is not answering right now" in await desk.say(f"/ticket time {task}")
        assert "Odoo is not answering right now" in await desk.say("/ticket time mine week")
        assert "Your command is saved" in await desk.say(f"/ticket time {task} 1h Reproduced the report")
        assert await _heal(Relay(server, desk.teams), proxy) == ["Odoo is back: your command was applied."]
    assert [line["name"] for line in desk.lines(task_id=task)] == ["Reproduced the report"]
