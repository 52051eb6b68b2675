"""What `--demo` adds to the app: whoever tries it is welcome.

The demo's Odoo is the built-in sandbox, seeded with the MindX desk. A Teams user it has no user for is made an
agent of that desk on first contact (`SandboxAgents`), from the name and email address Teams gives for them, and
their command goes on as anybody's would. Where Teams' roster cannot be read for someone, their address is derived
from their AAD object id (`demo_address`), never from their name. Production and --dev refuse such a user
(bot.context.NoNewcomers), and do not confirm anyone the roster cannot be read for.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
from types import MappingProxyType

from bot.demo.seed import add_agent
from bot.process import Action, ProcessProfile, Role
from bot.turn import Person
from odoo_double import OdooSandbox

logger = logging.getLogger(__name__)

DERIVED_DOMAIN = "teams.demo.invalid"  # reserved: no mail is ever delivered there


def demo_address(person: Person) -> str:
    """A stable address for a Teams user Teams gave no email for (a guest, a client without a roster): from their
    Azure AD object id, else their Teams id, hashed (the same person gets the same address at every contact)."""
    key = person.aad_object_id.strip().lower() or person.id
    return f"teams-{hashlib.sha256(key.encode()).hexdigest()[:16]}@{DERIVED_DOMAIN}"


def demo_profile(profile: ProcessProfile) -> ProcessProfile:
    """The profile as the demo runs it: anyone registers channels (a visitor, an agent, sets up their own desk's
    channels: the tour's `/ticket channel dev`); production and --dev keep it for the profile's roles."""
    return dataclasses.replace(profile, roles=MappingProxyType({**profile.roles, Action.REGISTER_CHANNEL: tuple(Role)}))


class SandboxAgents:
    """Newcomers (bot.context.Newcomers) for the demo: an agent of the sandbox Odoo, made on first contact."""

    def __init__(self, sandbox: OdooSandbox) -> None:
        self._sandbox = sandbox

    async def admit(self, person: Person, address: str | None) -> str:
        email = (address or "").strip().lower() or demo_address(person)
        # the check and the creation have no await between them: two first turns at once make one user
        if not any(user["login"] == email for user in self._sandbox.records("res.users")):
            add_agent(self._sandbox, person.name.strip() or email, email)
            logger.warning("demo: a Teams user the sandbox Odoo did not know is now one of its agents")
        return email

    def stand_in(self, person: Person) -> str:
        """Where Teams' roster cannot be read (a guest, a client without a roster): the address derived from the AAD
        object id (`demo_address`), which finds the agent made for them at their first contact."""
        return demo_address(person)
