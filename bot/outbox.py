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
- The agent is told (the notice, then the command's answer) by one teller, in order, while the
  relay applies the next entry: telling never holds up applying.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from typing import Any

from redis.asyncio import Redis

from bot.i18n import speaking, tr
from bot.odoo.errors import OdooUnavailable
from bot.turn import Conversation, ConversationType, Incoming, Kind, Person, Reply, TeamsChannel
from cards.notices import queued_card

logger = logging.getLogger(__name__)

Replay = Callable[[Incoming, TeamsChannel], Awaitable[tuple[list[Reply], bool]]]  # the answer; applied?


class Poster:
    """The `TeamsChannel` of a replayed command: it answers in the original conversation, proactively."""

    def __init__(self, outbound: Any, reference: dict[str, Any]) -> None:
        self._outbound = outbound
        self._reference = reference

    async def send(self, reply: Reply) -> str:
        return str(await self._outbound.send_to(self._reference, reply))

    async def member_email(self, person: Person) -> str | None:
        return None  # the sender's Odoo user was known when the command was kept


def to_fields(incoming: Incoming, odoo_user_id: int) -> dict[str, str]:
    return {"incoming": json.dumps(asdict(incoming)), "odoo_user_id": str(odoo_user_id)}


def from_fields(fields: dict[str, str]) -> tuple[Incoming, int]:
    raw = json.loads(fields["incoming"])
    incoming = Incoming(**{
        **raw, "kind": Kind(raw["kind"]),
        "conversation": Conversation(**{**raw["conversation"], "type": ConversationType(raw["conversation"]["type"])}),
        "sender": Person(**raw["sender"]),
        "mentions": tuple(Person(**person) for person in raw.get("mentions") or ())})
    return incoming, int(fields["odoo_user_id"])


class Outbox:
    def __init__(self, redis: Redis, prefix: str) -> None:
        self._redis = redis
        self._stream = prefix + "stream"
        self._keys = prefix + "kept:"
        self._lock = prefix + "relay"

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

    async def unlock(self, token: str) -> None:
        if await self._redis.get(self._lock) == token:
            await self._redis.delete(self._lock)


@dataclass(frozen=True)
class Telling:
    """What the agent is told once their kept command was applied (or refused)."""

    poster: Poster
    incoming: Incoming
    replies: list[Reply]
    landed: bool


class OutboxRelay:
    def __init__(self, outbox: Outbox, replay: Replay, outbound: Any, *,
                 remember_user: Callable[[str, int], Awaitable[None]], interval: float = 5.0) -> None:
        self._outbox = outbox
        self._replay = replay
        self._outbound = outbound
        self._remember_user = remember_user
        self._interval = interval

    async def run_once(self) -> int:
        """Apply what was kept, oldest first, until Odoo stops answering; how many were applied."""
        token = await self._outbox.lock(max(60.0, self._interval * 4))
        if token is None:
            return 0  # another replica is relaying
        applied = 0
        to_tell: asyncio.Queue[Telling | None] = asyncio.Queue()
        teller = asyncio.create_task(self._tell_in_order(to_tell))  # posts while the next entry is applied
        try:
            while (entry := await self._outbox.oldest()) is not None:
                entry_id, incoming, odoo_user_id = entry
                await self._remember_user(incoming.sender.id, odoo_user_id)
                poster = Poster(self._outbound, incoming.reference)
                try:
                    replies, landed = await self._replay(incoming, poster)
                except OdooUnavailable:
                    return applied  # still down: the entry stays first, in order
                await self._outbox.done(entry_id)  # before telling: a failed message must not apply it twice
                applied += 1
                to_tell.put_nowait(Telling(poster, incoming, replies, landed))
        finally:
            to_tell.put_nowait(None)
            await teller
            await self._outbox.unlock(token)
        return applied

    async def _tell_in_order(self, to_tell: asyncio.Queue[Telling | None]) -> None:
        while (telling := await to_tell.get()) is not None:
            await self._tell(telling.poster, telling.incoming, telling.replies, telling.landed)

    @staticmethod
    async def _tell(poster: Poster, incoming: Incoming, replies: list[Reply], landed: bool) -> None:
        with speaking(incoming.locale):  # in the language the command was typed in, like its answer
            notice = Reply(card=queued_card(incoming.text or tr("(a form)"), landed=landed))
        try:
            await poster.send(notice)
            for reply in replies:
                await poster.send(reply)
        except Exception:  # Teams refused: the command stays applied (or refused) in Odoo, which is the record
            logger.exception("outbox: could not tell %s about their kept command", incoming.sender.name)

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.run_once()
            except Exception:  # Redis or Teams away: the entries wait in Redis
                logger.exception("outbox relay: a round failed")
            try:
                await asyncio.wait_for(stop.wait(), self._interval)
            except TimeoutError:
                pass
