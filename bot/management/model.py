"""An incident as management sees it: a pure function of the ticket's story in Odoo and the process.

Which tickets management hears of (`trigger`), and what the card about one says (`summarise`): what is
affected, how many users, since when, what is being done, when the next update is due, whether a
decision is needed, and once it is closed how fast it was acknowledged and resolved against the class's
targets. Every free text goes through `bot.privacy.for_management` here, so nothing else has to.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from bot.channels import MANAGEMENT_CHANNEL
from bot.chatter_words import REOPENED
from bot.escalation.model import id_from_notes
from bot.insights.model import TicketHistory
from bot.insights.timeline import (
    EscalationRecord,
    Event,
    EventKind,
    Milestones,
    escalated_teams,
    escalation_answer,
    escalations,
    events,
    milestones,
    passed_on,
    waiting_for,
)
from bot.privacy import for_management
from bot.process import Audience, ClassOfService, ProcessProfile, Stage
from bot.tickets import Ticket

IMPACT_LENGTH = 300  # characters of the description shown when nobody wrote the impact down
STEPS_SHOWN = 10
# Notes the owner writes for management: `/ticket note 42 Decision needed: ...`, later `Decided: ...`.
DECISION_NEEDED = "Decision needed:"
DECIDED = "Decided:"


class Trigger(StrEnum):
    """Why management hears of the ticket."""

    CLASS = "class"  # its class alerts management (Expedite)
    USERS = "users"  # a Priority ticket with at least management.priority_threshold.users affected
    OPEN_FOR = "open_for"  # a Priority ticket unresolved longer than management.priority_threshold.open_for
    ESCALATED = "escalated"  # escalated to the management team itself (the end of the chain), whatever its class


def trigger(ticket: Ticket, profile: ProcessProfile, now: datetime) -> Trigger | None:
    """Whether (and why) the ticket deserves a card in the management channel now."""
    if Audience.MANAGEMENT in profile.classes[ticket.cos].alerts:
        return Trigger.CLASS
    if ticket.cos is not ClassOfService.PRIORITY or ticket.closed or ticket.stage_key in _FINISHED:
        return None
    policy = profile.management
    if policy.priority_users is not None and (ticket.facts.users or 0) >= policy.priority_users:
        return Trigger.USERS
    due = open_for_due(ticket, profile)
    if due is not None and now >= due:
        return Trigger.OPEN_FOR
    return None


def open_for_due(ticket: Ticket, profile: ProcessProfile) -> datetime | None:
    """When a Priority ticket still unresolved passes the profile's `open_for` threshold (None: never)."""
    open_for = profile.management.priority_open_for
    if open_for is None or ticket.cos is not ClassOfService.PRIORITY or ticket.stage_key is Stage.RESOLVED:
        return None
    return (ticket.facts.reported or ticket.created) + open_for


_FINISHED = frozenset({Stage.RESOLVED, Stage.DONE, Stage.CANCELLED})


class Phase(StrEnum):
    """Where the incident stands, in the order it usually goes."""

    REPORTED = "reported"  # logged; the users have not been answered yet
    HANDLING = "handling"  # support answered the users and works on it
    ESCALATED = "escalated"  # waiting for a team to take it
    TEAM_WORKING = "team_working"  # a team took it
    PAUSED = "paused"  # on hold, or waiting for the customer
    RESOLVED = "resolved"  # a fix is in place, waiting for the users to confirm
    CLOSED = "closed"
    CANCELLED = "cancelled"


class StepKind(StrEnum):
    REPORTED = "reported"
    USERS_TOLD = "users_told"  # the first answer to the customer
    USERS_UPDATED = "users_updated"  # the latest update to the customer
    ESCALATED = "escalated"
    TEAM_TOOK = "team_took"
    TEAM_ASKED = "team_asked"  # the team needs information
    TEAM_FIXED = "team_fixed"
    TEAM_DECLINED = "team_declined"
    PASSED_ON = "passed_on"  # the team did not acknowledge in time: it went up the chain (or nobody was left)
    PAUSED = "paused"
    RESUMED = "resumed"
    REOPENED = "reopened"
    FIXED = "fixed"  # the fix was sent to the customer, who is asked to confirm
    CONFIRMED = "confirmed"
    CLOSED = "closed"
    CANCELLED = "cancelled"


