"""Who may do what.

A person's roles come from their Odoo groups (`OdooGateway.roles_of`): a member of the Odoo model's manager
group (Helpdesk Manager, Project Administrator) is a lead, a member of a group the process profile names under
`manager_groups` a manager (someone in both is both); every other internal Odoo user is an agent. What each role
may do is the profile's `roles` (action -> roles); an action it does not list is open to all, but for the two
`DEFAULT_ROLES` keeps (registering channels: leads and managers; reading summaries: anyone with an Odoo user).
Someone without an Odoo user holds no role: an action some roles keep is refused to them.

Escalation cards are the one thing not decided by the profile: the escalation team answers from its own channel
(whoever clicks there, with or without an Odoo user: that is the escalation-team member), and leads and managers,
who oversee every team's escalations, may answer from wherever they see the card.

Every refusal says why (what the process keeps for whom, and what the person is) and whom to ask.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import Final

from bot.i18n import N_, either, tr
from bot.lifecycle import NotAllowed
from bot.odoo.gateway import OdooGateway
from bot.process import Action, ProcessProfile, Role
from bot.tickets import OdooUser
from bot.wording import literal

WHAT = {Action.CREATE: N_("logging tickets"), Action.ACKNOWLEDGE: N_("acknowledging"),
        Action.ASSIGN: N_("assigning"), Action.NOTE: N_("adding internal notes"),
        Action.UPDATE: N_("updating the customer"), Action.ESCALATE: N_("escalating"),
        Action.HOLD: N_("putting on hold or waiting for the customer"), Action.RESUME: N_("resuming"),
        Action.RESOLVE: N_("resolving"), Action.CLOSE: N_("closing on the customer's confirmation"),
        Action.CLOSE_FORCE: N_("closing without the customer's confirmation"), Action.REOPEN: N_("reopening"),
        Action.CANCEL: N_("cancelling"), Action.MERGE: N_("merging"),
        Action.RECLASSIFY: N_("changing the class of service"),
        Action.REGISTER_CHANNEL: N_("registering or moving the channel a team's posts go to"),
        Action.READ_SUMMARY: N_("reading the desk's summaries")}
ROLE_NAMES = {Role.LEAD: N_("lead"), Role.AGENT: N_("agent"), Role.MANAGER: N_("manager")}
NOBODY_NAMED = {Role.LEAD: N_("a team lead"), Role.AGENT: N_("any agent"), Role.MANAGER: N_("a manager")}
ANSWER_FROM_ANYWHERE: Final = (Role.LEAD, Role.MANAGER)
"""Who may answer an escalation card outside its team's channel (from their 1:1 chat, the management channel)."""


def check_allowed(profile: ProcessProfile, odoo: OdooGateway, user: OdooUser | None, action: Action | None) -> None:
    """Raise NotAllowed, saying why and whom to ask, when the profile keeps `action` for roles `user` does not hold
    (None: someone without an Odoo user, who holds none)."""
    allowed = profile.roles.get(action) if action else None
    held = odoo.roles_of(user.id) if user is not None else set()
    if action is None or not allowed or any(role in allowed for role in held):
        return
    why = tr("In the {process} process, {what} is for: {roles} (you are: {yours}). Ask {whom}.",
             process=profile.title, what=tr(WHAT[action]), roles=_names(allowed),
             yours=_names(role for role in Role if role in held) if user is not None else tr("no Odoo user"),
             whom=whom_to_ask(odoo, allowed))
    if user is None:
        why += " " + tr(NO_ODOO_USER)
    raise NotAllowed(why)


def whom_to_ask(odoo: OdooGateway, roles: Collection[Role]) -> str:
    """The leads and managers among `roles` by name (agents are too many to name), `any agent` if agents may;
    a role nobody holds in Odoo yet is named by what it is. Names are Odoo's, shown as written (`literal`)."""
    people: list[str] = []
    for role in (Role.LEAD, Role.MANAGER, Role.AGENT):
        if role in roles:
            named = [literal(user.name) for user in odoo.members(role)] if role is not Role.AGENT else []
            people += [name for name in named if name not in people] or [tr(NOBODY_NAMED[role])]
    return either(people)


def may_answer_from_anywhere(odoo: OdooGateway, user_id: int | None) -> bool:
    """Whether the Odoo user (None: not known to the bot) may answer an escalation card outside its team's channel."""
    return user_id is not None and any(role in ANSWER_FROM_ANYWHERE for role in odoo.roles_of(user_id))


NO_ODOO_USER = N_("I can't find an Odoo user with your Teams email address: if you are one of them, ask your Odoo "
                  "administrator to give your Odoo user the same email address as your Teams account.")


def answer_refused(odoo: OdooGateway, team: str, *, known: bool) -> str:
    """Why a click on an escalation card from outside its team's channel is refused; `known`: whether the clicker
    has an Odoo user (found by the email Teams gives: a lead or a manager without one is told what to fix)."""
    why = tr("Only the {team}'s channel can answer this escalation; elsewhere only a team lead or a manager may "
             "({whom}).", team=team, whom=whom_to_ask(odoo, ANSWER_FROM_ANYWHERE))
    if known:
        return why
    return why + " " + tr(NO_ODOO_USER)


def _names(roles: Iterable[Role]) -> str:
    return ", ".join(tr(ROLE_NAMES[role]) for role in roles)

