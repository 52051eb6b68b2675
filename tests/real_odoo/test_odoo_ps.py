"""The Odoo PS profile on project.task, against a real Odoo of the series over every protocol it speaks: the kanban
light is the task's `state` (blocked: 02_changes_requested), the profile's required fields are checked against the
fields this Odoo has (parent_id and timesheet_ids here; sale_line_id and subscription_id need modules it lacks), and
a task left in UAT is closed by the follow-up rule."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from bot.server import RUNTIME
from tests.real_odoo.conftest import StartBot

pytestmark = pytest.mark.real_odoo


async def test_odoo_ps_on_project_tasks(start_bot: StartBot, protocol: str, run_tag: str) -> None:
    desk = await start_bot("projects", protocol)
    odoo = desk.odoo

    def task(task_id: int) -> dict[str, Any]:
        [record] = odoo.call("project.task", "read", [task_id],
                             fields=["stage_id", "state", "user_ids", "priority", "project_id"])
        return record  # type: ignore[no-any-return]

    title = f"Invoices report is empty {run_tag}-{protocol}"
    assert "Priority" in await desk.say(f"/ticket new {title} users:12")
    tid = odoo.newest_ticket()["id"]
    assert odoo.ticket(tid)["name"] == title
    assert task(tid)["priority"] == "1" and task(tid)["user_ids"] == [odoo.user_id(desk.cast.agent.email)]
    assert task(tid)["stage_id"][1] == "Requirements" and task(tid)["project_id"][1] == "Support"

    refused = await desk.say(f"/ticket ack {tid} We are looking at it")  # Odoo PS: a parent task before Development
    assert "(parent_id) in Odoo first" in refused and task(tid)["stage_id"][1] == "Requirements", refused
    parent = odoo.call("project.task", "create", {"name": f"Customer project {run_tag}-{protocol}",
                                                  "project_id": task(tid)["project_id"][0]})
    assert "Parent Task (parent_id): Customer project" in await desk.say(f"/ticket set {tid} parent #{parent}")
    assert odoo.call("project.task", "read", [tid], fields=["parent_id"])[0]["parent_id"][0] == parent
    await desk.say(f"/ticket ack {tid} We are looking at it")
    assert task(tid)["stage_id"][1] == "Development" and task(tid)["state"] == "01_in_progress"

    await desk.say(f"/ticket block {tid} Need the customer's database dump")
    assert task(tid)["stage_id"][1] == "Development" and task(tid)["state"] == "02_changes_requested"  # red
    await desk.say(f"/ticket resume {tid}")
    assert task(tid)["state"] == "01_in_progress"

    refused = await desk.say(f"/ticket resolve {tid} Fixed the report domain")  # UAT wants the time spent
    assert "(timesheet_ids) in Odoo first" in refused and task(tid)["stage_id"][1] == "Development", refused
    odoo.call("account.analytic.line", "create", {"name": "Investigation", "task_id": tid, "unit_amount": 1.5,
                                                  "project_id": task(tid)["project_id"][0]})
    await desk.say(f"/ticket resolve {tid} Fixed the report domain")
    assert task(tid)["stage_id"][1] == "UAT"
    # the guide's "Set Activity to follow up": a To-Do in Odoo for the owner, due when the follow-up is
    [activity] = odoo.call("mail.activity", "search_read", [["res_model", "=", "project.task"], ["res_id", "=", tid]],
                           fields=["summary", "date_deadline", "user_id"])
    assert activity["summary"] == "Follow up with the customer"
    assert activity["date_deadline"] == (desk.clock.now() + timedelta(days=7)).date().isoformat()
    assert activity["user_id"][0] == odoo.user_id(desk.cast.agent.email)

    # no answer from the customer in UAT for 7 days: the follow-up rule closes it
    desk.clock.advance(days=7, minutes=1)
    await desk.runtime.worker.run_once()
    done = task(tid)
    assert done["stage_id"][1] == "Done" and done["state"] == "1_done"
    assert any("no answer from the customer" in m["body"] for m in odoo.messages(tid))

    leads = {user.email for user in desk.server.app[RUNTIME].services.odoo.leads()}
    assert desk.cast.lead.email in leads and desk.cast.agent.email not in leads  # Project: Administrator