_ANSWERS = {"acknowledged": StepKind.TEAM_TOOK, "needs more information on": StepKind.TEAM_ASKED,
            "resolved": StepKind.TEAM_FIXED, "declined": StepKind.TEAM_DECLINED}


@dataclass(frozen=True)
class Step:
    at: datetime
    kind: StepKind
    team: str = ""  # the team(s) escalated to or answering
    who: str = ""  # who answered for the team
    to: str = ""  # PASSED_ON: the team it went to ("" at the end of the chain)


class DecisionKind(StrEnum):
    ASKED = "asked"  # the owner wrote what management must decide (a "Decision needed:" note)
    DECLINED = "declined"  # a team declined the escalation: who takes it?
    TOP_OF_CHAIN = "top_of_chain"  # the escalation reached management itself, which has not taken it on yet
    UNANSWERED = "unanswered"  # nobody acknowledged it in time, and nobody is left up the chain to pass it to


@dataclass(frozen=True)
class Decision:
    kind: DecisionKind
    text: str = ""  # what the owner asked (ASKED)
    team: str = ""  # who declined (DECLINED), the last team that let it go (UNANSWERED)


@dataclass(frozen=True)
class Asked:
    """The escalation waiting for the management team itself: management answers it on the incident card
    (Acknowledge or Decline), the same escalation as an escalation card would carry (`bot.escalation`)."""

    escalation_id: str
    due: datetime  # by when management is to acknowledge it (the class's escalation_ack_within), else it is
    #                passed on: at the end of the chain, the owner is told nobody took it


@dataclass(frozen=True)
class Measured:
    """One closing figure: how long it took, against the class's target (None: the profile sets none)."""

    took: timedelta
    target: timedelta | None

    @property
    def met(self) -> bool | None:
        return None if self.target is None else self.took <= self.target


@dataclass(frozen=True)
class TeamResponse:
    team: str
    took: timedelta | None  # None: the team never answered
    target: timedelta


@dataclass(frozen=True)
class Closing:
    """The closing summary: time to acknowledge (logged -> first answer to the users), time to resolve
    (report -> fix) and each escalated team's time to answer, against the class's targets."""

    acknowledge: Measured | None  # None: the users were never answered
    resolve: Measured | None  # None: closed without a fix (e.g. cancelled)
    responses: tuple[TeamResponse, ...]
    confirmed: bool  # the users confirmed the fix (else it was closed without their confirmation)
    open_for: timedelta  # from the report to closing


@dataclass(frozen=True)
class IncidentSummary:
    ticket_id: int
    label: str  # HT00007
    title: str
    service_class: str  # "Expedite"
    trigger: Trigger | None  # None: shown on request only (`/ticket summary <id>`)
    impact: str  # what is affected, in the words the owner gave management (or the report's)
    users: int | None
    customer: str
    owner: str
    since: datetime  # when it was reported
    phase: Phase
    teams: str  # the teams waited for (ESCALATED) or working on it (TEAM_WORKING)
    steps: tuple[Step, ...]  # what was done, oldest first
    next_update: datetime | None  # when the users (and this card) hear more, while it is open
    decision: Decision | None
    closing: Closing | None  # once closed
    asked: Asked | None = None  # management itself is asked to take it on, on this card

    def update_overdue(self, now: datetime) -> bool:
        return self.next_update is not None and self.next_update < now


