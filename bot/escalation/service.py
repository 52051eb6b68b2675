"""Step 4, escalation: post the card to each team's channel, take the team's answers from it, and
pass it on along the profile's chain when nobody acknowledges in time.

The escalation timer ("escalation", escalation id) lives in the same Redis timer engine as the
reminders: claimed by one replica at a time, and passing on is a compare-and-set, so a timer
delivered twice never re-posts twice.

An escalation's id is the same for every run of the command that made it (a replay from the outbox, a
re-delivery after a crash: `bot.odoo.idempotency`), so a run that finds it already saved and posted
does not post its card again. Every note about an escalation carries its id, hidden (`escalation_tag`),
so `bot.escalation.rebuild` can give it back after Redis lost it.

An escalation to the management team (the end of the chain) has no card of its own: the management channel
already has the ticket's incident card (`bot.management`), and management expects one card per incident, not
the same incident twice, once with a team's technical buttons. So the incident card is its card: it says
management is asked to take it on and carries Acknowledge and Decline, which answer this same escalation (its
id, its compare-and-set, its notes, its timer). A ticket whose class would not bring an incident card gets one
for it (`TicketChanged(..., asked=True)`): it is then the only card, as it is for every incident.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import timedelta
from typing import Any

from bot.changes import TicketChanged
from bot.channels import MANAGEMENT_CHANNEL, SUPPORT_CHANNEL
from bot.chatter_words import BOT_AUTHOR, END_OF_CHAIN, ESCALATED, NOT_ACKNOWLEDGED, PASSED_TO, escalation_tag
from bot.context import Services
from bot.escalation.model import (
    DONE_WORDS,
    NEEDS_TEXT,
    NOBODY_FURTHER,
    NOT_KNOWN,
    STATUS_NAMES,
    Answer,
    Escalation,
    EscalationClick,
    Status,
    TicketContext,
)
from bot.escalation.posts import EscalationAnswered, EscalationPost, NotAcknowledged
from bot.escalation.store import EscalationStore
from bot.i18n import N_, tr
from bot.odoo import idempotency
from bot.odoo.gateway import TicketNotFound
from bot.parsing import UsageError
from bot.posts import Post
from bot.privacy import for_management
from bot.process import Stage
from bot.roles import answer_refused, may_answer_from_anywhere
from bot.tickets import Ticket
from bot.timers import Timer, TimerKinds
from bot.turn import SendFailed, reference_root_id
from bot.wording import literal

logger = logging.getLogger(__name__)

TIMER_KIND = "escalation"
timers: TimerKinds[Services] = TimerKinds()
CHANNEL_RETRY = timedelta(minutes=1)  # a card waiting for its team's channel to be registered again looks this often
REPOSTED = N_("Posted again: I lost this escalation when my storage restarted, and found it again in Odoo. Answer "
              "on this card (the earlier one is no longer kept up to date).")


IncidentCard = Callable[[int, str], Awaitable[Post]]
"""The incident card of a ticket (its id) as it stands, with a notice above it: what someone who answered the
management team's escalation on it sees (`bot.management.service.card_as_it_stands`)."""


class Refused(Exception):
    """A card answer that cannot be taken; the message says why. Nothing was changed."""


def team_keys(services: Services, wanted: str) -> list[str]:
    """`dev` or `dev,devops` as the profile's escalation teams, or a UsageError naming the known ones."""
    teams = [name.strip().lower() for name in wanted.split(",") if name.strip()]
    known = services.profile.escalation_teams
    unknown = [name for name in teams if name not in known]
    if unknown:
        raise UsageError(tr("`{teams}` is not an escalation team: use {known} (several: `dev,devops`).",
                            teams=literal(", ".join(unknown)), known=", ".join(known)))
    if not teams:
        raise UsageError(tr("Name an escalation team: use {known} (several: `dev,devops`).", known=", ".join(known)))
    return list(dict.fromkeys(teams))


