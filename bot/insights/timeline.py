"""A ticket's story read back from its chatter: events in order, and the milestones service levels count from.

The bot writes every step to the chatter in fixed words (the handlers and services named below);
people working in Odoo's own UI write what they like. So the signals are chosen to hold for both:
- acknowledged: the first customer-visible message from an agent after the ticket was logged
  (`/ticket ack`, `/ticket update`, or a reply typed in Odoo), not the bot's automatic ones;
- resolved: the message `/ticket resolve` sends (it asks the customer to confirm), else Odoo's
  close date;
- closed: the confirmation or forced-close note, else Odoo's close date.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from bot import chatter_words as words
from bot.i18n import N_
from bot.insights.model import ChatterEntry, TicketHistory
from bot.process import Stage

PAUSED = (words.ON_HOLD + ":", words.WAITING_FOR_CUSTOMER + ":")
RESUMED = (words.RESUMED, words.REOPENED + ":")
CLOSED = (words.CLOSED_UNCONFIRMED, words.AUTO_CLOSED, words.CANCELLED + ":")

_ESCALATION_ANSWER = re.compile(
    r"^(?P<who>.+?) \((?P<team>[^()]+)\) (?P<verb>" + "|".join(re.escape(verb) for verb in words.AnswerVerb)
    + r") the escalation of ")
_FINAL_ANSWERS = frozenset({words.AnswerVerb.RESOLVED, words.AnswerVerb.DECLINED})  # the team is done with it
REPORTED_APART = timedelta(minutes=1)  # a report this much older than the ticket is shown on its own


class EventKind(StrEnum):
    """What happened, as a timeline names it (`tr` translates the value)."""

    REPORTED = N_("Reported")
    LOGGED = N_("Logged in Odoo")
    ACKNOWLEDGED = N_("Acknowledged")
    DIAGNOSIS = N_("Diagnosis")
    ESCALATED = N_("Escalated")
    ESCALATION_ANSWER = N_("Escalation answered")
    ESCALATION_PASSED_ON = N_("Escalation passed on")
    CUSTOMER_UPDATE = N_("Customer update")
    CUSTOMER_MESSAGE = N_("Customer wrote")
    PAUSED = N_("Paused")
    RESUMED = N_("Resumed")
    RESOLVED = N_("Resolved")
    CONFIRMED = N_("Confirmed")
    CLOSED = N_("Closed")
    SNOOZED = N_("Reminders snoozed")
    NOTE = N_("Note")


UPDATES = frozenset({EventKind.ACKNOWLEDGED, EventKind.CUSTOMER_UPDATE, EventKind.RESOLVED})


@dataclass(frozen=True)
class Event:
    at: datetime
    kind: EventKind
    who: str = ""
    text: str = ""
    hidden: tuple[str, ...] = ()  # what the bot hid in the message (`ChatterEntry.hidden`)


@dataclass(frozen=True)
class Milestones:
    reported: datetime  # the report time from the facts block, else when the ticket was logged
    logged: datetime
    acknowledged: datetime | None
    resolved: datetime | None
    closed: datetime | None
    confirmed: bool  # closed after the customer confirmed

    @property
    def to_acknowledge(self) -> timedelta | None:
        return self.acknowledged - self.logged if self.acknowledged else None

    @property
    def to_resolve(self) -> timedelta | None:
        return self.resolved - self.reported if self.resolved else None


@dataclass(frozen=True)
class TeamAnswer:
    at: datetime
    who: str
    verb: words.AnswerVerb  # "acknowledged", "declined"...
    text: str = ""  # what they wrote with it (what they need, what was done, why they decline)


@dataclass(frozen=True)
class EscalationRecord:
    team: str  # the team's label, as the note names it ("Dev team")
    at: datetime
    by: str = ""  # who escalated
    reason: str = ""  # the impact and urgency written with it
    id: str = ""  # the bot's id for it (the note's hidden tag); "" in notes written before the bot kept it there
    previous: str = ""  # the team that did not acknowledge in time, so it came to this one
    answers: tuple[TeamAnswer, ...] = ()  # the team's answers on the card, in order
    passed_on_at: datetime | None = None  # nobody acknowledged in time: passed on (or the chain ended)
    passed_to: str = ""  # the next team; "" at the end of the chain

    @property
    def answered_at(self) -> datetime | None:
        """The team's first answer on the card (any answer stops the clock)."""
        return self.answers[0].at if self.answers else None

    @property
    def answered_by(self) -> str:
        return self.answers[0].who if self.answers else ""

    @property
    def answer(self) -> str:
        return self.answers[0].verb if self.answers else ""  # "acknowledged", "declined"...

    @property
    def finished(self) -> bool:
        """Passed on, resolved or declined: nothing more is expected from this team."""
        return self.passed_on_at is not None or bool(self.answers and self.answers[-1].verb in _FINAL_ANSWERS)


