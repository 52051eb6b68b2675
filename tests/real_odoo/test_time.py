"""`/ticket time` against a real Odoo's projects database (project and hr_timesheet), over every protocol the series
speaks: a developer made as the other people of a run are (a user created over the API) is no employee, so Odoo
would refuse their timesheet line and the bot says so first, writing nothing; once the Odoo administrator links an
employee to them, the time logged from Teams is hr_timesheet's line on the task, its project and that employee, and
it fills the timesheet_ids the Odoo PS profile requires before UAT."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.odoo.models import PROJECT_TASK
from tests.real_odoo.conftest import StartBot
from tests.support.teams import TeamsUser

pytestmark = pytest.mark.real_odoo

LINE_FIELDS = ["task_id", "project_id", "employee_id", "user_id", "unit_amount", "name", "date"]


async def test_time_logged_from_teams_moves_a_task_to_uat(start_bot: StartBot, protocol: str, run_tag: str) -> None:
    desk = await start_bot("projects", protocol)
    odoo = desk.odoo
    dev = TeamsUser(f"29:dev-ngoc-{run_tag}-{protocol}", "Lê Bảo Ngọc", f"ngoc.lb+{run_tag}-{protocol}@mindx.edu.vn")
    desk.teams.connector.add_member(dev.id, dev.name, dev.email)
    uid = odoo.user(dev, [PROJECT_TASK.user_group])
    assert odoo.call("hr.employee", "search_count", [["user_id", "=", uid]], context={"active_test": False}) == 0

    def lines(task_id: int) -> list[dict[str, Any]]:
        return odoo.call("account.analytic.line", "search_read", [["task_id", "=", task_id]],  # type: ignore[no-any-return]
                         fields=LINE_FIELDS)

    title = f"Timesheet export is empty {run_tag}-{protocol}"
    await desk.say(f"/ticket new {title} users:1", sender=dev)
    [task] = odoo.call("project.task", "search_read", [["name", "=", title]], fields=["project_id"])
    tid = task["id"]
    parent = odoo.call("project.task", "create", {"name": f"Customer project {run_tag}-{protocol}",
                                                  "project_id": task["project_id"][0]})
    odoo.call("project.task", "write", [tid], {"parent_id": parent})  # the profile wants it before Development
    await desk.say(f"/ticket ack {tid} Looking at it", sender=dev)

    refused = await desk.say(f"/ticket resolve {tid} Fixed the export domain", sender=dev)
    assert f"(timesheet_ids) in Odoo first. Log the time spent with `/ticket time {tid}" in refused, refused
    refused = await desk.say(f"/ticket time {tid} 1h30m Reproduced the empty export", sender=dev)
    assert f"{dev.name} is no employee in Odoo, and Odoo logs time for employees only" in refused, refused
    assert "25h` is more than 24 hours" in await desk.say(f"/ticket time {tid} 25h The weekend", sender=dev)
    assert lines(tid) == [] and not any("Time logged" in m["body"] for m in odoo.messages(tid))

    employee = odoo.call("hr.employee", "create", {"name": dev.name, "user_id": uid})  # the Odoo administrator
    said = await desk.say(f"/ticket time {tid} 1h30 Reproduced the empty export", sender=dev)
    assert "Logged 1h30m in your timesheet." in said and "Total: 1h30m (1 line)" in said, said
    [line] = lines(tid)
    today = datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).date().isoformat()  # the Teams client's zone
    assert (line["task_id"][0], line["project_id"], line["employee_id"][0], line["user_id"][0], line["unit_amount"],
            line["name"], line["date"]) == (tid, task["project_id"], employee, uid, 1.5, "Reproduced the empty export",
                                           today)
    assert any("Time logged: 1h30m" in m["body"] for m in odoo.messages(tid))
    [effective] = odoo.call("project.task", "read", [tid], fields=["effective_hours", "timesheet_ids"])
    assert effective["effective_hours"] == 1.5 and effective["timesheet_ids"] == [line["id"]]

    assert "Total: 1h30m (1 line)" in await desk.say(f"/ticket time {tid}", sender=dev)
    assert f"**1h30m** · #{tid} {title}" in await desk.say("/ticket time mine", sender=dev)
    await desk.say(f"/ticket resolve {tid} Fixed the export domain", sender=dev)
    [moved] = odoo.call("project.task", "read", [tid], fields=["stage_id"])
    assert moved["stage_id"][1] == "UAT"
