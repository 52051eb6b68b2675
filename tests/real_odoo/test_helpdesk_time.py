"""`/ticket time` on a helpdesk ticket (the mindx profile, helpdesk_mgmt), against a real Odoo over every protocol the
series speaks. OCA's helpdesk_mgmt_timesheet puts timesheets on tickets; PyPI has it for 18.0 only, so
`tools/real_odoo.py up` installs it in 18.0's helpdesk database and 17.0's and 19.0's have none. Each series asserts
what it must, nothing is skipped: on 18.0 the time goes to the ticket's project (a ticket in no project is refused,
nothing written) as hr_timesheet's line with the ticket, that project and the agent's employee, and `/ticket time
<id>` reads it back; on 17.0 and 19.0 the bot says which module to install and writes nothing."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.real_odoo.conftest import RealOdoo, StartBot

pytestmark = pytest.mark.real_odoo

# the series whose helpdesk database has helpdesk_mgmt_timesheet (tools/real_odoo.py HELPDESK_TIMESHEET): PyPI has it
# for 18.0 only
WITH_TIMESHEETS = ("18.0",)
LINE = "account.analytic.line"
LINE_FIELDS = ["ticket_id", "task_id", "project_id", "employee_id", "user_id", "unit_amount", "name", "date"]
NO_MODULE = ("This Odoo keeps no timesheets on helpdesk tickets: ask your Odoo administrator to install the "
             "`helpdesk_mgmt_timesheet` module.")


async def test_time_on_a_helpdesk_ticket(start_bot: StartBot, real_odoo: RealOdoo, protocol: str,
                                         run_tag: str) -> None:
    desk = await start_bot("helpdesk", protocol)
    odoo = desk.odoo
    agent = desk.cast.agent
    with_timesheets = real_odoo.series in WITH_TIMESHEETS
    installed = odoo.call("ir.module.module", "search_count", [["name", "=", "helpdesk_mgmt_timesheet"],
                                                               ["state", "=", "installed"]])
    assert installed == (1 if with_timesheets else 0)

    title = f"Printer on floor 3 jams {run_tag}-{protocol}"
    await desk.say(f"/ticket new {title} users:2")
    [ticket] = odoo.call("helpdesk.ticket", "search_read", [["name", "=", title]], fields=["number"])
    tid = ticket["id"]
    what = f"Cleared the paper path {run_tag}-{protocol}"

    def logged() -> bool:
        return any("Time logged" in m["body"] for m in odoo.messages(tid))

    if not with_timesheets:
        refused = await desk.say(f"/ticket time {tid} 1h30 {what}")
        assert NO_MODULE in refused, refused
        assert NO_MODULE in await desk.say(f"/ticket time {tid}")
        assert not logged()
        # helpdesk_mgmt alone installs no analytic: Odoo has no timesheet lines to write
        assert odoo.call("ir.model", "search_count", [["model", "=", LINE]]) == 0
        return

    def lines() -> list[dict[str, Any]]:
        return odoo.call(LINE, "search_read", [["ticket_id", "=", tid]], fields=LINE_FIELDS)  # type: ignore[no-any-return]

    uid = odoo.user_id(agent.email)
    employee = (odoo.call("hr.employee", "search", [["user_id", "=", uid]])  # the cast is made once per run
                or [odoo.call("hr.employee", "create", {"name": agent.name, "user_id": uid})])[0]

    refused = await desk.say(f"/ticket time {tid} 1h30 {what}")  # helpdesk_mgmt_project: a ticket has a project
    assert (f"{ticket['number']} is in no project, and Odoo keeps time spent by project: set its project in Odoo "
            "first.") in refused, refused
    assert lines() == [] and not logged()

    project = odoo.call("project.project", "create", {"name": f"IT support {run_tag}-{protocol}",
                                                      "allow_timesheets": True})
    odoo.call("helpdesk.ticket", "write", [tid], {"project_id": project})  # as the Odoo administrator would
    said = await desk.say(f"/ticket time {tid} 1h30 {what}")
    assert "Logged 1h30m in your timesheet." in said and "Total: 1h30m (1 line)" in said, said
    [line] = lines()
    today = datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).date().isoformat()  # the Teams client's zone
    assert (line["ticket_id"][0], line["task_id"], line["project_id"][0], line["employee_id"][0], line["user_id"][0],
            line["unit_amount"], line["name"], line["date"]) == (tid, False, project, employee, uid, 1.5, what, today)
    assert logged()
    [read] = odoo.call("helpdesk.ticket", "read", [tid], fields=["timesheet_ids", "total_hours"])
    assert read["timesheet_ids"] == [line["id"]] and read["total_hours"] == 1.5

    shown = await desk.say(f"/ticket time {tid}")
    assert "Total: 1h30m (1 line)" in shown and what in shown and agent.name in shown, shown
