"""Nothing typed is lost: a command that changes a ticket while Odoo is not answering is kept in
a Redis stream, and a relay applies the kept commands in order once Odoo answers again.

- Keeping is keyed by the Teams activity (a re-delivered activity is kept once).
- While anything is kept, new changes are kept behind it, so they land in the order typed.
- The relay runs in one replica at a time (a lock with a lease), takes the oldest entry, and
  replays it as if it had just been typed; the answer goes to the conversation it came from,
  proactively. Odoo still down: it stops and tries again later, the entry stays first. Odoo
  refuses the command (the ticket was closed meanwhile...): the refusal is the answer, and the
  entry is done: reported, not dropped.
- Replaying is at-least-once with effects applied once: a command replayed after its first
  attempt reached Odoo (the reply was lost, or the relay died before removing the entry) finds
  what landed by its idempotency key and does not write it again (bot.odoo.idempotency).
- The agent is told (the notice, then the command's answer) while the relay applies the next entry:
  telling never holds up applying. One teller per conversation: in the order typed within a chat,
  and a chat that has used up its Teams budget (bot.notify: 60 messages in 30 s) waits alone, not
  with every other agent's chat behind it.
- The relay's lock is renewed while it runs (applying, then telling), so a long drain is never
  taken over by a second replica mid-way (which would replay the same entries and tell twice).
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, fields, is_dataclass
from typing import Any

from redis.asyncio import Redis

from bot.i18n import speaking, tr
from bot.leases import renew_until
from bot.odoo.errors import OdooUnavailable
from bot.posts import Draw, Queued
from bot.rounds import in_rounds
from bot.turn import (
    Conversation,
    ConversationType,
    Incoming,
    Kind,
    Person,
    Quoted,
    Reply,
    RosterUnavailable,
    TeamsChannel,
)

logger = logging.getLogger(__name__)

# KEYS[1]: the relay's lock; ARGV: token, "renew" or "release", lease ms. 1 if the lock was ours.
_IF_OURS = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if ARGV[2] == 'renew' then redis.call('PEXPIRE', KEYS[1], ARGV[3]) else redis.call('DEL', KEYS[1]) end
return 1
"""

Replay = Callable[[Incoming, TeamsChannel], Awaitable[tuple[list[Reply], bool]]]  # the answer; applied?


class Poster:
    """The `TeamsChannel` of a replayed command: it answers in the original conversation, proactively."""

    def __init__(self, outbound: Any, reference: dict[str, Any]) -> None:
        self._outbound = outbound
        self._reference = reference

    async def send(self, reply: Reply) -> str:
        return str(await self._outbound.send_to(self._reference, reply))

    async def member_email(self, person: Person) -> str | None:
        raise RosterUnavailable  # no roster outside a turn: the relay remembers the user the command was kept for


def to_fields(incoming: Incoming, odoo_user_id: int) -> dict[str, str]:
    return {"incoming": json.dumps(_plain(incoming)), "odoo_user_id": str(odoo_user_id)}


def _plain(value: Any) -> Any:
    """`dataclasses.asdict` without its deep copy of every dict and list (every turn is kept so: bot.deliveries), for
    json.dumps, which copies nothing."""
    if is_dataclass(value) and not isinstance(value, type):
        return {each.name: _plain(getattr(value, each.name)) for each in fields(value)}
    if isinstance(value, tuple | list):
        return [_plain(item) for item in value]
    return value


def from_fields(fields: dict[str, str]) -> tuple[Incoming, int]:
    raw = json.loads(fields["incoming"])
    quoted = raw.get("quoted")
    incoming = Incoming(**{
        **raw, "kind": Kind(raw["kind"]),
        "conversation": Conversation(**{**raw["conversation"], "type": ConversationType(raw["conversation"]["type"])}),
        "sender": Person(**raw["sender"]),
        "mentions": tuple(Person(**person) for person in raw.get("mentions") or ()),
        "quoted": Quoted(**{**quoted, "author": Person(**quoted["author"])}) if quoted else None})
    return incoming, int(fields["odoo_user_id"])