@dataclass(frozen=True)
class Waiting:
    """A team an escalation waits for: it has the escalation and has not answered yet."""

    team: str
    since: datetime  # when the escalation came to the team
    passed_on_by: str = ""  # the team that did not acknowledge it in time, so it went on to this one


def events(history: TicketHistory) -> list[Event]:
    """Everything that happened to the ticket, oldest first."""
    ticket = history.ticket
    found: list[Event] = []
    reported = ticket.facts.reported
    if reported is not None and ticket.created - reported >= REPORTED_APART:
        found.append(Event(reported, EventKind.REPORTED))
    found.append(Event(ticket.created, EventKind.LOGGED, ticket.facts.logged_by))
    acknowledged = False
    for entry in history.chatter:
        if entry.text.startswith(words.POSTMORTEM_HEADING):
            continue
        event = _customer_event(entry, acknowledged) if entry.customer_visible else _note_event(entry)
        acknowledged = acknowledged or _acknowledges(entry, ticket.created)
        found.append(event)
    if history.closed_at and ticket.closed and not any(e.kind in (EventKind.CONFIRMED, EventKind.CLOSED)
                                                       for e in found):
        found.append(Event(history.closed_at, EventKind.CLOSED, text=f"in Odoo ({ticket.stage})"))
    return sorted(found, key=lambda e: e.at)


def milestones(history: TicketHistory, timeline: Sequence[Event]) -> Milestones:
    ticket = history.ticket
    acknowledged = next((e.date for e in history.chatter if _acknowledges(e, ticket.created)), None)
    resolved = _last(timeline, EventKind.RESOLVED)
    reopened = next((e.at for e in reversed(timeline)
                     if e.kind is EventKind.RESUMED and e.text.startswith(words.REOPENED)), None)
    if resolved is not None and reopened is not None and reopened > resolved:
        resolved = None
    closed = None
    if ticket.closed:
        closed = _last(timeline, EventKind.CONFIRMED) or _last(timeline, EventKind.CLOSED) or history.closed_at
        if resolved is None and ticket.stage_key is not Stage.CANCELLED:
            resolved = closed
    confirmed = ticket.closed and any(e.kind is EventKind.CONFIRMED for e in timeline)
    return Milestones(reported=min(ticket.facts.reported or ticket.created, ticket.created), logged=ticket.created,
                      acknowledged=acknowledged, resolved=resolved, closed=closed, confirmed=confirmed)


def escalations(timeline: Sequence[Event]) -> list[EscalationRecord]:
    """Each team escalated to, with the team's answers after it and whether it was passed on. A note carrying
    the escalation's id (`words.escalation_tag`) goes with that escalation; one without (written before
    the bot kept ids there) with the team's latest escalation still waiting."""
    records: list[EscalationRecord] = []
    handed: dict[str, str] = {}  # a team an escalation was passed on to -> the team that did not acknowledge
    for event in timeline:
        ids = words.tagged_escalations(event.hidden)
        if event.kind is EventKind.ESCALATED:
            teams = escalated_teams(event.text)
            ids = ids if len(ids) == len(teams) else [""] * len(teams)
            reason = event.text.partition(":")[2].strip()
            records += [EscalationRecord(team, event.at, event.who, reason, escalation_id, handed.pop(team, ""))
                        for team, escalation_id in zip(teams, ids, strict=True)]
        elif event.kind is EventKind.ESCALATION_ANSWER and (match := _ESCALATION_ANSWER.match(event.text)):
            index = _waiting(records, match.group("team"), ids)
            if index is not None:
                said = event.text[match.end():].partition(": ")[2].strip()
                answered = TeamAnswer(event.at, match.group("who"), words.AnswerVerb(match.group("verb")), said)
                records[index] = replace(records[index], answers=(*records[index].answers, answered))
        elif event.kind is EventKind.ESCALATION_PASSED_ON and (passed := passed_on(event.text)):
            team, following = passed
            index = _waiting(records, team, ids)
            if index is not None:
                records[index] = replace(records[index], passed_on_at=event.at, passed_to=following)
            if following:
                handed[following] = team
    return records


def waiting_for(records: Sequence[EscalationRecord]) -> list[Waiting]:
    """The teams the escalations (`escalations`) wait for, oldest first: those escalated to that have not answered
    yet. One passed on waits no more for the team that let it go, but for the team it went to: by that team's own
    escalation, written right after the pass-on, or by the pass-on alone until that is written."""
    waiting = []
    for index, record in enumerate(records):
        if record.passed_on_at is None:
            if not record.answers:
                waiting.append(Waiting(record.team, record.at, record.previous))
        elif record.passed_to and not any(later.team == record.passed_to and later.previous == record.team
                                          for later in records[index + 1:]):
            waiting.append(Waiting(record.passed_to, record.passed_on_at, record.team))
    return sorted(waiting, key=lambda waits: waits.since)


