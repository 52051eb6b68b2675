"""One ticket measured against the service levels of its class in the process profile.

Each check says whether a target was met and, in one sentence (in the language being spoken), by how
much: reception (logged within `timers.reception_within` of the report), acknowledgment (`acknowledge_within`), customer
updates (no silence longer than `update_every` while the ticket is worked on), escalations
(answered within `escalation_ack_within`) and the deadline of a Fixed Deadline ticket.
A cancelled ticket is not measured.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from bot.i18n import tr
from bot.insights.model import TicketHistory
from bot.insights.timeline import Event, Milestones, escalations, longest_silence
from bot.process import ProcessProfile, Stage, format_duration
from bot.tickets import Ticket


class Measure(StrEnum):
    RECEPTION = "reception"
    ACKNOWLEDGMENT = "acknowledgment"
    UPDATES = "updates"
    ESCALATION = "escalation"
    DEADLINE = "deadline"


@dataclass(frozen=True)
class Check:
    measure: Measure
    met: bool
    text: str  # "Acknowledged 42m after it was logged (target 30m)"


def rounded(value: timedelta) -> str:
    """A duration as the bot writes them (`1h30m`), to the minute once it is a minute or more."""
    if value >= timedelta(minutes=1):
        value = timedelta(minutes=round(value.total_seconds() / 60))
    return format_duration(max(value, timedelta(0)))


def checks(history: TicketHistory, timeline: Sequence[Event], moments: Milestones, profile: ProcessProfile,
           now: datetime) -> list[Check]:
    ticket = history.ticket
    if ticket.stage_key is Stage.CANCELLED:
        return []
    service_class = profile.classes[ticket.cos]
    return [
        *_reception(ticket, profile.reception_within),
        *_acknowledgment(moments, service_class.acknowledge_within, now),
        *_updates(timeline, moments, service_class.label, service_class.update_every, now),
        *_escalations(timeline, service_class.escalation_ack_within, now),
        *_deadline(ticket, moments, now),
    ]


def _reception(ticket: Ticket, target: timedelta) -> list[Check]:
    reported = ticket.facts.reported
    if reported is None or ticket.created - reported < timedelta(minutes=1):
        return []  # logged as it was reported (from Teams), nothing to measure
    took = ticket.created - reported
    return [Check(Measure.RECEPTION, took <= target,
                  tr("Logged in Odoo {took} after the report (target {target})", took=rounded(took),
                     target=rounded(target)))]


def _acknowledgment(moments: Milestones, target: timedelta, now: datetime) -> list[Check]:
    took = moments.to_acknowledge
    if took is not None:
        return [Check(Measure.ACKNOWLEDGMENT, took <= target,
                      tr("Acknowledged {took} after it was logged (target {target})", took=rounded(took),
                         target=rounded(target)))]
    waited = (moments.closed or now) - moments.logged
    if waited <= target:
        return []
    said = tr("Never acknowledged to the customer (target {target})", target=rounded(target)) if moments.closed \
        else tr("Not acknowledged yet, {waited} after it was logged (target {target})", waited=rounded(waited),
                target=rounded(target))
    return [Check(Measure.ACKNOWLEDGMENT, False, said)]


def _updates(timeline: Sequence[Event], moments: Milestones, label: str, every: timedelta | None,
             now: datetime) -> list[Check]:
    if every is None or moments.acknowledged is None:
        return []  # Fixed Deadline: the cadence follows the time left; not acknowledged: measured above
    end = moments.resolved or moments.closed or now
    if end - moments.acknowledged <= every:
        return []  # over before an update was due
    silence = longest_silence(timeline, moments.acknowledged, end)
    if silence <= every:
        return [Check(Measure.UPDATES, True, tr("The customer heard from us at least every {every}",
                                                every=rounded(every)))]
    return [Check(Measure.UPDATES, False, tr("The customer went {silence} without an update ({service_class}: every "
                                             "{every})", silence=rounded(silence), service_class=label,
                                             every=rounded(every)))]


def _escalations(timeline: Sequence[Event], target: timedelta, now: datetime) -> list[Check]:
    found = []
    for record in escalations(timeline):
        if record.answered_at is not None:
            took = record.answered_at - record.at
            found.append(Check(Measure.ESCALATION, took <= target,
                               tr("The {team} answered the escalation {took} after it was sent ({who} {answer} it; "
                                  "target {target})", team=record.team, took=rounded(took), who=record.answered_by,
                                  answer=tr(record.answer), target=rounded(target))))
        elif now - record.at > target:
            found.append(Check(Measure.ESCALATION, False, tr("The {team} did not answer the escalation (target "
                                                             "{target})", team=record.team, target=rounded(target))))
    return found


def _deadline(ticket: Ticket, moments: Milestones, now: datetime) -> list[Check]:
    deadline = ticket.facts.deadline
    if deadline is None:
        return []
    if moments.resolved is not None:
        if moments.resolved <= deadline:
            return [Check(Measure.DEADLINE, True, tr("Delivered {early} before the deadline",
                                                     early=rounded(deadline - moments.resolved)))]
        return [Check(Measure.DEADLINE, False, tr("Delivered {late} after the deadline",
                                                  late=rounded(moments.resolved - deadline)))]
    if now > deadline:
        return [Check(Measure.DEADLINE, False, tr("The deadline passed {late} ago without a resolution",
                                                  late=rounded(now - deadline)))]
    return []
