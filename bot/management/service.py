"""Management hears of incidents in the management channel: one card per ticket, updated in place, and a
periodic digest of the desk.

`follow(services, change)` runs after anything happens to a ticket (a command, an escalation and its answers, a
change seen in Odoo, a reminder), told to it as the management channel's follower (`Services.ticket_changed`). A
ticket that deserves management's attention (its class alerts management, or a Priority ticket past the profile's
threshold) gets its card posted once; the card's activity id is kept in Redis and every later change redraws that
same card, up to the closing summary. The card is rebuilt from the ticket's own history in Odoo (two calls), so it
never disagrees with the chatter. Management's cards never make a command fail: a problem is logged, and the next
change redraws the card.

When the escalation chain reaches the management team itself, the card is where management answers it
(Acknowledge, Decline: `bot.escalation.service`, `on_incident_card`), so the ticket gets its card then whatever
its class (`Trigger.ESCALATED`): management sees each incident once, with the question on it.

The digest is a timer ("digest", "management") in the bot's Redis timer engine (`Services.timers`): claimed by one
replica at a time, marked as posted per due time (so a claim delivered again after its lease does not
post twice), and rescheduled by itself from the profile's `management.digest`.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from datetime import datetime

from redis.exceptions import RedisError

from bot.changes import TicketChanged
from bot.channels import MANAGEMENT_CHANNEL
from bot.context import Services
from bot.management.digest import Digest, Window, build_digest
from bot.management.model import IncidentSummary, Trigger, open_for_due, summarise, trigger
from bot.management.posts import DigestPost, IncidentPost
from bot.odoo.errors import OdooError
from bot.odoo.gateway import TicketNotFound
from bot.parsing import TicketRef
from bot.reminders.policy import Kind
from bot.reminders.posted import FiringPosts
from bot.store import Atomic, beside, redis_result
from bot.tickets import Ticket
from bot.timers import MAX_ATTEMPTS, Timer, TimerKinds
from bot.turn import SendFailed, reference_root_id

logger = logging.getLogger(__name__)

TIMER_KIND = "management"  # a Priority ticket reaching the profile's `open_for` threshold
DIGEST_KIND = "digest"
DIGEST_KEY = "management"
CARD_TTL_SECONDS = 90 * 24 * 3600  # a card is still redrawn if its ticket is reopened within this
POSTING_SECONDS = 60  # one turn or replica posts a ticket's first card; the others wait for the next change
DIGEST_TICKETS = 500  # read for one digest (two Odoo calls whatever the number); past it the card says so
timers: TimerKinds[Services] = TimerKinds()


@dataclass(frozen=True)
class PostedCard:
    conversation_id: str
    activity_id: str
    fingerprint: str
    trigger: Trigger | None


class IncidentCards:
    """Where each ticket's management card was posted (Redis hash per ticket)."""

    def __init__(self, services: Services) -> None:
        self._redis = services.store.redis
        self._key = lambda ticket_id: services.store.key("management", "card", str(ticket_id))
        # the claim to post it, in the card's hash slot (`posted` clears it with the card, atomically)
        self._posting = lambda ticket_id: beside(self._key(ticket_id), "posting")
        self._atomic = Atomic(self._redis)

    async def get(self, ticket_id: int) -> PostedCard | None:
        raw = await redis_result(self._redis.hgetall(self._key(ticket_id)))
        if not raw or not raw.get("activity_id"):
            return None
        return PostedCard(raw.get("conversation_id", ""), raw["activity_id"], raw.get("fingerprint", ""),
                          Trigger(raw["trigger"]) if raw.get("trigger") else None)

    async def claim(self, ticket_id: int) -> bool:
        """The right to post the ticket's first card (for POSTING_SECONDS)."""
        return bool(await self._redis.set(self._posting(ticket_id), "1", nx=True, ex=POSTING_SECONDS))

    async def release(self, ticket_id: int) -> None:
        await self._redis.delete(self._posting(ticket_id))

    async def posted(self, ticket_id: int, card: PostedCard) -> None:
        key = self._key(ticket_id)
        await self._atomic([("HSET", key, "conversation_id", card.conversation_id, "activity_id", card.activity_id,
                             "fingerprint", card.fingerprint, "trigger", card.trigger.value if card.trigger else ""),
                            ("EXPIRE", key, CARD_TTL_SECONDS), ("DEL", self._posting(ticket_id))])


