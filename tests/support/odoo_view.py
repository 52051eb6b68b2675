"""Reading what landed in the Odoo double the way Odoo answers (many2one as [id, name]...)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.odoo.sandbox import OdooSandbox

ADMIN_UID = 2


@dataclass
class OdooView:
    odoo: OdooSandbox

    def call(self, model: str, method: str, *args: Any, **kwargs: Any) -> Any:
        return self.odoo.call(ADMIN_UID, model, method, list(args), kwargs)

    def ticket(self, ticket_id: int) -> dict[str, Any]:
        [record] = self.call("helpdesk.ticket", "read", [ticket_id])
        return record

    def newest_ticket(self) -> dict[str, Any]:
        [record] = self.call("helpdesk.ticket", "search_read", [], order="id desc", limit=1)
        return record

    def messages(self, ticket_id: int, *, subtype: str | None = None) -> list[dict[str, Any]]:
        """Chatter messages posted as comments ('Discussions' for the customer, 'Note' internal)."""
        found = self.call("mail.message", "search_read",
                          [["model", "=", "helpdesk.ticket"], ["res_id", "=", ticket_id],
                           ["message_type", "=", "comment"]],
                          fields=["body", "subtype_id", "partner_ids", "message_type"], order="id")
        if subtype is not None:
            found = [m for m in found if m["subtype_id"] and m["subtype_id"][1] == subtype]
        return found

    def partner_id(self, email: str) -> int:
        [partner] = self.call("res.partner", "search_read", [["email", "=ilike", email]], fields=["id"])
        return int(partner["id"])

    def user_id(self, email: str) -> int:
        [user] = self.call("res.users", "search_read", [["login", "=ilike", email]], fields=["id"])
        return int(user["id"])
