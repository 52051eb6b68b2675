"""Escalations given back from Odoo after Redis lost them (a flush, a restart without an append-only file).

An escalation lives in Redis with its acknowledgment timer; Odoo's chatter has its story: the note written
when it was posted (its teams, the impact, who escalated, when, and its id, hidden:
`bot.chatter_words.escalation_tag`), each answer of the team, and the note written when it was passed on.
`bot.insights.timeline` reads that story; this module turns each escalation still waiting into its Redis record
again, when the record is gone.

- **Nobody answered yet**: the record comes back open, posted at the note's time, due for acknowledgment the
  class's `escalation_ack_within` later (as `service.escalate` computes it), and its timer is armed to fire
  now: it posts a new card in the team's channel (the old card cannot be redrawn: its activity id went with
  Redis), saying it is posted again, then waits for the deadline, or passes it on at once if the deadline
  passed meanwhile. A channel not registered again yet is looked for every minute until the deadline.
- **Acknowledged (or asked for more information) but not resolved**: the team is working on it and has its
  card; what they expect is that the card still works when they come back to answer Resolved. So the record
  comes back in that state under the same id (the one the old card carries), with no acknowledgment timer (it
  was acknowledged) and no new card, which would read as a second escalation. A note written before ids were
  kept gives no id for the old card: then a new card is posted, so there is one that works.
- **Resolved, declined or passed on**: nothing is expected from the team; nothing comes back (the card says
  it is not known any more, which is true for a finished escalation).

Idempotent: the id comes from the note (or, for an old note, from the ticket, team and time), the record is
created only if absent (atomically), and only the run that created it arms its timer; the timer engine's claim
lets one replica post the card, once. Running it twice, or on two replicas, posts one card per escalation. A
record that exists but lost its timer (a replica died between the two writes) gets it again.

Odoo's cost: one call per page of open tickets (`OdooGateway.chatter_mentioning`), never one per ticket.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from bot.channels import MANAGEMENT_CHANNEL
from bot.chatter_words import DIAGNOSIS
from bot.context import Services
from bot.escalation.model import ANSWERS, DONE_WORDS, Answer, Escalation, Status, id_from_notes
from bot.escalation.service import TIMER_KIND, ticket_context
from bot.escalation.store import EscalationStore
from bot.insights.model import TicketHistory
from bot.insights.timeline import EscalationRecord, EventKind, escalations, events
from bot.privacy import for_management
from bot.tickets import Ticket

logger = logging.getLogger(__name__)

MENTIONS = ("escalat", DIAGNOSIS)  # the notes the story needs: about escalations, and the diagnosis shown on cards
_ANSWER_OF = {word: answer for answer, word in DONE_WORDS.items()}  # "acknowledged" -> Answer.ACKNOWLEDGE


async def rebuild_escalations(services: Services, tickets: Sequence[Ticket]) -> int:
    """Give back the waiting escalations of these open tickets whose records Redis lost; how many came back."""
    chatter = await services.odoo.chatter_mentioning([ticket.id for ticket in tickets], MENTIONS)
    restored = 0
    for ticket in tickets:
        if not chatter.get(ticket.id):
            continue
        timeline = events(TicketHistory(ticket, None, tuple(chatter[ticket.id])))
        findings = tuple(event.text for event in timeline if event.kind is EventKind.DIAGNOSIS)
        for record in escalations(timeline):
            if not record.finished and await _restore(services, ticket, record, findings):
                restored += 1
    return restored


async def _restore(services: Services, ticket: Ticket, record: EscalationRecord, findings: tuple[str, ...]) -> bool:
    team = next((key for key, known in services.profile.escalation_teams.items() if known.label == record.team), None)
    if team is None:
        logger.warning("ticket %s: an escalation to %r waits, but the process profile has no such team any more",
                       ticket.id, record.team)
        return False
    wanted = given_back(services, ticket, team, record, findings)
    escalation, created = await EscalationStore(services.store).create(wanted)
    engine = services.timers
    if not created:  # there, or given back by another run: only a timer lost between two writes is armed again
        if escalation.card_pending or escalation.status is Status.OPEN:
            if (await engine.get_all(escalation.id, [TIMER_KIND], claimed=True))[TIMER_KIND] is None:
                await engine.schedule(TIMER_KIND, escalation.id, services.clock())
        return False
    if escalation.card_pending or escalation.status is Status.OPEN:
        await engine.schedule(TIMER_KIND, escalation.id, services.clock())  # posts the card, then waits for ack_due
    logger.info("escalation %s of ticket %s to the %s given back from Odoo (%s)", escalation.id, ticket.id,
                escalation.team_label, escalation.status)
    return True


def given_back(services: Services, ticket: Ticket, team: str, record: EscalationRecord,
               findings: tuple[str, ...]) -> Escalation:
    """The escalation as its notes tell it: the team's latest answer is where it stands."""
    business = team == MANAGEMENT_CHANNEL  # the management channel reads business words only, as when escalated
    context = ticket_context(services, ticket, findings)
    latest = record.answers[-1] if record.answers else None
    acknowledged = next((answer for answer in record.answers if _ANSWER_OF[answer.verb] is Answer.ACKNOWLEDGE), None)
    status = ANSWERS[_ANSWER_OF[latest.verb]][0] if latest else Status.OPEN
    return Escalation(
        id=id_from_notes(ticket.id, record.id, record.at, team), team=team,
        team_label=record.team, ticket=context.for_management_channel() if business else context,
        reason=for_management(record.reason) if business else record.reason, escalated_by=record.by,
        posted_at=record.at, ack_due=record.at + services.profile.classes[ticket.cos].escalation_ack_within,
        status=status, acknowledged_by=acknowledged.who if acknowledged else "",
        acknowledged_at=acknowledged.at if acknowledged else None,
        answered_by=latest.who if latest else "", answered_at=latest.at if latest else None,
        answer=latest.text if latest else "", previous=record.previous,
        card_pending=status is Status.OPEN or not record.id)

