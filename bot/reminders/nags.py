"""What happens when a reminder is due: check it still applies, nag the owner, plan the next one.

Runs in the timer worker (at-least-once). Before sending, the ticket is read again from Odoo,
so a reminder made stale by work done meanwhile (in Teams or in Odoo) is dropped or moved. A
mark per (kind, ticket, due time, target), written once the post succeeded, keeps a firing that
runs again (a killed replica, a failed post) from nagging anyone twice (`bot.reminders.posted`).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from functools import partial

from bot.changes import TicketChanged
from bot.channels import SUPPORT_CHANNEL
from bot.chatter_words import AUTO_CLOSED, BOT_AUTHOR
from bot.context import Services
from bot.odoo.gateway import TicketNotFound
from bot.process import Audience, FollowUpRule, Stage, format_duration, priority_for, update_interval
from bot.reminders.policy import Kind, checkpoint_holds, next_checkpoint, ranked, reminders_for
from bot.reminders.posted import FiringPosts
from bot.reminders.posts import NagPost
from bot.reminders.service import Reminders, since
from bot.tickets import Ticket
from bot.timers import Timer, TimerKinds
from bot.wording import when

logger = logging.getLogger(__name__)
timers: TimerKinds[Services] = TimerKinds()

# the moment each kind of reminder counts from, as `reminders_for` names it
_MOMENT = {Kind.UPDATE: "last_update", Kind.CUSTOMER_REPLY: "customer_waiting_since", Kind.FOLLOW_UP: "resolved_at"}


@timers.on(*Kind)
async def remind(services: Services, timer: Timer) -> None:
    """A reminder is due (every kind of `Kind`)."""
    await Nagger(services)(timer)


class Nagger:
    def __init__(self, services: Services) -> None:
        self._services = services
        self._reminders = Reminders(services.timers, services.profile, services.clock)

    async def __call__(self, timer: Timer) -> None:
        kind = Kind(timer.kind)
        services = self._services
        now = services.clock()
        try:
            ticket = await services.odoo.ticket(int(timer.key))
        except TicketNotFound:
            await self._reminders.forget(int(timer.key))
            return
        moments: dict[str, datetime | None] = {"last_update": None}
        if kind in _MOMENT:
            moments[_MOMENT[kind]] = since(timer)
        wanted = {due.kind: due for due in reminders_for(ticket, services.profile, now=now, **moments)}
        if kind is Kind.DEADLINE:
            if not checkpoint_holds(ticket, services.profile, timer.due):  # delivered, closed, deadline moved
                await self._reminders.sync(ticket)
                return
        elif kind not in wanted:  # stale: the ticket moved on (closed, paused, acknowledged...)
            await self._reminders.sync(ticket)
            return
        if kind is not Kind.DEADLINE and wanted[kind].at > now + timedelta(seconds=1) and not timer.data.get("misses"):
            await services.timers.schedule(kind, timer.key, wanted[kind].at, timer.data)
            return
        if kind is Kind.URGENT:
            await self._rise(ticket, now)
            return
        misses = int(timer.data.get("misses", 0)) + 1
        if kind is Kind.FOLLOW_UP and await self._give_up(ticket, timer, now):
            return
        await self._send(ticket, kind, timer, misses, now)  # what a killed or failed firing posted is not re-posted
        await self._plan_next(ticket, kind, timer, misses, now)

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

    async def _send(self, ticket: Ticket, kind: Kind, timer: Timer, misses: int, now: datetime) -> None:
        services = self._services
        nag = NagPost(ticket, services.profile, kind, misses=misses, since=since(timer),
                      share=round(float(timer.data.get("fraction", 1.0)) * 100))  # each reader's zone and language
        targets: list[str] = []
        posts = FiringPosts(services.store, timer)  # each target once per firing, however often it runs
        owner_ref = await self._services.references.personal(ticket.owner.id) if ticket.owner else None
        if owner_ref is not None and ticket.owner and kind is not Kind.RECEPTION:  # logging it is the desk's job
            if await posts.post(f"user:{ticket.owner.id}",
                                partial(services.send_to_person, ticket.owner.id, owner_ref, nag)):
                targets.append("owner")
        owner_missed = misses >= services.profile.lead_after_misses and kind is not Kind.RECEPTION
        if owner_missed:  # the team leads (Odoo's manager group) hear of it in their 1:1 chats
            for lead in services.odoo.leads():
                lead_ref = await self._services.references.personal(lead.id)
                if lead_ref is not None and lead_ref != owner_ref:
                    if await posts.post(f"user:{lead.id}", partial(services.send_to_person, lead.id, lead_ref, nag)):
                        targets.append(f"lead {lead.name}")
        channels = [SUPPORT_CHANNEL] if owner_missed or owner_ref is None or kind is Kind.RECEPTION else []
        if kind is Kind.UPDATE:  # shown overdue where the ticket is followed (management: on its own card, redrawn)
            shown = await services.ticket_changed(TicketChanged(ticket, missed=timer.due))
            targets += [f"{name} card" for name in sorted(shown)]
        for name in channels:
            if await posts.post(f"channel:{name}", partial(services.post_to_channel, name, nag)):
                targets.append(name)
        if kind is Kind.DEADLINE and await posts.post("requester", lambda: self._tell_requester(ticket, timer, now)):
            targets.append("requester")
        if not targets and not posts.failures:
            logger.warning("reminder %s for ticket %s has nobody to go to (owner never talked to the bot, "
                           "no support channel registered)", kind, ticket.id)
        logger.info("reminder %s for ticket %s sent to %s", kind, ticket.id, ", ".join(targets) or "nobody")
        posts.raise_failure()  # the targets it could not reach: the timer fires again for them (only)

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
