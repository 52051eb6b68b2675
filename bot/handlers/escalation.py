"""Step 4: escalate to the dev / devops / product / content-ops teams, and their answers from the card."""

from __future__ import annotations

import asyncio
import logging

from bot.context import Ctx, Request
from bot.escalation import service
from bot.escalation.model import REFRESH, Answer, EscalationClick
from bot.escalation.standby import put_on_standby
from bot.handlers.common import load, ticket_reply
from bot.i18n import tr
from bot.lifecycle import Move
from bot.management.service import card_as_it_stands
from bot.parsing import UsageError
from bot.people import odoo_user_id
from bot.process import Action
from bot.router import CommandGroup
from bot.turn import Reply
from cards.elements import card, text
from cards.escalation import escalation_summary_card
from cards.notices import problem_card

logger = logging.getLogger(__name__)
commands = CommandGroup()

ANSWER_WITHIN = 4.0  # seconds: Teams gives up on an invoke after 5; past this the card says "working on it"
_finishing: set[asyncio.Task[object]] = set()  # answers still running after the card was answered


@commands.command("escalate", "/ticket escalate <id> <team[,team]> [impact and urgency]", action=Action.ESCALATE)
async def escalate(ctx: Ctx, req: Request) -> Reply:
    """Escalate to a team (step 4): its channel gets a card with the ticket, the impact you write and
    your diagnosis notes (`/ticket diag`), and answers from it: Acknowledge, Need info, Resolved,
    Decline. Several teams at once: `dev,devops`. If nobody acknowledges within the class's time, it
    goes up the chain (senior engineers, then management) and you are told."""
    ticket = await load(ctx, req, Move.EDIT)
    teams, reason = _teams_and_words(ctx, req, tr(
        "Which team? e.g. `/ticket escalate {id} dev Report page times out for 16 users`.", id=ticket.id))
    posted = await service.escalate(ctx.services, ticket, teams, reason, by=ctx.actor)
    return Reply(card=escalation_summary_card(posted, tz=ctx.tz, now=ctx.now()))


def _teams_and_words(ctx: Ctx, req: Request, which_team: str) -> tuple[list[str], str]:
    """The escalation teams named after the ticket (`dev`, `dev,devops`) and what is written after them (the next
    lines too); `which_team`: the answer when no team is named."""
    if len(req.args.words) < 2:
        raise UsageError(which_team)
    words = "\n".join(part for part in (req.args.text(2), req.body) if part).strip()
    return service.team_keys(ctx.services, req.args.words[1]), words


@commands.command("standby", "/ticket standby <id> <team[,team]> [why]", action=Action.ESCALATE)
async def standby(ctx: Ctx, req: Request) -> Reply:
    """Put a team on standby: a heads-up in its channel that it may be asked to take the ticket, with no time to
    acknowledge. Escalate when you need them to act."""
    ticket = await load(ctx, req, Move.EDIT)
    teams, note = _teams_and_words(ctx, req, tr(
        "Which team? e.g. `/ticket standby {id} devops 12 students cannot watch lesson 3`.", id=ticket.id))
    told = await put_on_standby(ctx.services, ticket, teams, note, by=ctx.actor)
    return await ticket_reply(ctx, ticket, tr("{teams}: on standby (a heads-up in their channel, no clock).",
                                              teams=", ".join(told)) if told else
                              tr("The heads-up could not be posted; try again in a moment."))


@commands.card_action(*(answer.value for answer in Answer), REFRESH, payload=EscalationClick)
async def answer(ctx: Ctx, req: Request[EscalationClick]) -> Reply:
    """An answer from an escalation card (or the card asking for its current state)."""
    task = asyncio.ensure_future(service.answer(
        ctx.services, req.name, req.payload, where=ctx.incoming.conversation.root_id, who=ctx.actor,
        clicker=lambda: odoo_user_id(ctx),
        incident_card=lambda ticket_id, notice: card_as_it_stands(  # the management team's answers are on it
            ctx.services, ticket_id, notice=notice)))
    try:
        current = await asyncio.wait_for(asyncio.shield(task), ANSWER_WITHIN)
    except service.Refused as refusal:
        return Reply(card=problem_card(str(refusal), hint=tr("Nothing was changed.")))
    except TimeoutError:  # Odoo is slow: the card in the channel is redrawn when the answer is done
        _finishing.add(task)
        task.add_done_callback(_finished)
        return Reply(card=card([text(tr("Working on it: Odoo is slow right now. This card updates itself when "
                                        "your answer is recorded."), color="warning", weight="Bolder")]))
    return ctx.services.draw(current)  # in the clicker's language


def _finished(task: asyncio.Task[object]) -> None:
    _finishing.discard(task)
    if not task.cancelled() and task.exception() is not None:
        logger.warning("an escalation answer failed after the card was answered: %s", task.exception())