async def summary_of(services: Services, ticket: TicketRef | int, *, remembered: Trigger | None = None,
                     missed: datetime | None = None) -> IncidentSummary:
    """The management view of a ticket as it stands: its history from Odoo (two calls) and its next update
    (the pending reminder's; `missed`: the update that is overdue, while its reminder is being sent).
    `remembered`: why its card was posted, kept when the ticket no longer qualifies (e.g. downgraded)."""
    history = await services.odoo.history(ticket)
    now = services.clock()
    pending = await services.timers.get_all(str(history.ticket.id), [Kind.UPDATE, Kind.ACK])
    due = pending[Kind.UPDATE] or pending[Kind.ACK]
    return summarise(history, services.profile, now=now, next_update=missed or (due.due if due else None),
                     trigger=trigger(history.ticket, services.profile, now) or remembered)


async def follow(services: Services, change: TicketChanged) -> bool:
    """After anything happened to a ticket: its management card posted or redrawn, when it deserves one
    (`change.missed`: an update the owner missed, shown as overdue; `change.asked`: it was escalated to the
    management team itself, which answers on this card, so it deserves one whatever its class). True when the card
    is in the channel as the ticket stands. Never raises (a failure is logged, and the next change redraws the
    card): a command is never refused because management could not be told."""
    ticket = change.ticket
    try:
        return await _follow(services, ticket, change.missed, change.asked)
    except (OdooError, SendFailed, RedisError) as error:
        logger.warning("management card for ticket %s not updated (%s: %s)", ticket.id, type(error).__name__, error)
    except Exception:
        logger.exception("management card for ticket %s not updated", ticket.id)
    return False


async def _follow(services: Services, ticket: Ticket, missed: datetime | None, asked: bool) -> bool:
    now = services.clock()
    cards = IncidentCards(services)
    posted = await cards.get(ticket.id)
    why = trigger(ticket, services.profile, now) or (Trigger.ESCALATED if asked else None)
    remembered = (posted.trigger if posted else None) or why
    if why is None:
        await _plan_open_for(services, ticket, now)
        if posted is None:
            return False
    reference = await services.references.channel(MANAGEMENT_CHANNEL)
    if reference is None:
        logger.warning("no management channel registered: ticket %s's card was not posted", ticket.id)
        return False
    conversation = reference_root_id(reference)

    async def summary() -> IncidentSummary:  # in the channel's language, masks included
        return await summary_of(services, ticket.id, remembered=remembered, missed=missed)

    post = IncidentPost(await services.in_channel_language(summary))  # read once: posted, redrawn, or left unchanged
    shown = post.summary.trigger
    # the card as the channel reads it, to tell whether it changed (its times too: "overdue" comes with the clock)
    fingerprint = _fingerprint(await services.in_channel_language(lambda: services.draw(post).card))
    if posted is not None and posted.conversation_id == conversation:
        if posted.fingerprint != fingerprint:
            await services.update_in_channel(reference, posted.activity_id, post)
            await cards.posted(ticket.id, PostedCard(conversation, posted.activity_id, fingerprint, shown))
        return True
    if not await cards.claim(ticket.id):
        return False  # being posted right now by another turn or replica
    try:
        activity_id = await services.send_to_channel(reference, post)
    except BaseException:
        # Not posted, or (an ambiguous answer) maybe posted without an id to redraw: the next change posts
        # the card as it stands then; an incident management cannot see is worse than a card twice.
        await cards.release(ticket.id)
        raise
    await cards.posted(ticket.id, PostedCard(conversation, activity_id, fingerprint, shown))
    logger.info("management card for ticket %s posted", ticket.id)
    return True