async def context_of(services: Services, ticket: Ticket) -> TicketContext:
    return ticket_context(services, ticket, tuple(await services.odoo.findings(ticket)))


def ticket_context(services: Services, ticket: Ticket, findings: tuple[str, ...]) -> TicketContext:
    """What the card shows of the ticket; `findings`: its diagnosis notes, oldest first."""
    return TicketContext(
        ticket_id=ticket.id, label=ticket.label, title=ticket.title,
        service_class=services.profile.classes[ticket.cos].label, users=ticket.facts.users,
        customer=ticket.customer.name if ticket.customer else "",  # the cards say "not set", "nobody yet"
        owner=ticket.owner.name if ticket.owner else "", owner_id=ticket.owner.id if ticket.owner else None,
        stage=ticket.stage, url=ticket.url, deadline=ticket.facts.deadline, description=ticket.description[:600],
        findings=findings)


async def escalate(services: Services, ticket: Ticket, teams: list[str], reason: str, *, by: str,
                   previous: str = "") -> list[Escalation]:
    """Post the escalation card in each team's channel (in the profile's language) and start each team's
    acknowledgment clock; the management team's is the ticket's incident card (`on_incident_card`)."""
    references = {team: await services.references.channel(team) for team in teams}
    missing = [team for team, reference in references.items() if reference is None]
    if missing:
        raise UsageError(tr("No channel is registered for {teams}. In that team's channel, type "
                            "`@Bot /ticket channel {team}`.", teams=", ".join(missing), team=missing[0]))
    context = await context_of(services, ticket)
    now = services.clock()
    ack_within = services.profile.classes[ticket.cos].escalation_ack_within
    escalations, posted = EscalationStore(services.store), []
    for team, reference in references.items():
        assert reference is not None
        business = team == MANAGEMENT_CHANNEL  # the management channel reads business words only
        escalation, _ = await escalations.create(Escalation(  # saved first: a click can come before the post
            id=_new_id(ticket.id, team), team=team, team_label=services.profile.escalation_teams[team].label,
            ticket=context.for_management_channel() if business else context,
            reason=for_management(reason) if business else reason,
            escalated_by=by, posted_at=now, ack_due=now + ack_within,
            conversation_id=reference_root_id(reference), previous=previous, card_pending=True))
        if escalation.card_pending and not on_incident_card(escalation):  # else an earlier run of this command
            escalation = await post_card(services, reference, escalation)  # posted it
        if escalation.status is Status.OPEN:
            await services.timers.schedule(TIMER_KIND, escalation.id, escalation.ack_due)
        posted.append(escalation)
    labels = ", ".join(e.team_label for e in posted)
    await services.odoo.note(ticket, f"{ESCALATED}{labels}" + (f": {reason}" if reason else "."), by=by,
                             hidden=escalation_tag(e.id for e in posted))
    moves_to = [stage for team in teams if (stage := services.profile.escalation_teams[team].stage)]
    if moves_to:  # the team's own stage (TMF: 2nd line, 3rd line); with several, the last one named
        ticket = await services.odoo.move_into(ticket, moves_to[-1])
    asked = [e for e in posted if on_incident_card(e)]
    shown = await _tell_management(services, ticket, asked=bool(asked))  # drawn from the note: after it
    for escalation in asked:
        if escalation.card_pending:
            await _incident_card_shown(services, escalation, shown)
    return posted


def on_incident_card(escalation: Escalation) -> bool:
    """Whether the escalation is answered on the ticket's incident card in the management channel (the management
    team's) instead of a card of its own."""
    return escalation.team == MANAGEMENT_CHANNEL


async def _incident_card_shown(services: Services, escalation: Escalation, shown: bool) -> Escalation:
    """The incident card carrying the escalation's buttons is in the channel (`shown`): it is posted. Else it is
    not yet (Teams or Odoo failed, the channel is gone, another replica is posting the card): the escalation's
    timer tries again in a minute (`_when_due`), until its acknowledgment is due."""
    if shown:
        return await EscalationStore(services.store).posted(escalation, "", escalation.conversation_id)
    await services.timers.schedule(TIMER_KIND, escalation.id, min(services.clock() + CHANNEL_RETRY, escalation.ack_due))
    return escalation


