"""The digest management gets of the whole desk: a pure function of the tickets' stories and the process.

Open tickets by class of service with the users affected, what came in, was fixed and was closed in the
window, the service levels missed (the checks of `bot/insights/service_levels.py`), the escalations no
team has answered (one passed on for want of an answer waits for the team it went to, not for the one that
let it go: `bot.insights.timeline.waiting_for`), and the oldest open tickets. Titles go through
`bot.privacy.for_management`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.insights.model import TicketHistory
from bot.insights.service_levels import Measure, checks
from bot.insights.timeline import Waiting, escalations, events, milestones, waiting_for
from bot.privacy import for_management
from bot.process import ClassOfService, ProcessProfile, Stage

OLDEST_SHOWN = 5
LISTED = 10  # breaches and waiting escalations listed by name; the rest are counted
WINDOWS = ("today", "week")


@dataclass(frozen=True)
class Window:
    name: str  # "today", "week", or "day"/"week" for the periodic digest
    start: datetime
    end: datetime


def window_for(name: str, now: datetime, tz: ZoneInfo) -> Window:
    """`today`: since midnight in the team's time zone; `week`: the last 7 days."""
    if name == "today":
        local = now.astimezone(tz)
        return Window(name, datetime.combine(local.date(), datetime.min.time(), tzinfo=tz), now)
    if name == "week":
        return Window(name, now - timedelta(days=7), now)
    raise ValueError(f"no digest window {name!r} (use {' or '.join(WINDOWS)})")


@dataclass(frozen=True)
class ClassCount:
    cos: ClassOfService
    label: str
    tickets: int
    users: int  # the users affected, where the ticket says


@dataclass(frozen=True)
class Listed:
    """One ticket named in the digest."""

    label: str
    title: str
    service_class: str
    since: datetime  # reported (oldest), escalated (waiting), reported (breaches)
    stage: str = ""
    waiting_for: tuple[Waiting, ...] = ()  # the teams its escalations wait for (names masked)
    missed: tuple[Measure, ...] = ()  # the service levels missed


@dataclass(frozen=True)
class Digest:
    window: Window
    open_by_class: tuple[ClassCount, ...]
    users_unknown: int  # open tickets with no count of users affected
    logged: int  # in the window
    resolved: int
    closed: int
    breaches: tuple[Listed, ...]
    breaches_total: int
    waiting: tuple[Listed, ...]
    waiting_total: int
    oldest: tuple[Listed, ...]
    capped: bool  # more tickets than were read: the figures are a lower bound

    @property
    def open_total(self) -> int:
        return sum(count.tickets for count in self.open_by_class)

    @property
    def users_total(self) -> int:
        return sum(count.users for count in self.open_by_class)


def build_digest(histories: Sequence[TicketHistory], profile: ProcessProfile, window: Window, *, now: datetime,
                 capped: bool = False) -> Digest:
    """`histories`: the open tickets and those logged or closed in the window (more are ignored)."""
    counts = {cos: [0, 0] for cos in ClassOfService}
    users_unknown = logged = resolved = closed = 0
    breaches: list[Listed] = []
    waiting: list[Listed] = []
    open_tickets: list[Listed] = []
    for history in histories:
        ticket = history.ticket
        if ticket.stage_key is Stage.CANCELLED:
            continue
        timeline = events(history)
        moments = milestones(history, timeline)
        is_open = not ticket.closed and ticket.stage_key is not Stage.DONE
        within = window.start <= ticket.created <= window.end
        logged += within
        resolved += moments.resolved is not None and window.start <= moments.resolved <= window.end
        closed += moments.closed is not None and window.start <= moments.closed <= window.end
        if not is_open and not (moments.closed and moments.closed >= window.start):
            continue  # closed before the window: read because it was logged in it, nothing more to say
        label = profile.classes[ticket.cos].label
        title = for_management(ticket.title) or ticket.label
        missed = tuple(dict.fromkeys(check.measure for check in checks(history, timeline, moments, profile, now)
                                     if not check.met))
        if missed:
            breaches.append(Listed(ticket.label, title, label, moments.reported, ticket.stage, missed=missed))
        if not is_open:
            continue
        counts[ticket.cos][0] += 1
        counts[ticket.cos][1] += ticket.facts.users or 0
        users_unknown += ticket.facts.users is None
        open_tickets.append(Listed(ticket.label, title, label, moments.reported, ticket.stage))
        waits = waiting_for(escalations(timeline))
        if waits:
            shown = tuple(replace(w, team=for_management(w.team), passed_on_by=for_management(w.passed_on_by))
                          for w in waits)
            waiting.append(Listed(ticket.label, title, label, waits[0].since, ticket.stage, waiting_for=shown))
    by_class = tuple(ClassCount(cos, profile.classes[cos].label, tickets, users)
                     for cos, (tickets, users) in counts.items() if tickets)
    breaches.sort(key=lambda listed: listed.since)
    waiting.sort(key=lambda listed: listed.since)
    open_tickets.sort(key=lambda listed: listed.since)
    return Digest(window=window, open_by_class=by_class, users_unknown=users_unknown, logged=logged,
                  resolved=resolved, closed=closed, breaches=tuple(breaches[:LISTED]), breaches_total=len(breaches),
                  waiting=tuple(waiting[:LISTED]), waiting_total=len(waiting),
                  oldest=tuple(open_tickets[:OLDEST_SHOWN]), capped=capped)
