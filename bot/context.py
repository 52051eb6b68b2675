"""The explicit context a handler receives: the turn, the services, and who is asking."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from bot.deliveries import Claim, Deliveries
from bot.escalation.store import EscalationStore
from bot.odoo.gateway import OdooGateway
from bot.outbox import Outbox
from bot.process import ProcessProfile
from bot.reminders.service import Reminders
from bot.store import References, Store
from bot.tickets import OdooUser
from bot.turn import Incoming, Reply, TeamsChannel

logger = logging.getLogger(__name__)


class Poster(Protocol):
    """Posts on the bot's own initiative (within Teams' limits): `bot.notify.Outbound`."""

    async def send_to(self, reference: dict[str, Any], reply: Reply) -> str: ...

    async def update_in(self, reference: dict[str, Any], activity_id: str, reply: Reply) -> str: ...


@dataclass(frozen=True)
class Services:
    odoo: OdooGateway
    store: Store
    references: References
    reminders: Reminders
    escalations: EscalationStore
    outbox: Outbox
    deliveries: Deliveries
    outbound: Poster
    profile: ProcessProfile
    clock: Callable[[], datetime]
    timezone: ZoneInfo  # the team's default; a user's own Teams timezone wins when Teams sends it

    async def post_to_channel(self, name: str, reply: Reply) -> bool:
        """Post in the channel registered for `name` (support, management, a team); False when none is."""
        reference = await self.references.channel(name)
        if reference is None:
            logger.warning("no %s channel registered: a message for it was not posted", name)
            return False
        await self.outbound.send_to(reference, reply)
        return True


@dataclass
class Ctx:
    incoming: Incoming
    teams: TeamsChannel
    services: Services
    correlation_id: str
    user: OdooUser | None = None  # set by the user-mapping middleware
    again: bool = False  # it may have run before (kept and replayed, re-delivered after a crash)
    claim: Claim | None = None  # its activity claimed already: a lapsed turn a sweeper took over (bot.lapsed)

    @property
    def odoo(self) -> OdooGateway:
        return self.services.odoo

    @property
    def profile(self) -> ProcessProfile:
        return self.services.profile

    def now(self) -> datetime:
        return self.services.clock()

    @property
    def tz(self) -> ZoneInfo:
        if self.incoming.timezone:
            try:
                return ZoneInfo(self.incoming.timezone)
            except (KeyError, ValueError):
                pass
        return self.services.timezone

    @property
    def actor(self) -> str:
        """Who did it, as the chatter names them."""
        return self.user.name if self.user else (self.incoming.sender.name or "Someone in Teams")