def _new_id(ticket_id: int, team: str) -> str:
    """The same on every run of the command being applied (its idempotency key), so a run after one that saved it
    finds it; unique otherwise, and never handed out again after Redis lost its data (no counter in Redis)."""
    command = idempotency.current()
    return f"{ticket_id}-{command.key if command else secrets.token_hex(8)}-{team}"


async def post_card(services: Services, reference: dict[str, Any], escalation: Escalation,
                    notice: str = "") -> Escalation:
    """Post its card in the team's channel (in the profile's language; `notice`, a sentence marked N_, above it)
    and mark it posted. A Teams failure that may have posted it counts as posted: never twice; its clicks still
    work (the escalation is saved), only redrawing it in place cannot (no activity id)."""
    said = await services.in_channel_language(lambda: tr(notice)) if notice else ""
    try:
        activity_id = await services.send_to_channel(reference, EscalationPost(escalation, notice=said))
    except SendFailed as failure:
        if not failure.ambiguous:
            raise
        logger.warning("escalation card %s for the %s channel may or may not have been posted (%s)",
                       escalation.id, escalation.team, failure)
        activity_id = ""
    return await EscalationStore(services.store).posted(escalation, activity_id, reference_root_id(reference))


async def _tell_management(services: Services, ticket: Ticket, *, asked: bool = False) -> bool:
    """The ticket changed: its card in the management channel posted or redrawn (`asked`: escalated to the
    management team, which answers there); whether it is in the channel as the ticket stands."""
    return MANAGEMENT_CHANNEL in await services.ticket_changed(TicketChanged(ticket, asked=asked))


async def _shown(escalation: Escalation, incident_card: IncidentCard, notice: str = "") -> Post:
    """The card whoever clicked sees, in their language (`notice`, said to them, above it): the escalation's card
    as it stands, or the incident card for the management team's."""
    if on_incident_card(escalation):
        return await incident_card(escalation.ticket.ticket_id, notice)
    return EscalationPost(escalation, notice=notice)


async def tell_owner(services: Services, context: TicketContext, post: Post) -> None:
    """The ticket's owner hears of it (`post`) in their 1:1 chat, in their language (or the support channel, in the
    profile's, if they have none)."""
    reference = await services.references.personal(context.owner_id) if context.owner_id else None
    if reference is not None and context.owner_id is not None:
        await services.send_to_person(context.owner_id, reference, post)
    else:
        await services.post_to_channel(SUPPORT_CHANNEL, post)


async def redraw(services: Services, escalation: Escalation) -> Post:
    """The card as it stands now, replaced in the team's channel for everyone (in the profile's language);
    returned for the person who clicked, to be drawn in the language they speak."""
    reference = await services.references.channel(escalation.team)
    if reference is not None and escalation.activity_id and reference_root_id(reference) == escalation.conversation_id:
        await services.update_in_channel(reference, escalation.activity_id, EscalationPost(escalation))
    return EscalationPost(escalation)