class Outbox:
    def __init__(self, redis: Redis, prefix: str) -> None:
        self._redis = redis
        self._stream = prefix + "stream"
        self._keys = prefix + "kept:"
        self._lock = prefix + "relay"
        self._if_ours = redis.register_script(_IF_OURS)

    async def keep(self, incoming: Incoming, odoo_user_id: int) -> bool:
        """Keep the command (once per Teams activity); False if it was kept already."""
        if not await self._redis.set(self._keys + incoming.dedupe_key, "1", nx=True, ex=7 * 24 * 3600):
            return False
        await self._redis.xadd(self._stream, to_fields(incoming, odoo_user_id))  # type: ignore[arg-type]
        return True

    async def waiting(self) -> int:
        return int(await self._redis.xlen(self._stream))

    async def oldest(self) -> tuple[str, Incoming, int] | None:
        entries = await self._redis.xrange(self._stream, count=1)
        if not entries:
            return None
        entry_id, fields = entries[0]
        incoming, odoo_user_id = from_fields(fields)
        return entry_id, incoming, odoo_user_id

    async def done(self, entry_id: str) -> None:
        await self._redis.xdel(self._stream, entry_id)

    async def lock(self, seconds: float) -> str | None:
        token = secrets.token_hex(8)
        return token if await self._redis.set(self._lock, token, nx=True, px=int(seconds * 1000)) else None

    async def renew(self, token: str, seconds: float) -> bool:
        """Extend the lock if it is still ours; False if it lapsed (another replica may be relaying)."""
        return bool(await self._if_ours(keys=[self._lock], args=[token, "renew", int(seconds * 1000)]))

    async def unlock(self, token: str) -> None:
        await self._if_ours(keys=[self._lock], args=[token, "release", 0])


@dataclass(frozen=True)
class Telling:
    """What the agent is told once their kept command was applied (or refused)."""

    poster: Poster
    incoming: Incoming
    replies: list[Reply]
    landed: bool


class Tellers:
    """One teller per conversation, each telling its own chat in order; `finish` waits for them all."""

    def __init__(self, tell: Callable[[Telling], Awaitable[None]]) -> None:
        self._tell = tell
        self._queues: dict[str, asyncio.Queue[Telling | None]] = {}
        self._tasks: list[asyncio.Task[None]] = []

    def add(self, telling: Telling) -> None:
        chat = telling.incoming.conversation.id
        if chat not in self._queues:
            self._queues[chat] = asyncio.Queue()
            self._tasks.append(asyncio.create_task(self._tell_in_order(self._queues[chat])))
        self._queues[chat].put_nowait(telling)

    async def finish(self) -> None:
        for queue in self._queues.values():
            queue.put_nowait(None)
        await asyncio.gather(*self._tasks)

    async def _tell_in_order(self, queue: asyncio.Queue[Telling | None]) -> None:
        while (telling := await queue.get()) is not None:
            await self._tell(telling)


class OutboxRelay:
    def __init__(self, outbox: Outbox, replay: Replay, outbound: Any, *, draw: Draw,
                 remember_user: Callable[[str, int], Awaitable[None]], interval: float = 5.0,
                 lease: float = 60.0) -> None:
        self._outbox = outbox
        self._replay = replay
        self._outbound = outbound
        self._draw = draw  # the notice of a kept command, as a card (Services.draw)
        self._remember_user = remember_user
        self._interval = interval
        self._lease = lease

    async def run_once(self) -> int:
        """Apply what was kept, oldest first, until Odoo stops answering; how many were applied."""
        token = await self._outbox.lock(self._lease)
        if token is None:
            return 0  # another replica is relaying
        applied = 0
        ended = asyncio.Event()
        keeper = asyncio.create_task(renew_until(ended, lambda: self._outbox.renew(token, self._lease),
                                                 every=self._lease / 3, what="the outbox relay's lock"))
        tellers = Tellers(self._tell)  # they post while the next entry is applied
        try:
            while not keeper.done() and (entry := await self._outbox.oldest()) is not None:  # done: the lock lapsed
                entry_id, incoming, odoo_user_id = entry
                await self._remember_user(incoming.sender.aad_object_id, odoo_user_id)
                poster = Poster(self._outbound, incoming.reference)
                try:
                    replies, landed = await self._replay(incoming, poster)
                except OdooUnavailable:
                    return applied  # still down: the entry stays first, in order
                await self._outbox.done(entry_id)  # before telling: a failed message must not apply it twice
                applied += 1
                tellers.add(Telling(poster, incoming, replies, landed))
        finally:
            await tellers.finish()
            ended.set()
            await keeper
            await self._outbox.unlock(token)
        return applied

    async def _tell(self, telling: Telling) -> None:
        incoming = telling.incoming
        with speaking(incoming.locale):  # in the language the command was typed in, like its answer
            notice = self._draw(Queued(incoming.text or tr("(a form)"), landed=telling.landed))
        try:
            await telling.poster.send(notice)
            for reply in telling.replies:
                await telling.poster.send(reply)
        except Exception:  # Teams refused: the command stays applied (or refused) in Odoo, which is the record
            logger.exception("outbox: could not tell %s about their kept command", incoming.sender.name)

    async def run(self, stop: asyncio.Event) -> None:
        await in_rounds(stop, self.run_once, every=self._interval, what="outbox relay")  # failed: entries wait
