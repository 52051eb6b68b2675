"""What happens when a reminder is due: check it still applies, nag the owner, plan the next one.

Runs in the timer worker (at-least-once). Before sending, the ticket is read again from Odoo,
so a reminder made stale by work done meanwhile (in Teams or in Odoo) is dropped or moved. A
mark per (kind, ticket, due time, target), written once the post succeeded, keeps a firing that
runs again (a killed replica, a failed post) from nagging anyone twice (`bot.reminders.posted`).

The reminders due in one round of the timer worker are fired together (`TimerKinds.together`): each is checked
and made ready on its own, then what they post is grouped by reader, and a reader with several gets one card
listing them (`NagDigestPost`, split past DIGEST_LINES) instead of a card each, the most important first (the worker
claims them by rank). That card counts as each reminder's post to that reader (the same marks); each reminder is then
done or, if one of its readers could not be reached, fires again for those only, as when fired alone.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial

from bot.changes import TicketChanged
from bot.channels import SUPPORT_CHANNEL
from bot.chatter_words import AUTO_CLOSED, BOT_AUTHOR
from bot.context import Services
from bot.odoo.gateway import TicketNotFound
from bot.posts import Post
from bot.process import Audience, FollowUpRule, Stage, format_duration, priority_for, update_interval
from bot.reminders.policy import Kind, checkpoint_holds, next_checkpoint, ranked, reminders_for
from bot.reminders.posted import FiringPosts, post_for_all
from bot.reminders.posts import DIGEST_LINES, NagDigestPost, NagPost
from bot.reminders.service import Reminders, since
from bot.tickets import Ticket
from bot.timers import Timer, TimerKinds
from bot.wording import when

logger = logging.getLogger(__name__)
timers: TimerKinds[Services] = TimerKinds()

# the moment each kind of reminder counts from, as `reminders_for` names it
_MOMENT = {Kind.UPDATE: "last_update", Kind.CUSTOMER_REPLY: "customer_waiting_since", Kind.FOLLOW_UP: "resolved_at"}


CONCURRENCY = 8  # reminders made ready (Odoo read) at once, and readers posted to at once


@timers.together(*Kind)
async def remind(services: Services, due: Sequence[Timer]) -> list[BaseException | None]:
    """Reminders are due (every kind of `Kind`), those of one round of the worker together."""
    return await Nagger(services).many(due)


@dataclass
class _Firing:
    """A reminder ready to post: to whom (`deliveries`: the reader's mark, how it is named in the log, how a post
    reaches them), and what it reached."""

    timer: Timer
    ticket: Ticket
    kind: Kind
    misses: int
    nag: NagPost
    posts: FiringPosts
    deliveries: list[tuple[str, str, Callable[[Post], Awaitable[object]]]] = field(default_factory=list)
    targets: list[str] = field(default_factory=list)


class Nagger:
    def __init__(self, services: Services) -> None:
        self._services = services
        self._reminders = Reminders(services.timers, services.profile, services.clock)

    async def __call__(self, timer: Timer) -> None:
        """One reminder alone."""
        [failure] = await self.many([timer])
        if failure is not None:
            raise failure

    async def many(self, due: Sequence[Timer]) -> list[BaseException | None]:
        """Reminders due together: each made ready, then one card per reader (listing theirs when several), then each
        planned again. One outcome per timer: None, or why it failed (it fires again for what it did not post)."""
        slots = asyncio.Semaphore(CONCURRENCY)

        async def ready(timer: Timer) -> _Firing | None:
            async with slots:
                return await self._ready(timer)

        made = await asyncio.gather(*(ready(timer) for timer in due), return_exceptions=True)
        firings = [firing for firing in made if isinstance(firing, _Firing)]
        readers: dict[str, list[tuple[_Firing, str, Callable[[Post], Awaitable[object]]]]] = {}
        for firing in firings:  # in the order they were claimed: the most important first
            for target, label, send in firing.deliveries:
                readers.setdefault(target, []).append((firing, label, send))

        async def post(target: str, group: list[tuple[_Firing, str, Callable[[Post], Awaitable[object]]]]) -> None:
            async with slots:
                await self._post(target, group)

        await asyncio.gather(*(post(target, group) for target, group in readers.items()))

        async def finish(firing: _Firing) -> None:
            async with slots:
                await self._finish(firing)

        finished = await asyncio.gather(*(finish(firing) for firing in firings), return_exceptions=True)
        outcome = dict(zip((id(firing) for firing in firings), finished, strict=True))
        return [outcome.get(id(result)) if isinstance(result, _Firing)
                else (result if isinstance(result, BaseException) else None) for result in made]

    async def _ready(self, timer: Timer) -> _Firing | None:
        """The reminder checked against the ticket as it now stands; None when it posts nothing (stale, moved,
        the priority rising, given up)."""
        kind = Kind(timer.kind)
        services = self._services
        now = services.clock()
        try:
            ticket = await services.odoo.ticket(int(timer.key))
        except TicketNotFound:
            await self._reminders.forget(int(timer.key))
            return None
        moments: dict[str, datetime | None] = {"last_update": None}
        if kind in _MOMENT:
            moments[_MOMENT[kind]] = since(timer)
        wanted = {due.kind: due for due in reminders_for(ticket, services.profile, now=now, **moments)}
        if kind is Kind.DEADLINE:
            if not checkpoint_holds(ticket, services.profile, timer.due):  # delivered, closed, deadline moved
                await self._reminders.sync(ticket)
                return None
        elif kind not in wanted:  # stale: the ticket moved on (closed, paused, acknowledged...)
            await self._reminders.sync(ticket)
            return None
        if kind is not Kind.DEADLINE and wanted[kind].at > now + timedelta(seconds=1) and not timer.data.get("misses"):
            await services.timers.schedule(kind, timer.key, wanted[kind].at, timer.data)
            return None
        if kind is Kind.URGENT:
            await self._rise(ticket, now)
            return None
        misses = int(timer.data.get("misses", 0)) + 1
        if kind is Kind.FOLLOW_UP and await self._give_up(ticket, timer, now):
            return None
        return await self._readers(ticket, kind, timer, misses)  # what a killed or failed firing posted: not again

    async def _rise(self, ticket: Ticket, now: datetime) -> None:
        """The deadline is near: the priority rises in Odoo (a note says why), and whoever follows the ticket is told
        (management's card); no reminder card, the owner's next update reminder is due anyway."""
        services = self._services
        urgent = priority_for(ticket.cos, services.profile, now=now, deadline=ticket.facts.deadline)
        if urgent != ticket.priority:
            before = ticket.priority_label or ticket.priority
            ticket = await services.odoo.set_priority(ticket, urgent)
            await services.odoo.note(ticket, f"Priority: {before} → {ticket.priority_label}: the deadline is less than "
                                             f"{format_duration(services.profile.deadline_urgent_within)} away.",
                                     by=BOT_AUTHOR)
            await services.ticket_changed(TicketChanged(ticket))
        await self._reminders.sync(ticket)

    async def _readers(self, ticket: Ticket, kind: Kind, timer: Timer, misses: int) -> _Firing:
        """Who the reminder goes to: the owner, from the owner's 2nd miss in a row the leads and the support channel
        (the channel too when the owner cannot be reached, or nobody logged the report yet)."""
        services = self._services
        nag = NagPost(ticket, services.profile, kind, misses=misses, since=since(timer),
                      share=round(float(timer.data.get("fraction", 1.0)) * 100))  # each reader's zone and language
        firing = _Firing(timer, ticket, kind, misses, nag, FiringPosts(services.store, timer))  # each reader once
        owner_ref = await self._services.references.personal(ticket.owner.id) if ticket.owner else None
        if owner_ref is not None and ticket.owner and kind is not Kind.RECEPTION:  # logging it is the desk's job
            firing.deliveries.append((f"user:{ticket.owner.id}", "owner",
                                      partial(services.send_to_person, ticket.owner.id, owner_ref)))
        owner_missed = misses >= services.profile.lead_after_misses and kind is not Kind.RECEPTION
        if owner_missed:  # the team leads (Odoo's manager group) hear of it in their 1:1 chats
            for lead in services.odoo.leads():
                lead_ref = await self._services.references.personal(lead.id)
                if lead_ref is not None and lead_ref != owner_ref:
                    firing.deliveries.append((f"user:{lead.id}", f"lead {lead.name}",
                                              partial(services.send_to_person, lead.id, lead_ref)))
        if kind is Kind.UPDATE:  # shown overdue where the ticket is followed (management: on its own card, redrawn)
            shown = await services.ticket_changed(TicketChanged(ticket, missed=timer.due))
            firing.targets += [f"{name} card" for name in sorted(shown)]
        if owner_missed or owner_ref is None or kind is Kind.RECEPTION:
            firing.deliveries.append((f"channel:{SUPPORT_CHANNEL}", SUPPORT_CHANNEL,
                                      partial(services.post_to_channel, SUPPORT_CHANNEL)))
        return firing

    async def _post(self, target: str, group: list[tuple[_Firing, str, Callable[[Post], Awaitable[object]]]]) -> None:
        """What `group`'s reminders have for one reader: a card of its own for one, one card listing them for several
        (split past DIGEST_LINES); those a firing run again posted already are left out."""
        waiting = []
        for firing, label, send in group:
            try:
                posted = await firing.posts.done(target)
            except Exception as error:  # Redis failing: this reader is tried again with the firing
                firing.posts.failures.append(error)
                continue
            if posted:
                firing.targets.append(label)
            else:
                waiting.append((firing, label, send))
        if len(waiting) == 1:
            [(firing, label, send)] = waiting
            if await firing.posts.post(target, partial(send, firing.nag)):
                firing.targets.append(label)
            return
        cards = [waiting[at:at + DIGEST_LINES] for at in range(0, len(waiting), DIGEST_LINES)]
        for part, lines in enumerate(cards, 1):
            digest = NagDigestPost(tuple(firing.nag for firing, _, _ in lines), part, len(cards))
            send = lines[0][2]
            try:
                reached = await post_for_all([firing.posts for firing, _, _ in lines], target, partial(send, digest))
            except Exception as error:  # the card went, its marks did not (Redis): fired again, it may go again
                for firing, _, _ in lines:
                    firing.posts.failures.append(error)
                continue
            if reached:
                for firing, label, _ in lines:
                    firing.targets.append(f"{label} (one card of {len(lines)})")

    async def _finish(self, firing: _Firing) -> None:
        """After the cards: the requester told (a deadline checkpoint), the log, and the next reminder planned; or, if
        a reader could not be reached, the failure (the timer fires again, for that reader only)."""
        ticket, kind, timer, posts = firing.ticket, firing.kind, firing.timer, firing.posts
        now = self._services.clock()
        if kind is Kind.DEADLINE and await posts.post("requester", lambda: self._tell_requester(ticket, timer, now)):
            firing.targets.append("requester")
        if not firing.targets and not posts.failures:
            logger.warning("reminder %s for ticket %s has nobody to go to (owner never talked to the bot, "
                           "no support channel registered)", kind, ticket.id)
        logger.info("reminder %s for ticket %s sent to %s", kind, ticket.id, ", ".join(firing.targets) or "nobody")
        posts.raise_failure()  # the targets it could not reach: the timer fires again for them (only)
        await self._plan_next(ticket, kind, timer, firing.misses, now)

    async def _tell_requester(self, ticket: Ticket, timer: Timer, now: datetime) -> bool:
        """A Fixed Deadline checkpoint before the deadline also reaches the requester (the customer),
        through Odoo, when the class alerts them."""
        services = self._services
        if (Audience.REQUESTER not in services.profile.classes[ticket.cos].alerts or ticket.customer is None
                or float(timer.data.get("fraction", 1.0)) >= 1):
            return False
        owner = ticket.owner.name if ticket.owner else "our support team"
        due = when(ticket.facts.deadline, services.timezone)
        message = (f"Your request \"{ticket.title}\" ({ticket.label}) is due {due}. "
                   f"{owner} is working on it and will keep you posted.")
        await services.odoo.tell_customer(ticket, message, by=BOT_AUTHOR)
        return True

    async def _plan_next(self, ticket: Ticket, kind: Kind, timer: Timer, misses: int, now: datetime) -> None:
        services, profile = self._services, self._services.profile
        data = {**timer.data, "misses": misses}
        if kind is Kind.DEADLINE:
            following = next_checkpoint(ticket, profile, now)
            if following is not None:
                await services.timers.schedule(kind, timer.key, following.at, ranked(ticket, kind, following.data))
            return
        repeat = {
            Kind.RECEPTION: profile.reception_within,
            Kind.ACK: profile.min_update_interval,
            Kind.UPDATE: update_interval(ticket.cos, profile, now=now, deadline=ticket.facts.deadline),
            Kind.FOLLOW_UP: profile.follow_up_after,
            Kind.CUSTOMER_REPLY: profile.customer_reply_within,
        }[kind]
        await services.timers.schedule(kind, timer.key, now + repeat, ranked(ticket, kind, data))

    async def _give_up(self, ticket: Ticket, timer: Timer, now: datetime) -> bool:
        """Follow-up past the profile's limit: apply its rule (Odoo PS closes; MindX keeps asking)."""
        services, profile = self._services, self._services.profile
        resolved_at = since(timer)
        if (resolved_at is None or now - resolved_at < profile.follow_up_give_up_after
                or profile.follow_up_rule is not FollowUpRule.CLOSE):
            return False
        closed = await services.odoo.move(ticket, Stage.DONE)
        await services.odoo.note(closed, f"{AUTO_CLOSED}: no answer from the customer "
                                         f"{format_duration(profile.follow_up_give_up_after)} after the resolution "
                                         f"(process rule).", by=BOT_AUTHOR)
        await self._reminders.forget(ticket.id)
        return True
