"""Nothing a user typed is lost when the replica running it dies and Teams does not deliver it again.

Each turn's claim keeps the turn (bot.deliveries). Every replica sweeps: a claim whose lease lapsed
more than the grace ago (twice the lease: Teams re-delivering it gets the first chance) and that is
not done is taken over (one replica wins, or the re-delivery does) and its turn runs again under that
claim, the whole pipeline as if Teams had delivered it again (`again`: what landed in Odoo the first
time is found, not written twice; Odoo down: the command is kept in the outbox as any other). Its
answer goes to the conversation it was typed in, proactively through the same path as a kept
command's (bot.outbox.Poster), its first line saying it was finished after a restart.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Sequence
from typing import Any, Protocol

from bot.deliveries import Claim, Deliveries, Lapsed
from bot.i18n import speaking, tr
from bot.outbox import Poster
from bot.posts import Draw, Problem
from bot.rounds import in_rounds
from bot.turn import Incoming, Outcome, Reply, TeamsChannel
from bot.wording import literal

logger = logging.getLogger(__name__)


class RunTurn(Protocol):
    """The turn pipeline (`TicketBot.on_turn`), run under a claim taken already."""

    def __call__(self, incoming: Incoming, teams: TeamsChannel, *, claim: Claim | None = None
                 ) -> Awaitable[Outcome]: ...


def finished_after_restart(incoming: Incoming, replies: Sequence[Reply]) -> list[Reply]:
    """The turn's answer, its first message saying in one line that it was finished after a restart (whatever
    the answer: done, refused, or kept until Odoo answers)."""
    if not replies:
        return []
    typed = first_line(incoming)
    notice = tr("I was restarted in the middle of `{typed}` and picked it up again:", typed=literal(typed))
    first, *rest = replies
    return [Reply(text=f"{notice}\n\n{first.text}" if first.text else notice, card=first.card), *rest]


def first_line(incoming: Incoming) -> str:
    """The command as the agent will recognise it in one line (a description below it left out)."""
    return next(iter(incoming.text.strip().splitlines()), "") or tr("(a form)")


def given_up(incoming: Incoming) -> Problem:
    """What the agent is told when their command stopped every replica that ran it."""
    typed = first_line(incoming)
    return Problem(tr("I could not finish `{typed}`: I was stopped each time I tried it.", typed=literal(typed)),
                   hint=tr("Check the ticket in Odoo: what is not there did not happen. Type it again if it is still "
                           "needed."))


class LapsedTurns:
    """The sweeper: finishes the turns whose replica died, in every replica, every `interval` seconds. `draw`: what
it says when it gives a turn up, as a card (`Services.draw`)."""

    def __init__(self, deliveries: Deliveries, run_turn: RunTurn, outbound: Any, *, draw: Draw,
                 interval: float) -> None:
        self._deliveries = deliveries
        self._run_turn = run_turn
        self._outbound = outbound
        self._draw = draw
        self._interval = interval

    async def run_once(self) -> int:
        """Finish the turns that lapsed (those another replica or a re-delivery takes first are left to it);
        how many were finished here."""
        finished = 0
        for activity_key in await self._deliveries.lapsed():
            lapsed = await self._deliveries.take_over(activity_key)
            if lapsed is not None:
                await self._finish(lapsed)
                finished += 1
        return finished

    async def _finish(self, lapsed: Lapsed) -> None:
        incoming = lapsed.incoming
        poster = Poster(self._outbound, incoming.reference)
        if lapsed.abandoned:
            logger.error("turn of %s in %s given up: it stopped every replica that ran it", incoming.sender.name,
                         lapsed.claim.activity_key)
            with speaking(incoming.locale):
                replies = [self._draw(given_up(incoming))]
        else:
            logger.warning("finishing the turn of %s in %s: its replica stopped and Teams did not deliver it again",
                           incoming.sender.name, lapsed.claim.activity_key)
            outcome = await self._run_turn(incoming, poster, claim=lapsed.claim)  # done once it returns
            with speaking(incoming.locale):
                replies = finished_after_restart(incoming, outcome.replies)
        try:
            for reply in replies:
                await poster.send(reply)
        except Exception:  # Teams refused: the command is done in Odoo, which is the record
            logger.exception("could not tell %s the answer of their finished turn", incoming.sender.name)

    async def run(self, stop: asyncio.Event) -> None:
        await in_rounds(stop, self.run_once, every=self._interval, what="lapsed turns")  # failed: claims wait
