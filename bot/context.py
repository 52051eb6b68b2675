"""The explicit context a handler receives: the turn, the services, who is asking, and what for (the command the
router found for the turn, and its request)."""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, Protocol, TypeVar
from zoneinfo import ZoneInfo

from bot.changes import TicketChanged
from bot.deliveries import Claim, Deliveries
from bot.gitlab import GitLab
from bot.i18n import speaking
from bot.insights.similar import SimilarTickets
from bot.odoo.gateway import OdooGateway
from bot.outbox import Outbox
from bot.parsing import Arguments
from bot.payloads import CardPayload
from bot.posts import Post, Render
from bot.process import Action, ProcessProfile
from bot.store import References, Store
from bot.tickets import OdooUser
from bot.timers import TimerEngine
from bot.turn import Incoming, Person, Reply, TeamsChannel

logger = logging.getLogger(__name__)
T = TypeVar("T")
P = TypeVar("P")


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


Follower = Callable[["Services", TicketChanged], Awaitable[bool]]
"""Hears that a ticket changed (`Services.ticket_changed`) and shows it (management's card: bot.management);
True when it shows the ticket as it now stands. Never raises: a failure is its own to log."""


@dataclass(frozen=True)
class Services:
    """What the handlers and the features work with, wired by bot.server: Odoo, Redis, the timers, posting, the
    process, the clock, who follows a ticket's changes, and GitLab when it is configured. No feature's store: each
    feature makes its own from these (as `EscalationStore(services.store)`), so this module imports no feature."""

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
    render: Render  # the one renderer of what the bot posts (cards.posts.render): no feature builds a card
    newcomers: Newcomers = field(default_factory=NoNewcomers)  # a Teams user with no Odoo user: refused
    tenants: frozenset[str] = frozenset()  # the Microsoft 365 tenants served (bot.tenants); empty: any (dev, demo)
    followers: Mapping[str, Follower] = field(default_factory=dict)  # who hears a ticket changed, by name (bot.server)
    gitlab: GitLab | None = None  # where `/ticket gitlab` files issues; None: GitLab is not configured
    similar: SimilarTickets = field(default_factory=SimilarTickets)  # resolved tickets, in this replica's memory

    async def ticket_changed(self, change: TicketChanged) -> set[str]:
        """Tell every follower that a ticket changed; the names of those that show it as it now stands (management:
        its card is in the channel). Never raises (nor do they): a command is never refused because a follower
        could not be told."""
        return {name for name, follower in self.followers.items() if await follower(self, change)}

    async def in_channel_language(self, build: Callable[[], T | Awaitable[T]]) -> T:
        """What `build` makes (a post whose data is said in words, e.g. masked text), in the channels' language (the
        profile's `language`), whatever the turn that caused it speaks: a channel is read by the whole team. Every
        post in a channel is drawn in it (the methods below)."""
        with speaking(self.profile.language):
            built = build()
            return await built if inspect.isawaitable(built) else built

    def draw(self, post: Post, *, tz: ZoneInfo | None = None) -> Reply:
        """`post` as its card (`render`), in the language being spoken, its times in `tz` (the team's by default), as
        of now."""
        return self.render(post, tz=tz or self.timezone, now=self.clock())

    async def post_to_channel(self, name: str, post: Post) -> bool:
        """Post `post` in the channel registered for `name` (support, management, a team), in the channel's
        language; False when no channel is registered."""
        reference = await self.references.channel(name)
        if reference is None:
            logger.warning("no %s channel registered: a message for it was not posted", name)
            return False
        await self.send_to_channel(reference, post)
        return True

    async def send_to_channel(self, reference: dict[str, Any], post: Post) -> str:
        """Post `post` in the channel `reference` points to, in the channel's language: its activity id (to redraw it
        in place)."""
        return await self.outbound.send_to(reference, await self.in_channel_language(lambda: self.draw(post)))

    async def update_in_channel(self, reference: dict[str, Any], activity_id: str, post: Post) -> str:
        """Redraw a post of the bot's in the channel `reference` points to as `post`, in the channel's language."""
        return await self.outbound.update_in(reference, activity_id,
                                             await self.in_channel_language(lambda: self.draw(post)))

    async def send_to_person(self, odoo_user_id: int, reference: dict[str, Any], post: Post) -> str:
        """Post `post` in a person's 1:1 chat with the bot (`reference`), in their language and time zone as their
        last message to the bot said them (else the team's: the profile's language, the default zone)."""
        tz = await self.references.timezone(odoo_user_id) or self.timezone
        with speaking(await self.references.locale(odoo_user_id) or self.profile.language):
            reply = self.draw(post, tz=tz)
        return await self.outbound.send_to(reference, reply)


