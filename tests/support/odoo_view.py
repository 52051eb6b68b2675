"""Reading what landed in an Odoo the way Odoo answers (many2one as [id, name]...), as its admin: `OdooReads` holds
the reads, `OdooView` reads the double in-process (tests/real_odoo/view.py reads a real server over XML-RPC)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from odoo_double import OdooSandbox

ADMIN_UID = 2


class OdooReads:
    """The reads the tests make; a subclass says how a call reaches Odoo, and may name the model and its fields."""

    model = "helpdesk.ticket"

    def call(self, model: str, method: str, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError

    def _fields(self) -> dict[str, list[str]]:
        """The fields read of a ticket (none named: all of them)."""
        return {}

    def ticket(self, ticket_id: int) -> dict[str, Any]:
        [record] = self.call(self.model, "read", [ticket_id], **self._fields())
        return record  # type: ignore[no-any-return]

    def tickets_named(self, title: str) -> int:
        return int(self.call(self.model, "search_count", [["name", "=", title]]))

    def newest_ticket(self) -> dict[str, Any]:
        [record] = self.call(self.model, "search_read", [], order="id desc", limit=1, **self._fields())
        return record  # type: ignore[no-any-return]

    def messages(self, ticket_id: int, *, subtype: str | None = None) -> list[dict[str, Any]]:
        """Chatter messages posted as comments ('Discussions' for the customer, 'Note' internal)."""
        found: list[dict[str, Any]] = self.call(
            "mail.message", "search_read",
            [["model", "=", self.model], ["res_id", "=", ticket_id], ["message_type", "=", "comment"]],
            fields=["body", "subtype_id", "partner_ids", "message_type", "author_id"], order="id")
        if subtype is not None:
            found = [m for m in found if m["subtype_id"] and m["subtype_id"][1] == subtype]
        return found

    def partner_id(self, email: str) -> int:
        [partner] = self.call("res.partner", "search_read", [["email", "=ilike", email]], fields=["id"])
        return int(partner["id"])

    def user_id(self, email: str) -> int:
        [user] = self.call("res.users", "search_read", [["login", "=ilike", email]], fields=["id"])
        return int(user["id"])


@dataclass
class OdooView(OdooReads):
    odoo: OdooSandbox

    def call(self, model: str, method: str, *args: Any, **kwargs: Any) -> Any:
        return self.odoo.call(ADMIN_UID, model, method, list(args), kwargs)
