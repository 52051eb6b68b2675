"""Every Teams turn is answered within its deadline, however slow Odoo is.

Teams waits about 15 s for the answer to a message (then it tells the user the bot did not answer, and may
deliver the message again) and about 5 s for a card action's (then the card shows an error). A turn makes
several Odoo calls, each allowed ODOO_TIMEOUT_SECONDS: with Odoo answering in 8 s per call, `/ticket hold`
took 24 s. So each turn runs with a deadline (MESSAGE_DEADLINE_SECONDS, INVOKE_DEADLINE_SECONDS, under
Teams' limits). A turn done in time is answered as always. One that is not goes on running, and:

- a message is answered at once (HTTP 201, nothing in it), the agent is told in the chat that it is still being
  done (`still_working`), and its answer follows in the chat when it is done: whatever the turn answers,
  done, refused, or kept in the outbox because Odoo stopped answering (bot.outbox: the relay applies it later,
  and says so, as for any kept command);
- a card action is answered at once with a message saying so (the card stays as it is), and the card is
  redrawn with its answer when it is done.

The decision is taken once, when the deadline passes: the answer is given either in the turn or later in the
chat, never both, and once. Nothing else runs the turn meanwhile: its activity stays claimed while it runs
(bot.deliveries renews the lease), so Teams delivering it again is ignored. The late answer is posted as the
outbox relay and the lapsed turns' sweeper post theirs (bot.outbox.Poster, through bot.notify's limits). If this
replica stops before the turn ends, the turn is cancelled, its claim is given back, and another replica's
sweeper finishes it (bot.lapsed) and says so.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from bot.i18n import speaking, tr
from bot.lapsed import first_line
from bot.outbox import Poster
from bot.posts import Draw, Problem
from bot.turn import Incoming, Kind, Outcome, Reply, TeamsChannel, TurnHandler
from bot.wording import literal

logger = logging.getLogger(__name__)


def still_working(incoming: Incoming) -> Reply:
    """What a message's sender is told when its deadline passed."""
    return Reply(text=tr("Still working on `{typed}`: this takes longer than usual (Odoo is slow to answer). "
                         "I will post the answer here when it is done.", typed=literal(first_line(incoming))))


class Deadlines:
    """Runs each Teams turn (`run_turn`: the bot's pipeline) against its deadline; a late turn's answer is
    posted through `outbound` (bot.notify.Outbound) when it is done; `draw`: a problem said in the chat, as a card
    (`Services.draw`)."""

    def __init__(self, run_turn: TurnHandler, outbound: Any, *, draw: Draw, message: float, invoke: float) -> None:
        self._run_turn = run_turn
        self._outbound = outbound
        self._draw = draw
        self._deadlines = {Kind.MESSAGE: message, Kind.CARD_ACTION: invoke, Kind.MESSAGE_ACTION_OPEN: invoke,
                           Kind.MESSAGE_ACTION: invoke}
        self._late: set[asyncio.Task[None]] = set()

    async def on_turn(self, incoming: Incoming, teams: TeamsChannel) -> Outcome:
        deadline = self._deadlines.get(incoming.kind)
        if deadline is None:  # installs and the rest: answered at once, nothing to wait for
            return await self._run_turn(incoming, teams)
        turn = asyncio.create_task(self._run_turn(incoming, teams))
        await asyncio.wait({turn}, timeout=deadline)
        if turn.done():  # in time (or failed in time: the adapter answers that as before)
            return turn.result()
        logger.warning("a %s took more than its %.1f s: it goes on, its answer will be posted in the chat",
                       incoming.kind, deadline)
        late = asyncio.create_task(self._finish(incoming, turn))
        self._late.add(late)
        late.add_done_callback(self._late.discard)
        with speaking(incoming.locale):
            if incoming.kind is Kind.CARD_ACTION:
                return Outcome(message=tr("Still working on it: this card will show the result when it is done."))
            if incoming.kind is Kind.MESSAGE_ACTION_OPEN:  # a dialog cannot open later: nothing was done yet
                return Outcome(message=tr("Odoo is slow to answer right now, so I could not open this. Please try "
                                          "again in a minute."))
            if incoming.kind is Kind.MESSAGE_ACTION:
                return Outcome(message=tr("Still working on it: this takes longer than usual (Odoo is slow to "
                                          "answer). I will post the answer in this conversation when it is done."))
        return Outcome()  # the notice is posted by `_finish`, before the answer: always in that order

    @property
    def late(self) -> int:
        """How many turns are running past their deadline."""
        return len(self._late)

    async def _finish(self, incoming: Incoming, turn: asyncio.Task[Outcome]) -> None:
        poster = Poster(self._outbound, incoming.reference)
        try:
            if incoming.kind is Kind.MESSAGE:
                with speaking(incoming.locale):
                    notice = still_working(incoming)
                await self._post(poster.send(notice), incoming)
            try:
                outcome = await turn
            except Exception:  # the adapter would have said sorry in the turn: say it in the chat
                logger.exception("a turn that went past its deadline failed")
                with speaking(incoming.locale):
                    sorry = self._draw(Problem(tr("Sorry, something went wrong on my side."),
                                               hint=tr("Please try again in a minute.")))
                outcome = Outcome(replies=(sorry,), card=sorry.card)
            if incoming.kind is Kind.MESSAGE_ACTION_OPEN:  # its dialog was never opened: nothing to show
                return
            if incoming.kind is Kind.MESSAGE_ACTION:  # what its dialog would have shown, done or refused
                if outcome.card is not None:
                    await self._post(poster.send(Reply(card=outcome.card)), incoming)
                return
            if incoming.kind is Kind.CARD_ACTION:
                if outcome.card is not None:  # the clicked card, redrawn with the answer
                    reply = Reply(card=outcome.card)
                    await self._post(self._outbound.update_in(incoming.reference, incoming.reply_to_id, reply)
                                     if incoming.reply_to_id else poster.send(reply), incoming)
                return
            for reply in outcome.replies:
                await self._post(poster.send(reply), incoming)
        finally:
            turn.cancel()  # only when this was cancelled (shutdown): the turn's claim is given back

    @staticmethod
    async def _post(posting: Any, incoming: Incoming) -> None:
        try:
            await posting
        except Exception:  # Teams refused: what the turn did stands in Odoo, which is the record
            logger.exception("could not post the late answer to %s's turn", incoming.sender.name)

    async def stop(self) -> None:
        """The replica is stopping: the late turns are cancelled (their claims given back: another replica's
        sweeper finishes them, bot.lapsed)."""
        late = list(self._late)
        for task in late:
            task.cancel()
        await asyncio.gather(*late, return_exceptions=True)
