"""The explicit context a handler receives: the turn, the services, and who is asking."""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, TypeVar
from zoneinfo import ZoneInfo

from bot.changes import TicketChanged
from bot.deliveries import Claim, Deliveries
from bot.i18n import speaking
from bot.odoo.gateway import OdooGateway
from bot.outbox import Outbox
from bot.process import ProcessProfile
from bot.store import References, Store
from bot.tickets import OdooUser
from bot.timers import TimerEngine
from bot.turn import Incoming, Person, Reply, TeamsChannel

logger = logging.getLogger(__name__)
T = TypeVar("T")


class Poster(Protocol):
    """Posts on the bot's own initiative (within Teams' limits): `bot.notify.Outbound`."""

    async def send_to(self, reference: dict[str, Any], reply: Reply) -> str: ...

    async def update_in(self, reference: dict[str, Any], activity_id: str, reply: Reply) -> str: ...


class Newcomers(Protocol):
    """What becomes of a Teams user Odoo has no user for (bot.people). Production and --dev admit nobody
    (`NoNewcomers`: they are told to ask their Odoo administrator); the demo makes them an agent of its sandbox Odoo
    (bot.demo)."""

    async def admit(self, person: Person, address: str | None) -> str | None:
        """The email address of the Odoo user made for `person` (`address`: the one Teams gave for them, None when
        it gave none), or None: not admitted."""
        ...

    def stand_in(self, person: Person) -> str | None:
        """The address that stands for `person` when Teams' roster cannot be read, or None: they cannot be confirmed
        (production and --dev). Never from a display name."""
        ...


class NoNewcomers:
    """A Teams user with no Odoo user stays without one: they are refused, saying what to do; one Teams' roster
    cannot be read for is not confirmed."""

    async def admit(self, person: Person, address: str | None) -> str | None:
        return None

    def stand_in(self, person: Person) -> str | None:
        return None


ReplyBuilder = Callable[[], Reply | Awaitable[Reply]]
"""Builds what the bot says in a channel, with `tr`, in whatever language is being spoken when it is called."""

Follower = Callable[["Services", TicketChanged], Awaitable[bool]]
"""Hears that a ticket changed (`Services.ticket_changed`) and shows it (management's card: bot.management);
True when it shows the ticket as it now stands. Never raises: a failure is its own to log."""


@dataclass(frozen=True)
class Services:
    """What the handlers and the features work with, wired by bot.server: Odoo, Redis, the timers, posting, the
    process, the clock, and who follows a ticket's changes. No feature's store: each feature makes its own from
    these (as `EscalationStore(services.store)`), so this module imports no feature."""

    odoo: OdooGateway
    store: Store
    references: References
    timers: TimerEngine  # every feature's timers (reminders, escalations, management's), each kind its handler's
    outbox: Outbox
    deliveries: Deliveries
    outbound: Poster
    profile: ProcessProfile
    clock: Callable[[], datetime]
    timezone: ZoneInfo  # the team's default; a user's own Teams timezone wins when Teams sends it
    newcomers: Newcomers = field(default_factory=NoNewcomers)  # a Teams user with no Odoo user: refused
    tenants: frozenset[str] = frozenset()  # the Microsoft 365 tenants served (bot.tenants); empty: any (dev, demo)
    followers: Mapping[str, Follower] = field(default_factory=dict)  # who hears a ticket changed, by name (bot.server)

    async def ticket_changed(self, change: TicketChanged) -> set[str]:
        """Tell every follower that a ticket changed; the names of those that show it as it now stands (management:
        its card is in the channel). Never raises (nor do they): a command is never refused because a follower
        could not be told."""
        return {name for name, follower in self.followers.items() if await follower(self, change)}

    async def in_channel_language(self, build: Callable[[], T | Awaitable[T]]) -> T:
        """What `build` makes (a reply, or what a reply is drawn from, e.g. masked text), in the channels' language
        (the profile's `language`), whatever the turn that caused it speaks: a channel is read by the whole team.
        Every post in a channel is built through here (the three methods below)."""
        with speaking(self.profile.language):
            built = build()
            return await built if inspect.isawaitable(built) else built

    async def post_to_channel(self, name: str, build: ReplyBuilder) -> bool:
        """Post in the channel registered for `name` (support, management, a team) what `build` says, in the
        channel's language; False when no channel is registered."""
        reference = await self.references.channel(name)
        if reference is None:
            logger.warning("no %s channel registered: a message for it was not posted", name)
            return False
        await self.send_to_channel(reference, build)
        return True

    async def send_to_channel(self, reference: dict[str, Any], build: ReplyBuilder) -> str:
        """Post in the channel `reference` points to what `build` says, in the channel's language: its activity id
        (to redraw it in place)."""
        return await self.outbound.send_to(reference, await self.in_channel_language(build))

    async def update_in_channel(self, reference: dict[str, Any], activity_id: str, build: ReplyBuilder) -> str:
        """Redraw a post of the bot's in the channel `reference` points to with what `build` says, in the channel's
        language."""
        return await self.outbound.update_in(reference, activity_id, await self.in_channel_language(build))


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