def _waiting(records: Sequence[EscalationRecord], team: str, ids: Sequence[str]) -> int | None:
    """Which escalation a note about the team's escalation is about: by its id, else the team's latest waiting."""
    if ids:
        return next((i for i, record in enumerate(records) if record.id in ids), None)
    return next((i for i in reversed(range(len(records))) if records[i].team == team and not records[i].finished),
                None)


def escalation_answer(text: str) -> tuple[str, str, str] | None:
    """A team's answer as its note says it ("Đức (Dev team) acknowledged the escalation of HT00012: ...")
    -> ("Đức", "Dev team", "acknowledged"); None for any other text."""
    match = _ESCALATION_ANSWER.match(text)
    return (match.group("who"), match.group("team"), match.group("verb")) if match else None


def passed_on(text: str) -> tuple[str, str] | None:
    """"Escalation not acknowledged in time by the Dev team: passed on to the Senior engineers." (the note the
    bot writes when it passes an escalation on) -> ("Dev team", "Senior engineers"); ("Management", "") at the
    end of the chain; None for any other text."""
    if not text.startswith(words.NOT_ACKNOWLEDGED):
        return None
    team, _, outcome = text.removeprefix(words.NOT_ACKNOWLEDGED).partition(": ")
    following = outcome.removeprefix(words.PASSED_TO).rstrip(".") if outcome.startswith(words.PASSED_TO) else ""
    return (team, following) if team and (following or outcome.startswith(words.END_OF_CHAIN)) else None


def escalated_teams(text: str) -> list[str]:
    """"to the Dev team, Content Ops team: reason" (an escalation's text) -> ["Dev team", "Content Ops team"]."""
    teams = text.removeprefix("to the ").split(":", 1)[0].strip().rstrip(".")
    return [team.strip() for team in teams.split(",") if team.strip()]


def longest_silence(timeline: Sequence[Event], start: datetime, end: datetime) -> timedelta:
    """The longest time the customer went without hearing from us between `start` and `end`; time on
    hold or waiting for the customer does not count (the cadence restarts when the ticket resumes)."""
    longest = timedelta(0)
    since: datetime | None = start
    for event in timeline:
        if not start < event.at <= end:
            continue
        if event.kind is EventKind.PAUSED and since is not None:
            longest, since = max(longest, event.at - since), None
        elif event.kind is EventKind.RESUMED and since is None:
            since = event.at
        elif event.kind in UPDATES and since is not None:
            longest, since = max(longest, event.at - since), event.at
    return max(longest, end - since) if since is not None else longest


def _acknowledges(entry: ChatterEntry, logged: datetime) -> bool:
    return entry.customer_visible and entry.by_agent and entry.author != words.BOT_AUTHOR and entry.date >= logged


def _customer_event(entry: ChatterEntry, acknowledged: bool) -> Event:
    if not entry.by_agent:
        return Event(entry.date, EventKind.CUSTOMER_MESSAGE, entry.author, entry.text)
    if words.RESOLVED_STEP in entry.hidden or words.RESOLUTION_QUESTION in entry.text:  # marked, or older messages
        return Event(entry.date, EventKind.RESOLVED, entry.author,
                     entry.text.partition(words.RESOLUTION_QUESTION)[0].strip())
    kind = EventKind.CUSTOMER_UPDATE if acknowledged or entry.author == words.BOT_AUTHOR else EventKind.ACKNOWLEDGED
    return Event(entry.date, kind, entry.author, entry.text)


def _note_event(entry: ChatterEntry) -> Event:
    text = entry.text
    if text.startswith(words.DIAGNOSIS):
        return Event(entry.date, EventKind.DIAGNOSIS, entry.author, text.removeprefix(words.DIAGNOSIS).strip())
    if _ESCALATION_ANSWER.match(text):
        return Event(entry.date, EventKind.ESCALATION_ANSWER, entry.author, text, entry.hidden)
    if text.startswith(words.ESCALATED):  # "to the Dev team: ...", read back by `escalated_teams`
        return Event(entry.date, EventKind.ESCALATED, entry.author, text.removeprefix("Escalated "), entry.hidden)
    if passed_on(text):
        return Event(entry.date, EventKind.ESCALATION_PASSED_ON, entry.author, text, entry.hidden)
    if text.startswith(words.SNOOZED):
        return Event(entry.date, EventKind.SNOOZED, entry.author, text.removeprefix(words.SNOOZED).strip())
    kind = next((kind for prefixes, kind in _NOTE_KINDS if text.startswith(prefixes)), EventKind.NOTE)
    return Event(entry.date, kind, entry.author, text)


_NOTE_KINDS: tuple[tuple[tuple[str, ...], EventKind], ...] = (
    ((words.CONFIRMED,), EventKind.CONFIRMED),
    (CLOSED, EventKind.CLOSED),
    (PAUSED, EventKind.PAUSED),
    (RESUMED, EventKind.RESUMED),
)


def _last(timeline: Sequence[Event], kind: EventKind) -> datetime | None:
    return next((e.at for e in reversed(timeline) if e.kind is kind), None)