async def answer(services: Services, verb: str, click: EscalationClick, *, where: str, who: str,
                 clicker: Callable[[], Awaitable[int | None]], incident_card: IncidentCard) -> Post:
    """A team member clicked a button on the card: the card to show them (refusals included), as a post to draw in
    their language. `where`: the root id of the conversation the click came from; `who`: who clicked, as the chatter
    names them. `clicker` finds the Odoo user of whoever clicked (None: they have none), asked only when the click is
    from elsewhere; `incident_card` finds the ticket's incident card, shown for an answer on it (the management
    team's)."""
    escalations = EscalationStore(services.store)
    escalation = await escalations.get(click.escalation)
    if escalation is None:
        raise Refused(tr(NOT_KNOWN))
    now = services.clock()
    if verb not in {a.value for a in Answer}:  # refresh: just the current state
        return await _shown(escalation, incident_card)
    wanted = Answer(verb)
    if where != await _team_conversation(services, escalation):
        user_id = await clicker()
        if not may_answer_from_anywhere(services.odoo, user_id):
            raise Refused(answer_refused(services.odoo, escalation.team_label, known=user_id is not None))
    said = click.said(wanted)
    if wanted in NEEDS_TEXT and not said:
        needed = NEEDS_TEXT[wanted]
        return await _shown(escalation, incident_card,
                            notice=tr("Please write {what} before sending.", what=tr(needed)))
    try:
        ticket = await services.odoo.ticket(escalation.ticket.ticket_id)
    except TicketNotFound:
        raise Refused(tr("{ticket} no longer exists in Odoo.", ticket=escalation.ticket.label)) from None
    if ticket.closed and wanted is not Answer.RESOLVED:
        raise Refused(tr("{ticket} is already closed ({stage}).", ticket=ticket.label, stage=literal(ticket.stage)))
    if not await escalations.answer(escalation.id, wanted, who, now, said):
        current = await escalations.get(escalation.id)
        assert current is not None
        return await _shown(current, incident_card, notice=_why_not(current, wanted, who))
    current = await escalations.get(escalation.id)
    assert current is not None
    await services.timers.cancel(TIMER_KIND, escalation.id)  # the team answered: no passing on
    what = (f"{who} ({escalation.team_label}) {DONE_WORDS[wanted]} the escalation of {ticket.label}"
            + (f": {said}" if said else "."))
    await services.odoo.note(ticket, what, by=who, hidden=escalation_tag([escalation.id]))
    await tell_owner(services, escalation.ticket, EscalationAnswered(ticket=ticket.label, team=escalation.team_label,
                                                                     who=who, answer=wanted, said=said))
    shown = await redraw(services, current)  # the management team's: its incident card, redrawn just below
    await _tell_management(services, ticket)
    return await _shown(current, incident_card) if on_incident_card(current) else shown


async def _team_conversation(services: Services, escalation: Escalation) -> str:
    """Where the team answers from: its card's channel; the team's channel registered now for an escalation given
    back from Odoo whose card waits for that channel (`bot.escalation.rebuild`), so the earlier card works."""
    if escalation.conversation_id:
        return escalation.conversation_id
    reference = await services.references.channel(escalation.team)
    return reference_root_id(reference) if reference is not None else ""


def _why_not(escalation: Escalation, wanted: Answer, who: str) -> str:
    if wanted is Answer.ACKNOWLEDGE and escalation.status is Status.ACKNOWLEDGED:
        mine = escalation.acknowledged_by == who
        return tr("You have already acknowledged it.") if mine else \
            tr("{who} has already acknowledged it.", who=literal(escalation.acknowledged_by))
    if escalation.status is Status.PASSED_ON:
        return tr("It was passed on to the {team}: answer there.", team=escalation.passed_to or tr(NOBODY_FURTHER))
    status = STATUS_NAMES[escalation.status]
    return tr("It is already {status} ({who}).", status=tr(status), who=literal(escalation.answered_by))


@timers.on(TIMER_KIND)
async def on_timer(services: Services, timer: Timer) -> None:
    """The escalation's timer: post its card if it still waits for one (an escalation given back from Odoo after
    Redis lost it: `bot.escalation.rebuild`), and when its acknowledgment is due and nobody acknowledged, pass it
    on to the next team of the chain and tell the owner.

    Deciding is a compare-and-set (open -> passed on), so it happens once; the hand-over after it
    is done again if this delivery fails half-way (the timer comes back; `successor` says if the
    next team's card was posted). Its writes carry a key of their own (`bot.odoo.idempotency`), looked for
    before writing, and the next team's escalation gets the same id each time: done again, it lands once."""
    escalation = await EscalationStore(services.store).get(timer.key)
    if escalation is None:
        return
    with idempotency.applying(f"escalation-timer:{escalation.id}", again=True):
        await _when_due(services, escalation)


