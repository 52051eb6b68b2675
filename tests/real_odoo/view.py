"""What landed in a real Odoo, read as its admin over XML-RPC (the reads of tests/support/odoo_view.py, which
reads the double the same way), and the people of a test run: real Odoo users whose e-mail is their Teams roster
e-mail."""

from __future__ import annotations

import xmlrpc.client
from dataclasses import dataclass, field
from typing import Any

from tests.support.odoo_view import OdooReads
from tests.support.teams import TeamsUser

ADMIN_UID = 2
TICKET_FIELDS = ["name", "number", "description", "stage_id", "priority", "partner_id", "user_id", "tag_ids",
                 "closed", "kanban_state", "create_date", "write_date"]
TASK_FIELDS = ["name", "description", "stage_id", "priority", "partner_id", "user_ids", "tag_ids", "state",
               "date_deadline", "project_id", "create_date", "write_date"]


@dataclass
class RealOdooView(OdooReads):
    url: str
    db: str
    api_key: str = field(repr=False)
    model: str = "helpdesk.ticket"
    _proxy: xmlrpc.client.ServerProxy = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._proxy = xmlrpc.client.ServerProxy(f"{self.url}/xmlrpc/2/object", allow_none=True)

    def call(self, model: str, method: str, *args: Any, **kwargs: Any) -> Any:
        return self._proxy.execute_kw(self.db, ADMIN_UID, self.api_key, model, method, list(args), kwargs)

    def _fields(self) -> dict[str, list[str]]:
        return {"fields": TICKET_FIELDS if self.model == "helpdesk.ticket" else TASK_FIELDS}

    def group(self, xmlid: str) -> int | None:
        module, _, name = xmlid.partition(".")
        rows = self.call("ir.model.data", "search_read", [["module", "=", module], ["name", "=", name]],
                         fields=["res_id"])
        return int(rows[0]["res_id"]) if rows else None

    def groups_field(self) -> str:
        """res.users' field of the groups set on a user: group_ids on Odoo 19, groups_id before."""
        return "group_ids" if "group_ids" in self.call("res.users", "fields_get", ["group_ids"]) else "groups_id"

    def user(self, person: TeamsUser, groups: list[str]) -> int:
        """A real internal user for `person` (login and e-mail: their roster e-mail) in the groups (xml ids; those
        this Odoo lacks are left out)."""
        ids = [gid for xmlid in ["base.group_user", *groups] if (gid := self.group(xmlid)) is not None]
        found = self.call("res.users", "search", [["login", "=", person.email]])
        if found:
            return int(found[0])
        return int(self.call("res.users", "create", {"name": person.name, "login": person.email,
                                                     "email": person.email, self.groups_field(): [(6, 0, ids)]}))


@dataclass(frozen=True)
class Cast:
    """The people of one test run in one database: each a Teams user with a real Odoo user of the same e-mail."""

    agent: TeamsUser
    lead: TeamsUser
    manager: TeamsUser
    colleague: TeamsUser  # another agent

    def everyone(self) -> tuple[TeamsUser, ...]:
        return self.agent, self.lead, self.manager, self.colleague


def cast(view: RealOdooView, run: str, *, user_group: str, lead_group: str, manager_groups: tuple[str, ...]) -> Cast:
    """The run's people, made in Odoo (their logins carry `run`: a database that outlives runs never mixes them)."""
    people = Cast(TeamsUser(f"29:agent-huy-{run}", "Phạm Quốc Huy", f"huy.pq+{run}@mindx.edu.vn"),
                  TeamsUser(f"29:lead-lan-{run}", "Trần Thị Lan", f"lan.tt+{run}@mindx.edu.vn"),
                  TeamsUser(f"29:manager-trang-{run}", "Hoàng Thu Trang", f"trang.ht+{run}@mindx.edu.vn"),
                  TeamsUser(f"29:agent-tien-{run}", "Đỗ Doãn Tiến", f"tien.dd+{run}@mindx.edu.vn"))
    view.user(people.agent, [user_group])
    view.user(people.lead, [lead_group])
    view.user(people.manager, [user_group, *manager_groups])
    view.user(people.colleague, [user_group])
    return people