def summarise(history: TicketHistory, profile: ProcessProfile, *, now: datetime, next_update: datetime | None,
              trigger: Trigger | None) -> IncidentSummary:
    """The management view of one ticket: every free text masked by `for_management`."""
    ticket = history.ticket
    timeline = events(history)
    moments = milestones(history, timeline)
    steps = _steps(timeline, moments)
    records = escalations(timeline)
    phase, teams = _phase(ticket, steps, records)
    service_class = profile.classes[ticket.cos]
    closing = _closing(history, timeline, moments, profile) if phase is Phase.CLOSED else None
    still_open = phase not in (Phase.CLOSED, Phase.CANCELLED)
    return IncidentSummary(
        ticket_id=ticket.id, label=ticket.label, title=for_management(ticket.title) or ticket.label,
        service_class=service_class.label, trigger=trigger, impact=_impact(ticket, timeline),
        users=ticket.facts.users, customer=for_management(ticket.customer.name) if ticket.customer else "",
        owner=for_management(ticket.owner.name) if ticket.owner else "", since=moments.reported, phase=phase,
        teams=for_management(teams), steps=_shown(steps),
        next_update=next_update if phase not in (Phase.RESOLVED, Phase.CLOSED, Phase.CANCELLED) else None,
        decision=_decision(timeline, steps, records, profile) if still_open else None,
        closing=closing, asked=_asked(ticket, records, profile) if still_open else None)


def _impact(ticket: Ticket, timeline: Sequence[Event]) -> str:
    """The latest escalation's reason (the owner's words about the business impact), else the report."""
    for event in reversed(timeline):
        if event.kind is EventKind.ESCALATED and ":" in event.text:
            reason = for_management(event.text.split(":", 1)[1].strip())
            if reason:
                return reason
    described = for_management(ticket.description)
    if len(described) > IMPACT_LENGTH:
        described = described[: IMPACT_LENGTH - 1].rstrip() + "…"
    return described


def _steps(timeline: Sequence[Event], moments: Milestones) -> list[Step]:
    steps = [Step(moments.reported, StepKind.REPORTED)]
    for event in timeline:
        step = _step(event)
        handed_over = step is not None and step.kind is StepKind.ESCALATED and \
            steps[-1].kind is StepKind.PASSED_ON and steps[-1].to == step.team  # the pass-on step says it
        if step is not None and not handed_over:
            steps.append(step)
    last_update = max((i for i, s in enumerate(steps) if s.kind is StepKind.USERS_UPDATED), default=None)
    return [s for i, s in enumerate(steps) if s.kind is not StepKind.USERS_UPDATED or i == last_update]


def _step(event: Event) -> Step | None:
    kind = event.kind
    if kind is EventKind.ACKNOWLEDGED:
        return Step(event.at, StepKind.USERS_TOLD)
    if kind is EventKind.CUSTOMER_UPDATE:
        return Step(event.at, StepKind.USERS_UPDATED)
    if kind is EventKind.ESCALATED:
        return Step(event.at, StepKind.ESCALATED, team=", ".join(escalated_teams(event.text)))
    if kind is EventKind.ESCALATION_ANSWER and (answer := escalation_answer(event.text)):
        who, team, verb = answer
        return Step(event.at, _ANSWERS[verb], team=team, who=for_management(who))
    if kind is EventKind.ESCALATION_PASSED_ON and (passed := passed_on(event.text)):
        team, following = passed
        return Step(event.at, StepKind.PASSED_ON, team=team, to=following)
    if kind is EventKind.RESUMED:
        return Step(event.at, StepKind.REOPENED if event.text.startswith(REOPENED) else StepKind.RESUMED)
    if kind is EventKind.CLOSED:
        return Step(event.at, StepKind.CANCELLED if event.text.startswith("Cancelled") else StepKind.CLOSED)
    simple = {EventKind.PAUSED: StepKind.PAUSED, EventKind.RESOLVED: StepKind.FIXED,
              EventKind.CONFIRMED: StepKind.CONFIRMED}
    return Step(event.at, simple[kind]) if kind in simple else None


def _shown(steps: list[Step]) -> tuple[Step, ...]:
    """The report and the latest steps after it."""
    if len(steps) <= STEPS_SHOWN:
        return tuple(steps)
    return (steps[0], *steps[-(STEPS_SHOWN - 1):])


def _phase(ticket: Ticket, steps: Sequence[Step], records: Sequence[EscalationRecord]) -> tuple[Phase, str]:
    stage = ticket.stage_key
    if stage is Stage.CANCELLED:
        return Phase.CANCELLED, ""
    if ticket.closed or stage is Stage.DONE:
        return Phase.CLOSED, ""
    if stage is Stage.RESOLVED:
        return Phase.RESOLVED, ""
    if stage in (Stage.ON_HOLD, Stage.WAITING_CUSTOMER):
        return Phase.PAUSED, ""
    waiting, working = _teams(records)
    if waiting:
        return Phase.ESCALATED, ", ".join(waiting)
    if working:
        return Phase.TEAM_WORKING, ", ".join(working)
    if any(step.kind is StepKind.USERS_TOLD for step in steps):
        return Phase.HANDLING, ""
    return Phase.REPORTED, ""


