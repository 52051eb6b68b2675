"""Work done in Odoo's own UI counts: a periodic look at what changed there moves the timers.

Two calls per poll: tickets with `write_date >= cursor` (Odoo truncates write_date to seconds,
so `>` would miss same-second writes and `>=` repeats the last ones: a seen-set of
(id, write_date) at the cursor skips those), and chatter messages with an id above the last
seen (posting a message does not change the ticket's write_date). Cursors live in Redis, so a
restart or another replica picks up where the last poll stopped.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from bot.context import Services
from bot.odoo.errors import OdooError
from bot.odoo.gateway import TicketNotFound, to_odoo_time

logger = logging.getLogger(__name__)


async def rebuild_reminders(services: Services) -> int:
    """Start-up: every open ticket gets the reminders it needs (a Redis flush or a first deployment
    loses nothing); reminders already pending are kept as they are."""
    tickets = await services.odoo.all_tickets(services.odoo.open_domain())
    for ticket in tickets:
        await services.reminders.sync(ticket)
    logger.info("reminders checked for %d open tickets", len(tickets))
    return len(tickets)


class OdooPoller:
    def __init__(self, services: Services, *, interval: timedelta = timedelta(seconds=30)) -> None:
        self._services = services
        self._interval = interval
        store = services.store
        self._cursor_key = store.key("poll", "write_date")
        self._seen_key = store.key("poll", "seen")
        self._message_key = store.key("poll", "message_id")

    async def poll_once(self) -> int:
        """Look once; returns how many tickets had their reminders brought up to date."""
        services, redis = self._services, self._services.store.redis
        cursor = await redis.get(self._cursor_key)
        last_message = await redis.get(self._message_key)
        if cursor is None or last_message is None:  # first poll ever: start from now
            await redis.set(self._cursor_key, to_odoo_time(services.clock()))
            await redis.set(self._message_key, str(await services.odoo.last_message_id()))
            return 0
        synced = 0
        changed = await services.odoo.changed_since(cursor)
        seen = set(await redis.smembers(self._seen_key))
        newest = cursor
        for ticket, written in changed:
            marker = f"{ticket.id}@{written}"
            if marker in seen:
                continue
            await services.reminders.sync(ticket)
            synced += 1
            newest = max(newest, written)
        if changed:
            at_newest = [f"{t.id}@{w}" for t, w in changed if w == newest]
            async with redis.pipeline(transaction=True) as pipe:
                pipe.set(self._cursor_key, newest)
                pipe.delete(self._seen_key)
                pipe.sadd(self._seen_key, *at_newest)
                await pipe.execute()
        synced += await self._chatter(int(last_message))
        return synced

    async def _chatter(self, last_id: int) -> int:
        services = self._services
        messages = await services.odoo.messages_after(last_id)
        synced = 0
        for message in messages:
            if message.by_bot or not message.customer_visible:
                continue
            try:
                ticket = await services.odoo.ticket(message.ticket_id)
            except TicketNotFound:
                continue
            if message.by_agent:  # an agent answered the customer in Odoo: it counts as an update
                await services.reminders.sync(ticket, customer_updated=True, agent_answered=True)
            else:  # the customer wrote: somebody has to answer
                await services.reminders.sync(ticket, customer_wrote=True)
            synced += 1
        if messages:
            await services.store.redis.set(self._message_key, str(messages[-1].id))
        return synced

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.poll_once()
            except OdooError as error:
                logger.warning("polling Odoo failed: %s", error)
            try:
                await asyncio.wait_for(stop.wait(), self._interval.total_seconds())
            except TimeoutError:
                pass