async def card_as_it_stands(services: Services, ticket_id: int, *, notice: str = "") -> IncidentPost:
    """The ticket's incident card as it stands, in the language being spoken: what someone who answered the
    escalation on it sees (`notice`: why their click changed nothing; bot.handlers.escalation hands it to the
    escalation's answer); the channel's copy is redrawn by `follow`."""
    posted = await IncidentCards(services).get(ticket_id)
    summary = await summary_of(services, ticket_id, remembered=posted.trigger if posted else Trigger.ESCALATED)
    return IncidentPost(summary, notice=notice)


async def _plan_open_for(services: Services, ticket: Ticket, now: datetime) -> None:
    """A Priority ticket gets a timer for the moment it passes `open_for` (it may be resolved by then)."""
    due = open_for_due(ticket, services.profile)
    if due is not None and due > now and not ticket.closed:
        await services.timers.schedule(TIMER_KIND, str(ticket.id), due)


def _fingerprint(card: dict[str, object] | None) -> str:
    return hashlib.sha256(json.dumps(card, sort_keys=True).encode()).hexdigest()[:32]


@timers.on(TIMER_KIND)
async def on_timer(services: Services, timer: Timer) -> None:
    """A Priority ticket reached the profile's `open_for`: management hears of it if it is still unresolved."""
    try:
        ticket = await services.odoo.ticket(int(timer.key))
    except TicketNotFound:
        return
    await follow(services, TicketChanged(ticket))


# ---- the digest ---------------------------------------------------------------------------------

async def desk_digest(services: Services, window: Window) -> Digest:
    """The digest of a window: the open tickets and those logged or closed in it, in two Odoo calls."""
    histories = await services.odoo.desk_histories(window.start, limit=DIGEST_TICKETS)
    return build_digest(histories, services.profile, window, now=services.clock(),
                        capped=len(histories) >= DIGEST_TICKETS)


async def ensure_digest(services: Services) -> datetime | None:
    """At start-up, and after Redis lost its data (`bot.server.rebuild`): the digest timer pending, at the profile's
    schedule. Every replica may call it: a pending digest at the same schedule is kept (a late one still fires), a
    changed schedule replaces it."""
    schedule = services.profile.management.digest
    engine = services.timers
    if schedule is None:
        await engine.cancel(DIGEST_KIND, DIGEST_KEY)
        return None
    wanted = {"schedule": schedule.describe(), "timezone": services.timezone.key}
    pending = await engine.get(DIGEST_KIND, DIGEST_KEY)
    if pending is not None and dict(pending.data) == wanted:
        return pending.due
    due = schedule.next_after(services.clock(), services.timezone)
    await engine.schedule(DIGEST_KIND, DIGEST_KEY, due, wanted)
    return due


@timers.on(DIGEST_KIND)
async def on_digest(services: Services, timer: Timer) -> None:
    """The digest is due: post it once for this due time (like every post a timer makes: `FiringPosts`),
    then schedule the next one."""
    schedule = services.profile.management.digest
    if schedule is None:
        return
    posts = FiringPosts(services.store, timer)
    await posts.post(MANAGEMENT_CHANNEL, lambda: post_digest(
        services, Window(schedule.every.value, timer.due - schedule.period, timer.due)))
    if posts.failures and timer.attempt < MAX_ATTEMPTS:
        posts.raise_failure()  # not posted: the timer's next attempt (after its lease) posts it
    if posts.failures:
        logger.error("the management digest due %s was given up after %d attempts", timer.due.isoformat(),
                     timer.attempt)
    following = schedule.next_after(max(services.clock(), timer.due), services.timezone)
    await services.timers.schedule(DIGEST_KIND, DIGEST_KEY, following,
                                   {"schedule": schedule.describe(), "timezone": services.timezone.key})


async def post_digest(services: Services, window: Window) -> bool:
    """Post the digest of `window` in the management channel; False when no channel is registered."""
    reference = await services.references.channel(MANAGEMENT_CHANNEL)
    if reference is None:
        logger.warning("no management channel registered: the digest was not posted")
        return False

    async def digest() -> Digest:  # read and masked in the channel's language
        return await desk_digest(services, window)

    await services.send_to_channel(reference, DigestPost(await services.in_channel_language(digest)))
    logger.info("management digest of %s posted", window.name)
    return True

