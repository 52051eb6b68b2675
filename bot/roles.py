"""Who may do what: the process profile's `roles` (action -> roles), and each person's role from
Odoo (a member of the model's manager group is a lead; any other internal user an agent)."""

from __future__ import annotations

from bot.lifecycle import NotAllowed
from bot.odoo.gateway import OdooGateway
from bot.process import Action, ProcessProfile, Role
from bot.tickets import OdooUser

WHAT = {Action.CLOSE_FORCE: "closing without the customer's confirmation", Action.CANCEL: "cancelling",
        Action.MERGE: "merging", Action.RECLASSIFY: "changing the class of service", Action.REOPEN: "reopening",
        Action.ESCALATE: "escalating", Action.ACKNOWLEDGE: "acknowledging", Action.RESOLVE: "resolving",
        Action.HOLD: "putting on hold", Action.ASSIGN: "assigning"}


def role_of(odoo: OdooGateway, user: OdooUser) -> Role:
    return Role.LEAD if odoo.is_lead(user.id) else Role.AGENT


def check_allowed(profile: ProcessProfile, odoo: OdooGateway, user: OdooUser, action: Action | None) -> None:
    """Raise NotAllowed, saying who may, when the profile keeps `action` for other roles."""
    allowed = profile.roles.get(action) if action else None
    if action is None or not allowed or role_of(odoo, user) in allowed:
        return
    leads = ", ".join(lead.name for lead in odoo.leads()) or "a team lead"
    raise NotAllowed(f"In the {profile.title} process, {WHAT.get(action, action.value)} is for: "
                     f"{', '.join(role.value for role in allowed)}. Ask {leads}.")
