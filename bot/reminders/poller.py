"""Work done in Odoo's own UI counts: a periodic look at what changed there moves the timers.

Two calls per poll: tickets with `write_date >= cursor` (Odoo truncates write_date to seconds,
so `>` would miss same-second writes and `>=` repeats the last ones: the ids already seen at the
cursor's second are left out of the query), and chatter messages with an id above the last seen
(posting a message does not change the ticket's write_date). Both are read in pages of 500.
Cursors live in Redis, so a restart or another replica picks up where the last poll stopped.

A ticket written twice within the same second, with a poll in between, has the second write
missed until it is written again: Odoo gives no finer clock to tell them apart.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta

from redis.exceptions import RedisError

from bot.changes import TicketChanged
from bot.context import Services
from bot.escalation.rebuild import rebuild_escalations
from bot.odoo.errors import OdooError, OdooUnavailable
from bot.odoo.gateway import TicketNotFound, to_odoo_time
from bot.reminders.service import Reminders
from bot.rounds import in_rounds
from bot.store import Atomic, beside, redis_result

logger = logging.getLogger(__name__)

POLL_PAGE = 500


def rebuilt_marker(services: Services) -> str:
    """A key that exists once the reminders were rebuilt: gone after a Redis flush or a restart
    without persistence, which the next poll notices."""
    return services.store.key("timers", "rebuilt")


async def rebuild_reminders(services: Services) -> int:
    """Start-up (and after Redis lost its data): every open ticket gets the reminders it needs, and
    the escalations still waiting on it come back from its chatter (`bot.escalation.rebuild`), so
    a Redis flush or a first deployment loses nothing; reminders already pending, and escalations
    Redis still has, are kept as they are."""
    checked = restored = 0
    reminders = Reminders(services.timers, services.profile, services.clock)
    async for page in services.odoo.all_tickets(services.odoo.open_domain()):
        for ticket in page:
            await reminders.sync(ticket)
        restored += await rebuild_escalations(services, page)
        checked += len(page)
    await services.store.redis.set(rebuilt_marker(services), "1")
    logger.info("reminders checked for %d open tickets; %d escalations given back from Odoo", checked, restored)
    return checked


class OdooPoller:
    def __init__(self, services: Services, *, rebuild: Callable[[Services], Awaitable[object]],
                 interval: timedelta = timedelta(seconds=30)) -> None:
        """`rebuild`: run when a poll finds `rebuilt_marker` gone, to give back what Redis lost (`rebuild_reminders`
        and the other features' timers: bot.server's)."""
        self._services = services
        self._reminders = Reminders(services.timers, services.profile, services.clock)
        self._rebuild = rebuild
        self._interval = interval
        store = services.store
        self._cursor_key = store.key("poll", "write_date")
        self._seen_key = beside(self._cursor_key, "seen")  # moved with the cursor, atomically: in its hash slot
        self._message_key = store.key("poll", "message_id")
        self._atomic = Atomic(store.redis)

    async def poll_once(self) -> int:
        """Look once; returns how many tickets had their reminders brought up to date. Then the similar tickets'
        index (in this replica's memory) adds the tickets resolved since the last round, or is built the first time."""
        synced = await self._changes()
        services = self._services
        await services.similar.keep_up(services.odoo, now=services.clock())
        return synced

    async def _changes(self) -> int:
        services, redis = self._services, self._services.store.redis
        if not await redis.exists(rebuilt_marker(services)):
            logger.warning("Redis has lost the reminders (flushed, or restarted without persistence): rebuilding")
            await self._rebuild(services)
        cursor = await redis.get(self._cursor_key)
        last_message = await redis.get(self._message_key)
        if cursor is None or last_message is None:  # first poll ever: start from now
            await redis.set(self._cursor_key, to_odoo_time(services.clock()))
            await redis.set(self._message_key, str(await services.odoo.last_message_id()))
            return 0
        synced = await self._changed_tickets(cursor)
        synced += await self._chatter(int(last_message))
        return synced

    async def _changed_tickets(self, cursor: str) -> int:
        """Tickets written since the cursor, a page at a time. Odoo's write_date has whole seconds, so
        the cursor is inclusive (`>=`) and the tickets already seen at the cursor's second are left out
        of the query: a bulk edit of thousands of tickets is read once, not at every poll until
        something newer is written."""
        services, redis = self._services, self._services.store.redis
        seen = {int(member) for member in await redis_result(redis.smembers(self._seen_key))}
        synced = 0
        while True:
            page = await services.odoo.changed_since(cursor, skip=seen, limit=POLL_PAGE)
            for ticket, _ in page:
                await self._reminders.sync(ticket)
                await services.ticket_changed(TicketChanged(ticket))  # moved in Odoo: its management card follows
            synced += len(page)
            if page:
                newest = page[-1][1]  # ordered by write_date
                at_newest = {ticket.id for ticket, written in page if written == newest}
                seen = seen | at_newest if newest == cursor else at_newest
                cursor = newest
                await self._atomic([("SET", self._cursor_key, cursor), ("DEL", self._seen_key),
                                    ("SADD", self._seen_key, *seen)])
            if len(page) < POLL_PAGE:
                return synced

    async def _chatter(self, last_id: int) -> int:
        services = self._services
        messages = await services.odoo.messages_after(last_id)
        synced = 0
        for message in messages:
            if message.by_bot or not message.customer_visible or not message.ticket_id:  # 0: unreadable in Odoo
                continue
            try:
                ticket = await services.odoo.ticket(message.ticket_id)
            except TicketNotFound:
                continue
            if message.by_agent:  # an agent answered the customer in Odoo: it counts as an update
                await self._reminders.sync(ticket, customer_updated=True, agent_answered=True)
                await services.ticket_changed(TicketChanged(ticket))
            else:  # the customer wrote: somebody has to answer
                await self._reminders.sync(ticket, customer_wrote=True)
            synced += 1
        if messages:
            await services.store.redis.set(self._message_key, str(messages[-1].id))
        return synced

    async def run(self, stop: asyncio.Event) -> None:
        """Poll until `stop`; the similar tickets' index is built beside the first rounds, which do not wait for it."""
        building = asyncio.create_task(self._build_similar(), name="similar-tickets")
        try:
            await in_rounds(stop, self._poll_or_warn, every=self._interval.total_seconds(), what="polling Odoo")
        finally:
            building.cancel()
            await asyncio.gather(building, return_exceptions=True)

    async def _build_similar(self) -> None:
        """The similar tickets' index, built at start-up; when Odoo fails meanwhile, a later round builds it."""
        services = self._services
        try:
            await services.similar.keep_up(services.odoo, now=services.clock())
        except OdooError as error:
            logger.warning("similar tickets: reading the resolved tickets from Odoo failed (%s); the next poll "
                           "tries again", error)

    async def _poll_or_warn(self) -> None:
        """A poll; Odoo or Redis away is expected now and then (a warning: the cursors wait in Redis). Any other
        failure (Odoo refusing the bot's user, a value it would not take, a call it does not know) fails the
        round: the cursors stop until it is mended, so it counts towards /healthz's failed rounds
        (bot.rounds)."""
        try:
            await self.poll_once()
        except OdooUnavailable as error:
            logger.warning("polling Odoo failed: %s", error)
        except RedisError as error:  # Redis restarting or cut off: the cursors wait there, the next poll goes on
            logger.warning("polling Odoo: Redis failed (%s); trying again at the next poll", type(error).__name__)
