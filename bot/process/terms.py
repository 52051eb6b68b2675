"""The words of the support process: classes of service, stages, Odoo models, audiences, roles and actions.

Plain enumerations (a profile's YAML spells them by value), shared by the profile (``profile.py``), its schema
(``schema.py``) and the rules over it."""

from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType


class ClassOfService(StrEnum):
    """How a ticket is treated: decides priority, update cadence and who is alerted."""

    STANDARD = "standard"
    PRIORITY = "priority"
    EXPEDITE = "expedite"
    FIXED_DEADLINE = "deadline"


class Stage(StrEnum):
    """The bot's logical lifecycle stages; each profile maps them to the names of real Odoo stages."""

    NEW = "new"
    IN_PROGRESS = "in_progress"
    ON_HOLD = "on_hold"
    WAITING_CUSTOMER = "waiting_customer"
    RESOLVED = "resolved"  # fix applied, waiting for the customer's confirmation
    DONE = "done"
    CANCELLED = "cancelled"


class OdooModel(StrEnum):
    """The Odoo model a process runs on."""

    HELPDESK_TICKET = "helpdesk.ticket"
    PROJECT_TASK = "project.task"

    @property
    def priorities(self) -> tuple[str, ...]:
        """The values of the model's ``priority`` selection, lowest first."""
        if self is OdooModel.PROJECT_TASK:
            return ("0", "1")
        return ("0", "1", "2", "3")


class Audience(StrEnum):
    """Who is alerted about a ticket of a class."""

    OWNER = "owner"
    LEAD = "lead"
    MANAGEMENT = "management"
    ESCALATION = "escalation"
    REQUESTER = "requester"


class FollowUpRule(StrEnum):
    """What happens when a resolved ticket gets no confirmation for ``follow_up_give_up_after``."""

    NAG = "nag"  # keep reminding the owner; only a person closes the ticket
    CLOSE = "close"  # move the ticket to Done and log a note that nobody answered


class KanbanState(StrEnum):
    """The kanban light set when a ticket enters a logical stage (Odoo's kanban_state values)."""

    NORMAL = "normal"  # grey: in progress / not reviewed
    DONE = "done"  # green: ready
    BLOCKED = "blocked"  # red: blocked


class Role(StrEnum):
    """What a person is to the process, from their Odoo groups (``bot/roles.py``): a lead and a manager at once
    may do what either may; an internal user who is neither is an agent."""

    AGENT = "agent"  # any other internal Odoo user
    LEAD = "lead"  # a member of the Odoo model's manager group (Helpdesk Manager, Project Administrator)
    MANAGER = "manager"  # a member of a group the profile names under ``manager_groups``


class Action(StrEnum):
    """Actions a profile can restrict to some roles under ``roles``."""

    CREATE = "create"
    ACKNOWLEDGE = "acknowledge"
    ASSIGN = "assign"
    NOTE = "note"
    UPDATE = "update"
    ESCALATE = "escalate"
    HOLD = "hold"
    RESUME = "resume"
    RESOLVE = "resolve"
    CLOSE = "close"
    CLOSE_FORCE = "close_force"  # close without the customer's confirmation
    REOPEN = "reopen"
    CANCEL = "cancel"
    MERGE = "merge"
    RECLASSIFY = "reclassify"
    REGISTER_CHANNEL = "register_channel"  # register or move the channel a team's posts go to (`/ticket channel`)
    READ_SUMMARY = "read_summary"  # the desk's digest and one ticket's management card (`/ticket summary`)


DEFAULT_ROLES: Mapping[Action, tuple[Role, ...]] = MappingProxyType({
    Action.REGISTER_CHANNEL: (Role.LEAD, Role.MANAGER),  # where escalations and management's cards go
    Action.READ_SUMMARY: (Role.AGENT, Role.LEAD, Role.MANAGER),  # anyone with an Odoo user, nobody without one
})
"""What ``roles`` keeps for some roles when the profile does not list the action (every other action: open to all)."""
