"""Trends over the tickets logged in a period: counts, response times against the profile, breaches,
recurring patterns and knowledge-base candidates.

Cancelled tickets (duplicates, mistakes) are counted apart and left out of everything else. Times:
to acknowledge is from logging to the first customer-visible answer, to resolve from the report to
the resolution (see `timeline`); each is given per class as a median and a 90th percentile
(nearest rank). A pattern is the same category, the same error text (in the description or the
diagnosis notes) or the same root cause on two tickets or more; seen on three or more it is a
candidate for a knowledge-base article.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.i18n import N_, tr
from bot.insights.findings import error_texts, normalized, root_cause
from bot.insights.model import TicketHistory
from bot.insights.service_levels import Measure, checks
from bot.insights.timeline import EventKind, Milestones, events, milestones
from bot.process import ClassOfService, ProcessProfile, Stage
from bot.tickets import Ticket

PERIODS = {"week": timedelta(days=7), "month": timedelta(days=30)}
RECURRING = 2  # tickets sharing something before it is a pattern
KB_CANDIDATE = 3  # tickets sharing it before it deserves a knowledge-base article
NOT_RECORDED = N_("not recorded")


@dataclass(frozen=True)
class Period:
    name: str  # "week" | "month"
    start: datetime
    end: datetime

    @property
    def label(self) -> str:
        return tr("last {days} days", days=(self.end - self.start).days)


def trend_period(name: str, now: datetime) -> Period:
    """The period ending now; `name` must be one of PERIODS."""
    return Period(name, now - PERIODS[name], now)


@dataclass(frozen=True)
class Spread:
    count: int
    median: timedelta | None
    p90: timedelta | None


def spread(values: Sequence[timedelta]) -> Spread:
    if not values:
        return Spread(0, None, None)
    seconds = sorted(v.total_seconds() for v in values)
    p90 = seconds[math.ceil(0.9 * len(seconds)) - 1]
    return Spread(len(seconds), timedelta(seconds=statistics.median(seconds)), timedelta(seconds=p90))


@dataclass(frozen=True)
class ClassTimes:
    cos: ClassOfService
    label: str
    tickets: int
    acknowledge: Spread
    acknowledge_target: timedelta
    resolve: Spread


@dataclass(frozen=True)
class Pattern:
    kind: str  # "category" | "error" | "root cause"
    text: str
    tickets: tuple[str, ...]  # labels, oldest first


@dataclass(frozen=True)
class Breach:
    ticket: str  # label
    measure: Measure
    text: str


Counts = tuple[tuple[str, int], ...]


@dataclass(frozen=True)
class Trend:
    period: Period
    logged: int  # not counting the cancelled ones
    still_open: int
    cancelled: int
    by_class: Counts
    by_category: Counts
    by_type: Counts
    by_tag: Counts
    by_root_cause: Counts
    classes: tuple[ClassOfService, ...]  # the order of the columns of `per_day`
    class_labels: tuple[str, ...]  # their labels, in the same order
    per_day: tuple[tuple[date, tuple[int, ...]], ...]
    times: tuple[ClassTimes, ...]  # the classes that had tickets
    breaches: tuple[Breach, ...]
    patterns: tuple[Pattern, ...]  # most frequent first
    capped: bool  # more tickets than were read: counts are a lower bound

    @property
    def kb_candidates(self) -> tuple[Pattern, ...]:
        return tuple(p for p in self.patterns if len(p.tickets) >= KB_CANDIDATE)


@dataclass(frozen=True)
class _Reviewed:
    """One ticket with what the trend needs from its history."""

    ticket: Ticket
    moments: Milestones
    notes: tuple[str, ...]  # the diagnosis notes
    cause: str


def analyse(histories: Iterable[TicketHistory], profile: ProcessProfile, period: Period, *, now: datetime,
            tz: ZoneInfo, capped: bool = False) -> Trend:
    in_period = [h for h in histories if period.start <= h.ticket.created <= period.end]
    live = sorted((h for h in in_period if h.ticket.stage_key is not Stage.CANCELLED),
                  key=lambda h: (h.ticket.created, h.ticket.id))
    reviewed: list[_Reviewed] = []
    breaches: list[Breach] = []
    for history in live:
        timeline = events(history)
        moments = milestones(history, timeline)
        notes = tuple(e.text for e in timeline if e.kind is EventKind.DIAGNOSIS)
        reviewed.append(_Reviewed(history.ticket, moments, notes, root_cause(notes)))
        breaches += [Breach(history.ticket.label, c.measure, c.text)
                     for c in checks(history, timeline, moments, profile, now) if not c.met]
    tickets = [r.ticket for r in reviewed]
    classes = tuple(profile.classes)
    return Trend(
        period=period, logged=len(live), still_open=sum(1 for t in tickets if not t.closed),
        cancelled=len(in_period) - len(live),
        by_class=tuple((profile.classes[c].label, n) for c in classes if (n := sum(t.cos is c for t in tickets))),
        by_category=_counts(t.category or tr("none") for t in tickets),
        by_type=_counts(t.facts.kind or tr("not set") for t in tickets),
        by_tag=_counts(tag for t in tickets for tag in t.tags if profile.class_for_tag(tag) is None),
        by_root_cause=_counts(r.cause or tr(NOT_RECORDED) for r in reviewed),
        classes=classes, class_labels=tuple(profile.classes[c].label for c in classes),
        per_day=_per_day(tickets, classes, period, tz),
        times=tuple(_times(reviewed, profile)), breaches=tuple(breaches), patterns=tuple(_patterns(reviewed)),
        capped=capped,
    )


def _counts(values: Iterable[str]) -> Counts:
    """How often each value comes (compared normalized, shown as first written), most frequent first."""
    shown: dict[str, str] = {}
    counted: Counter[str] = Counter()
    for value in values:
        key = normalized(value)
        shown.setdefault(key, value)
        counted[key] += 1
    return tuple(sorted(((shown[key], n) for key, n in counted.items()),
                        key=lambda item: (-item[1], item[0].casefold())))


def _per_day(tickets: Sequence[Ticket], classes: tuple[ClassOfService, ...], period: Period,
             tz: ZoneInfo) -> tuple[tuple[date, tuple[int, ...]], ...]:
    first, last = period.start.astimezone(tz).date(), period.end.astimezone(tz).date()
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    by_day = Counter((t.created.astimezone(tz).date(), t.cos) for t in tickets)
    return tuple((day, tuple(by_day[(day, c)] for c in classes)) for day in days)


def _times(reviewed: Sequence[_Reviewed], profile: ProcessProfile) -> list[ClassTimes]:
    found = []
    for cos, service_class in profile.classes.items():
        mine = [r.moments for r in reviewed if r.ticket.cos is cos]
        if mine:
            found.append(ClassTimes(
                cos=cos, label=service_class.label, tickets=len(mine),
                acknowledge=spread([m.to_acknowledge for m in mine if m.to_acknowledge is not None]),
                acknowledge_target=service_class.acknowledge_within,
                resolve=spread([m.to_resolve for m in mine if m.to_resolve is not None])))
    return found


def _patterns(reviewed: Sequence[_Reviewed]) -> list[Pattern]:
    """Things several tickets share; `reviewed` is oldest first, and so are each pattern's tickets."""
    seen: dict[tuple[str, str], tuple[str, list[str]]] = {}

    def note(kind: str, key: str, shown: str, label: str) -> None:
        _, labels = seen.setdefault((kind, key), (shown, []))
        if label not in labels:
            labels.append(label)

    for r in reviewed:
        label = r.ticket.label
        if r.ticket.category:
            note("category", normalized(r.ticket.category), r.ticket.category, label)
        for key, shown in error_texts("\n".join((r.ticket.description, *r.notes))).items():
            note("error", key, shown, label)
        if r.cause:
            note("root cause", normalized(r.cause), r.cause, label)
    patterns = [Pattern(kind, shown, tuple(labels)) for (kind, _), (shown, labels) in seen.items()
                if len(labels) >= RECURRING]
    return sorted(patterns, key=lambda p: (-len(p.tickets), p.kind, p.text.casefold()))