@dataclass
class Ctx:
    """One turn, as the pipeline's steps and the handler see it: what came in, the services, and what the steps
    found (what is asked, by whom)."""

    incoming: Incoming
    teams: TeamsChannel
    services: Services
    correlation_id: str
    asked: Asked | None = None  # what the turn asks for: found by the first of the command's steps (Router.resolve)
    user: OdooUser | None = None  # who is asking, in Odoo: found by the `identify` step (bot.bot)
    again: bool = False  # it may have run before (kept and replayed, re-delivered after a crash)
    claim: Claim | None = None  # its activity claimed already: a lapsed turn a sweeper took over (bot.lapsed)

    @property
    def command(self) -> Command:
        """The command the turn asks for, read by the steps after the router's `resolve`."""
        return self._asked().command

    @property
    def request(self) -> Request[Any]:
        return self._asked().request

    def _asked(self) -> Asked:
        if self.asked is None:
            raise RuntimeError("the turn's command is read before the router resolved it")
        return self.asked

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


@dataclass(frozen=True)
class Request(Generic[P]):
    """A parsed command: what the handler works from, whether typed or sent from a form (then `payload` is None),
    or a card's button, whose data the router parsed into the model the button registered (`payload`)."""

    name: str  # the command's, or the button's verb
    args: Arguments
    body: str  # the lines after the first (descriptions, long notes)
    payload: P


HandlerResult = Reply | Sequence[Reply]
Handler = Callable[[Ctx, Request[Any]], Awaitable[HandlerResult]]


@dataclass(frozen=True)
class Command:
    """A command (or a card's button), as the router registered it: its handler, and what the turn's steps check
    before running it (bot.bot.build_router)."""

    name: str
    usage: str
    handler: Handler
    options: frozenset[str]
    aliases: tuple[str, ...] = ()
    needs_user: bool = True  # False: works for people not mapped to an Odoo user (help)
    changes: bool = True  # False: only reads; when Odoo is down a change is kept in the outbox, a read is not
    action: Action | None = None  # what the process profile's `roles` may restrict
    payload: type[CardPayload] | None = None  # a button's: the model of its data
    reads: Callable[[Request[Any]], bool] | None = None  # a command that changes: which of its requests only read

    def changes_with(self, request: Request[Any]) -> bool:
        """Whether this request changes Odoo (kept in the outbox while Odoo is down) or only reads."""
        return self.changes and not (self.reads is not None and self.reads(request))

    @property
    def doc(self) -> str:
        return inspect.cleandoc(self.handler.__doc__ or "")

    @property
    def paragraphs(self) -> list[str]:
        return help_paragraphs(self.doc)

    @property
    def summary(self) -> str:
        return self.paragraphs[0]


def help_paragraphs(doc: str) -> list[str]:
    """A help text's paragraphs, each on one line: the keys its translations are kept under."""
    return [paragraph.replace("\n", " ") for paragraph in doc.split("\n\n")]


@dataclass(frozen=True)
class Asked:
    """What a turn asks for, as the router found it: the command (or button), and its request."""

    command: Command
    request: Request[Any]
