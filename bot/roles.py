"""Who may do what: the process profile's `roles` (action -> roles), and each person's role from
Odoo (a member of the model's manager group is a lead; any other internal user an agent)."""

from __future__ import annotations

from bot.i18n import N_, tr
from bot.lifecycle import NotAllowed
from bot.odoo.gateway import OdooGateway
from bot.process import Action, ProcessProfile, Role
from bot.tickets import OdooUser

WHAT = {Action.CLOSE_FORCE: N_("closing without the customer's confirmation"), Action.CANCEL: N_("cancelling"),
        Action.MERGE: N_("merging"), Action.RECLASSIFY: N_("changing the class of service"),
        Action.REOPEN: N_("reopening"), Action.ESCALATE: N_("escalating"), Action.ACKNOWLEDGE: N_("acknowledging"),
        Action.RESOLVE: N_("resolving"), Action.HOLD: N_("putting on hold"), Action.ASSIGN: N_("assigning")}
ROLE_NAMES = {Role.LEAD: N_("lead"), Role.AGENT: N_("agent"), Role.MANAGER: N_("manager")}


def role_of(odoo: OdooGateway, user: OdooUser) -> Role:
    return Role.LEAD if odoo.is_lead(user.id) else Role.AGENT


def check_allowed(profile: ProcessProfile, odoo: OdooGateway, user: OdooUser, action: Action | None) -> None:
    """Raise NotAllowed, saying who may, when the profile keeps `action` for other roles."""
    allowed = profile.roles.get(action) if action else None
    if action is None or not allowed or role_of(odoo, user) in allowed:
        return
    leads = ", ".join(lead.name for lead in odoo.leads()) or tr("a team lead")
    what = WHAT.get(action, action.value)
    names = [ROLE_NAMES.get(role, role.value) for role in allowed]
    raise NotAllowed(tr("In the {process} process, {what} is for: {roles}. Ask {leads}.", process=profile.title,
                        what=tr(what), roles=", ".join(tr(name) for name in names), leads=leads))