async def _when_due(services: Services, escalation: Escalation) -> None:
    if escalation.card_pending and escalation.status not in (Status.RESOLVED, Status.DECLINED):
        reference = await services.references.channel(escalation.team)
        if reference is not None and on_incident_card(escalation):
            escalation = await _on_incident_card_again(services, escalation, reference)
        elif reference is not None:
            escalation = await post_card(services, reference, escalation, notice=REPOSTED)
    now = services.clock()
    waiting = escalation.card_pending and not escalation.finished  # for its team's channel to be registered again
    if escalation.status is Status.OPEN and now < escalation.ack_due:
        again = min(now + CHANNEL_RETRY, escalation.ack_due) if waiting else escalation.ack_due
        await services.timers.schedule(TIMER_KIND, escalation.id, again)
        return
    if waiting and escalation.status is not Status.OPEN:
        await services.timers.schedule(TIMER_KIND, escalation.id, now + CHANNEL_RETRY)
    if escalation.status is Status.OPEN and (paused := await _paused_for(services, escalation)):
        await services.timers.schedule(TIMER_KIND, escalation.id, now + paused)  # looked at again after a while
        return
    following = services.profile.escalation_teams[escalation.team].next
    reachable = following is not None and await services.references.channel(following) is not None
    label = services.profile.escalation_teams[following].label if reachable and following else ""
    escalations = EscalationStore(services.store)
    if escalation.status is Status.OPEN:
        if not await escalations.pass_on(escalation.id, label, now):  # "": nobody further
            return  # answered at the last moment
        escalation = await escalations.get(escalation.id) or escalation
        await redraw(services, escalation)
    elif escalation.status is not Status.PASSED_ON or escalation.successor:
        return  # answered in time, or already handed over
    try:
        ticket = await services.odoo.ticket(escalation.ticket.ticket_id)
    except TicketNotFound:
        return
    team, ticket_label = escalation.team_label, escalation.ticket.label
    outcome = f"{PASSED_TO}{label}." if label else f"{END_OF_CHAIN}."
    await services.odoo.note(ticket, f"{NOT_ACKNOWLEDGED}{team}: {outcome}",  # the words bot.insights.timeline reads
                             by=BOT_AUTHOR, hidden=escalation_tag([escalation.id]))
    if not label or following is None:
        await tell_owner(services, escalation.ticket, NotAcknowledged(ticket=ticket_label, team=team))
        await _tell_management(services, ticket)  # its card says nobody took it on (the next team's escalate does)
        return
    [successor] = await escalate(services, ticket, [following], escalation.reason, by=escalation.escalated_by,
                                 previous=escalation.team_label)
    await escalations.handed_over(escalation.id, successor.id)
    await tell_owner(services, escalation.ticket, NotAcknowledged(ticket=ticket_label, team=team, passed_to=label))


async def _paused_for(services: Services, escalation: Escalation) -> timedelta | None:
    """While its ticket is on hold an escalation's clock is paused (On Hold means nobody is chased, the chain does
    not climb): how long to wait before looking again (the class's time to acknowledge); None when it runs."""
    try:
        ticket = await services.odoo.ticket(escalation.ticket.ticket_id)
    except TicketNotFound:
        return None
    if ticket.stage_key is not Stage.ON_HOLD:
        return None
    return services.profile.classes[ticket.cos].escalation_ack_within


async def _on_incident_card_again(services: Services, escalation: Escalation, reference: dict[str, Any]) -> Escalation:
    """The management team's escalation still waits for its card (the first try failed, or Redis lost it and
    `bot.escalation.rebuild` gave it back): the incident card is posted or redrawn with its buttons."""
    try:
        ticket = await services.odoo.ticket(escalation.ticket.ticket_id)
    except TicketNotFound:
        return escalation
    escalation = replace(escalation, conversation_id=escalation.conversation_id or reference_root_id(reference))
    return await _incident_card_shown(services, escalation, await _tell_management(services, ticket, asked=True))