def _teams(records: Sequence[EscalationRecord]) -> tuple[list[str], list[str]]:
    """The teams an escalation waits for (`waiting_for`: one passed on waits for the team it went to), and those
    working on it (took it, or asked for more, and have not resolved or declined it)."""
    waiting = list(dict.fromkeys(waits.team for waits in waiting_for(records)))
    working = [team for team in dict.fromkeys(r.team for r in records if r.answers and not r.finished)
               if team not in waiting]
    return waiting, working


def open_decision(timeline: Sequence[Event]) -> str:
    """What the owner's last "Decision needed:" note asks management, in words for management; "" when there is
    none, or a "Decided:" note came after it."""
    for event in reversed(timeline):
        if event.kind is EventKind.NOTE and event.text.startswith(DECIDED):
            return ""
        if event.kind is EventKind.NOTE and event.text.startswith(DECISION_NEEDED):
            if asked := for_management(event.text.removeprefix(DECISION_NEEDED).strip()):
                return asked
    return ""


def _decision(timeline: Sequence[Event], steps: Sequence[Step], records: Sequence[EscalationRecord],
              profile: ProcessProfile) -> Decision | None:
    if asked := open_decision(timeline):  # the owner's own words win
        return Decision(DecisionKind.ASKED, text=asked)
    top = {team.label for team in profile.escalation_teams.values() if team.next is None}
    waiting, working = _teams(records)
    if any(team in top for team in waiting):
        return Decision(DecisionKind.TOP_OF_CHAIN)
    if waiting or working:
        return None
    last = next((s for s in reversed(steps) if s.kind in (StepKind.ESCALATED, StepKind.TEAM_DECLINED,
                                                          StepKind.PASSED_ON)), None)
    if last is not None and last.kind is StepKind.TEAM_DECLINED:
        return Decision(DecisionKind.DECLINED, team=for_management(last.team))
    if last is not None and last.kind is StepKind.PASSED_ON and not last.to:
        return Decision(DecisionKind.UNANSWERED, team=for_management(last.team))
    return None


def _asked(ticket: Ticket, records: Sequence[EscalationRecord], profile: ProcessProfile) -> Asked | None:
    """The escalation to the management team still waiting for its acknowledgment, if there is one: its card is
    the incident card (the management channel is the management team's channel), so the card carries its
    buttons. Its id is the one the escalation's notes carry (`id_from_notes`, as `bot.escalation.rebuild` reads
    it), so a click answers the very escalation the bot keeps, with its compare-and-set."""
    team = profile.escalation_teams.get(MANAGEMENT_CHANNEL)
    if team is None:
        return None
    record = next((r for r in reversed(records) if r.team == team.label and not r.answers and r.passed_on_at is None),
                  None)
    if record is None:
        return None
    return Asked(id_from_notes(ticket.id, record.id, record.at, MANAGEMENT_CHANNEL),
                 record.at + profile.classes[ticket.cos].escalation_ack_within)


def _closing(history: TicketHistory, timeline: Sequence[Event], moments: Milestones,
             profile: ProcessProfile) -> Closing:
    service_class = profile.classes[history.ticket.cos]
    acknowledge = Measured(moments.to_acknowledge, service_class.acknowledge_within) \
        if moments.to_acknowledge is not None else None
    resolve = Measured(moments.to_resolve, service_class.resolve_within) if moments.to_resolve is not None else None
    responses = tuple(TeamResponse(record.team, record.answered_at - record.at if record.answered_at else None,
                                   service_class.escalation_ack_within) for record in escalations(timeline))
    end = moments.closed or moments.resolved or moments.reported
    return Closing(acknowledge=acknowledge, resolve=resolve, responses=responses, confirmed=moments.confirmed,
                   open_for=max(end - moments.reported, timedelta(0)))
