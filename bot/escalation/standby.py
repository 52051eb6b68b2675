"""Heads-ups before an escalation: a team put on standby (a card in its channel, no acknowledgment clock: an
escalation would come as its own card), and the alerts a new ticket's class asks for (`classes.<c>.alerts`: the
team leads; the first of the profile's escalation teams on standby, as seed 3's "alert the Dev team immediately").

A heads-up that cannot be posted never fails the command that caused it: it is logged, and said in the reply."""

from __future__ import annotations

import logging

from bot.channels import SUPPORT_CHANNEL
from bot.chatter_words import ON_STANDBY
from bot.context import Services
from bot.escalation.posts import NewTicketAlert, StandbyPost
from bot.escalation.service import context_of
from bot.i18n import tr
from bot.parsing import UsageError
from bot.process import Audience
from bot.tickets import Ticket
from bot.turn import SendFailed

logger = logging.getLogger(__name__)


async def put_on_standby(services: Services, ticket: Ticket, teams: list[str], note: str, *, by: str) -> list[str]:
    """The heads-up in each team's channel, and a note on the ticket; the labels of the teams that have it. A team
    with no channel registered is a UsageError, as for an escalation."""
    references = {team: await services.references.channel(team) for team in teams}
    missing = [team for team, reference in references.items() if reference is None]
    if missing:
        raise UsageError(tr("No channel is registered for {teams}. In that team's channel, type "
                            "`@Bot /ticket channel {team}`.", teams=", ".join(missing), team=missing[0]))
    told = await _standby_cards(services, ticket, teams, note, by=by)
    if told:
        await services.odoo.note(ticket, f"{ON_STANDBY}{', '.join(told)}" + (f": {note}" if note else "."), by=by)
    return told


async def alert_new(services: Services, ticket: Ticket, *, by: str) -> list[str]:
    """What the new ticket's class asks beyond the owner's answer: its leads alerted (in their 1:1 chat with the
    bot, else in the support channel), the first escalation team put on standby (where its channel is registered).
    Who was told, for the answer."""
    alerts = services.profile.classes[ticket.cos].alerts
    told: list[str] = []
    if Audience.LEAD in alerts and await _alert_leads(services, ticket, by=by):
        told.append(tr("the team leads"))
    first = next(iter(services.profile.escalation_teams), None)
    if Audience.ESCALATION in alerts and first and await services.references.channel(first):
        standby = tr("{team} on standby", team=services.profile.escalation_teams[first].label)
        if await _standby_cards(services, ticket, [first], tr("New {service_class} ticket.", service_class=(
                services.profile.classes[ticket.cos].label)), by=by):
            await services.odoo.note(ticket, f"{ON_STANDBY}{services.profile.escalation_teams[first].label}: "
                                             "alerted as the ticket was logged.", by=by)
            told.append(standby)
    return told


async def _standby_cards(services: Services, ticket: Ticket, teams: list[str], note: str, *, by: str) -> list[str]:
    context = await context_of(services, ticket)
    now = services.clock()
    told = []
    for team in teams:
        label = services.profile.escalation_teams[team].label
        try:
            posted = await services.post_to_channel(team, StandbyPost(context, team=label, by=by, note=note, at=now))
        except SendFailed:
            logger.warning("the heads-up for the %s could not be posted", team, exc_info=True)
            continue
        if posted:
            told.append(label)
    return told


async def _alert_leads(services: Services, ticket: Ticket, *, by: str) -> bool:
    """Each lead who has a 1:1 chat with the bot gets the alert there (in their language); with none, the support
    channel does."""
    alert = NewTicketAlert(ticket, service_class=services.profile.classes[ticket.cos].label, by=by)
    reached = False
    for lead in services.odoo.leads():
        reference = await services.references.personal(lead.id)
        if reference is None:
            continue
        try:
            await services.send_to_person(lead.id, reference, alert)
            reached = True
        except SendFailed:
            logger.warning("a team lead could not be alerted in their chat", exc_info=True)
    if reached:
        return True
    try:
        return await services.post_to_channel(SUPPORT_CHANNEL, alert)
    except SendFailed:
        logger.warning("the leads' alert could not be posted in the support channel", exc_info=True)
        return False
