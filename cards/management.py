"""Management's cards: one incident in business words (updated in place as it moves), and the digest of
the desk. Pure functions of the models in `bot/management/`, whose texts are already masked.

Times are absolute (`15:35`, `Thu 30 Jan 09:00`): the card stays in the channel for hours, where
"in 10 min" would soon be wrong. No links: Odoo is an internal system. The only buttons are the answers to an
escalation that reached management itself (Acknowledge, Decline), on the incident's own card.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.i18n import N_, tr
from bot.insights.service_levels import Measure, rounded
from bot.insights.timeline import Waiting
from bot.management.digest import Digest, Listed
from bot.management.model import (
    Asked,
    Closing,
    Decision,
    DecisionKind,
    IncidentSummary,
    Measured,
    Phase,
    Step,
    StepKind,
    Trigger,
)
from bot.wording import literal, when
from cards.elements import Element, card, facts, text
from cards.escalation import acknowledge_button, decline_button

STEP_SAYS = {
    StepKind.REPORTED: N_("Reported"),
    StepKind.USERS_TOLD: N_("The users were told we are on it"),
    StepKind.USERS_UPDATED: N_("Latest update to the users"),
    StepKind.ESCALATED: N_("The {team} was called in"),
    StepKind.TEAM_TOOK: N_("{who} ({team}) took it on"),
    StepKind.TEAM_ASKED: N_("The {team} asked support for more information"),
    StepKind.TEAM_FIXED: N_("The {team} fixed it"),
    StepKind.TEAM_DECLINED: N_("The {team} declined it"),
    StepKind.PASSED_ON: N_("The {team} did not take it on in time: passed on to the {to}"),
    StepKind.PAUSED: N_("Paused (on hold, or waiting for the customer)"),
    StepKind.RESUMED: N_("Work resumed"),
    StepKind.REOPENED: N_("Reopened: the problem came back"),
    StepKind.FIXED: N_("A fix is in place; the users were asked to confirm"),
    StepKind.CONFIRMED: N_("The users confirmed it works"),
    StepKind.CLOSED: N_("Closed"),
    StepKind.CANCELLED: N_("Cancelled"),
}
NOBODY_LEFT = N_("The {team} did not take it on in time, and nobody is left up the chain to pass it to")
PHASE_SAYS = {
    Phase.REPORTED: N_("Support is on it; the users have not had an answer yet."),
    Phase.HANDLING: N_("Support is working on it; the users know."),
    Phase.ESCALATED: N_("Waiting for the {teams} to take it on."),
    Phase.TEAM_WORKING: N_("The {teams} is working on it."),
    Phase.PAUSED: N_("Paused: on hold, or waiting for the customer."),
    Phase.RESOLVED: N_("A fix is in place; waiting for the users to confirm it works."),
    Phase.CLOSED: N_("Closed."),
    Phase.CANCELLED: N_("Cancelled: nothing more will be done."),
}
PHASE_COLORS = {Phase.RESOLVED: "warning", Phase.CLOSED: "good", Phase.CANCELLED: "default"}
MEASURE_NAMES = {
    Measure.RECEPTION: N_("logging"),
    Measure.ACKNOWLEDGMENT: N_("first answer"),
    Measure.UPDATES: N_("updates"),
    Measure.ESCALATION: N_("escalation answer"),
    Measure.DEADLINE: N_("deadline"),
}


def _at(moment: datetime, tz: ZoneInfo, day: date | None = None) -> str:
    """`15:35` on `day` (the incident's own day), else `Thu 30 Jan 15:35`, in the reader's zone and language."""
    local = moment.astimezone(tz)
    return local.strftime("%H:%M") if local.date() == day else when(moment, tz)


def _tickets(count: int) -> str:
    return tr("1 ticket") if count == 1 else tr("{count} tickets", count=count)


def _users(count: int) -> str:
    return tr("1 user") if count == 1 else tr("{count} users", count=count)


def _heading(summary: IncidentSummary) -> str:
    if summary.trigger is Trigger.USERS:
        return tr("{service_class} ticket with many users affected · {label}", service_class=summary.service_class,
                  label=summary.label)
    if summary.trigger is Trigger.OPEN_FOR:
        return tr("{service_class} ticket open for long · {label}", service_class=summary.service_class,
                  label=summary.label)
    if summary.trigger is Trigger.ESCALATED:
        return tr("{service_class} ticket escalated to management · {label}", service_class=summary.service_class,
                  label=summary.label)
    return tr("{service_class} incident · {label}", service_class=summary.service_class, label=summary.label)


def _step(step: Step, tz: ZoneInfo, day: date) -> Element:
    says = NOBODY_LEFT if step.kind is StepKind.PASSED_ON and not step.to else STEP_SAYS[step.kind]
    said = tr(says, team=step.team, who=literal(step.who), to=step.to)
    return text(f"{_at(step.at, tz, day)} · {said}", spacing="None")


def _measured(measured: Measured) -> str:
    took = rounded(measured.took)
    if measured.target is None:
        return tr("{took} (no target set)", took=took)
    target = rounded(measured.target)
    if measured.met:
        return tr("{took}, within the {target} target", took=took, target=target)
    return tr("{took}, over the {target} target", took=took, target=target)


def _closing(closing: Closing) -> list[Element]:
    rows = [
        (tr("Time to acknowledge"), _measured(closing.acknowledge) if closing.acknowledge else
         tr("the users were never answered")),
        (tr("Time to resolve"), _measured(closing.resolve) if closing.resolve else tr("not resolved")),
    ]
    for response in closing.responses:
        answered = _measured(Measured(response.took, response.target)) if response.took is not None else \
            tr("no answer")
        rows.append((tr("{team} answered", team=response.team), answered))
    rows.append((tr("Open for"), rounded(closing.open_for)))
    confirmed = tr("The users confirmed the fix.") if closing.confirmed else \
        tr("Closed without the users' confirmation.")
    missed = any(m is not None and m.met is False for m in (closing.acknowledge, closing.resolve))
    return [text(tr("Closing summary"), weight="Bolder", color="attention" if missed else "good"), facts(rows),
            text(confirmed, subtle=True, spacing="None")]


def _decision(decision: Decision | None) -> Element:
    if decision is None:
        return text(tr("No decision is needed from management now."), subtle=True)
    if decision.kind is DecisionKind.ASKED:
        said = tr("Decision needed: {what}", what=literal(decision.text))
    elif decision.kind is DecisionKind.DECLINED:
        said = tr("Decision needed: the {team} declined it; who should take it on?", team=decision.team)
    elif decision.kind is DecisionKind.UNANSWERED:
        said = tr("Decision needed: nobody took it on in time (the {team} was the last asked); who takes it on?",
                  team=decision.team)
    else:
        said = tr("Decision needed: the escalation has reached management; who takes it on, and how?")
    return text(said, color="attention", weight="Bolder")


def _asked(asked: Asked, tz: ZoneInfo, now: datetime, day: date) -> tuple[Element, list[Element]]:
    """What management is asked, and the escalation's own answers: Acknowledge, or Decline saying why."""
    due = _at(asked.due, tz, day)
    said = tr("Overdue: acknowledge it to take it on (it was due at {time}), or decline it.", time=due) \
        if now > asked.due else tr("Acknowledge it by {time} to take it on, or decline it.", time=due)
    actions = [acknowledge_button(asked.escalation_id), decline_button(asked.escalation_id)]
    return text(said, color="attention", weight="Bolder", spacing="None"), actions


def incident_card(summary: IncidentSummary, *, tz: ZoneInfo, now: datetime, notice: str = "") -> dict[str, Any]:
    """The one card about an incident in the management channel (and `/ticket summary <id>`). When the escalation
    chain reaches management itself, this card is where management answers it (`summary.asked`): one card per
    incident, its story and the question on it; `notice`: said to whoever clicked (e.g. someone was first), above
    the rest, a name in it `literal` already."""
    day = summary.since.astimezone(tz).date()
    phase_color = PHASE_COLORS.get(summary.phase, "attention")
    body: list[Element] = [text(notice, color="attention", weight="Bolder")] if notice else []
    body += [
        text(_heading(summary), weight="Bolder", color="attention" if phase_color == "attention" else "default",
             spacing="None"),
        text(literal(summary.title), size="Large", weight="Bolder"),
        text(tr(PHASE_SAYS[summary.phase], teams=summary.teams), weight="Bolder", color=phase_color),
    ]
    next_update = ""
    if summary.next_update is not None:
        next_update = tr("overdue: it was due at {time}", time=_at(summary.next_update, tz, day)) \
            if summary.update_overdue(now) else tr("by {time}", time=_at(summary.next_update, tz, day))
    body.append(facts([
        (tr("What is affected"), summary.impact),
        (tr("Users affected"), str(summary.users) if summary.users is not None else tr("not known yet")),
        (tr("Since"), _at(summary.since, tz)),
        (tr("Customer"), summary.customer),
        (tr("Owner"), summary.owner or tr("nobody yet")),
        (tr("Next update"), next_update),
    ]))
    body.append(text(tr("What is being done"), weight="Bolder"))
    body += [_step(step, tz, day) for step in summary.steps]
    actions: list[Element] = []
    if summary.closing is not None:
        body += _closing(summary.closing)
    else:
        body.append(_decision(summary.decision))
    if summary.asked is not None:
        question, actions = _asked(summary.asked, tz, now, day)
        body.append(question)
    body.append(text(tr("{label} · this card is updated as the incident moves.", label=summary.label), subtle=True,
                     size="Small"))
    return card(body, actions or None)


def _window(digest: Digest, tz: ZoneInfo) -> str:
    window = digest.window
    if window.name == "today":
        return tr("today until {time}", time=_at(window.end, tz, window.end.astimezone(tz).date()))
    if window.name == "week":
        return tr("the last 7 days")
    if window.name == "day":
        return tr("the day to {time}", time=_at(window.end, tz))
    return tr("the week to {time}", time=_at(window.end, tz))


def _listed(listed: Listed, detail: str) -> Element:
    return text(f"**{listed.label}** {literal(listed.title)} · {detail}", spacing="Small")


def _waited(waiting: Waiting) -> str:
    """The team waited for, and who let it go if it was passed on: management sees the chain moving."""
    if not waiting.passed_on_by:
        return waiting.team
    return tr("{team} (passed on: the {previous} did not answer in time)", team=waiting.team,
              previous=waiting.passed_on_by)


def digest_card(digest: Digest, *, tz: ZoneInfo, now: datetime) -> dict[str, Any]:
    """The desk at a glance for management: the periodic digest and `/ticket summary today|week`."""
    body: list[Element] = [
        text(tr("Support desk digest: {window}", window=_window(digest, tz)), size="Large", weight="Bolder"),
        text(tr("Open now: {tickets}, {users} affected", tickets=_tickets(digest.open_total),
                users=_users(digest.users_total)), weight="Bolder"),
    ]
    if digest.users_unknown:
        body.append(text(tr("{tickets} without a count of users affected", tickets=_tickets(digest.users_unknown)),
                         subtle=True, spacing="None"))
    if digest.open_by_class:
        body.append(facts([(count.label, f"{_tickets(count.tickets)} · {_users(count.users)}")
                           for count in digest.open_by_class]))
    body.append(text(tr("In this period: {logged} logged, {resolved} fixed, {closed} closed", logged=digest.logged,
                        resolved=digest.resolved, closed=digest.closed)))
    body.append(text(tr("Service levels missed ({count})", count=digest.breaches_total), weight="Bolder",
                     color="attention" if digest.breaches_total else "good"))
    body += [_listed(listed, ", ".join(tr(MEASURE_NAMES[m]) for m in listed.missed)) for listed in digest.breaches]
    body.append(text(tr("Escalations waiting for an answer ({count})", count=digest.waiting_total), weight="Bolder",
                     color="attention" if digest.waiting_total else "good"))
    body += [_listed(listed, tr("{teams}, since {time}", teams=", ".join(_waited(w) for w in listed.waiting_for),
                                time=_at(listed.since, tz)))
             for listed in digest.waiting]
    if digest.oldest:
        body.append(text(tr("Oldest open tickets"), weight="Bolder"))
        body += [_listed(listed, tr("{service_class} · {stage} · open for {age}", service_class=listed.service_class,
                                    stage=literal(listed.stage), age=rounded(_age(now, listed.since))))
                 for listed in digest.oldest]
    if digest.capped:
        body.append(text(tr("There are more tickets than I read at once: these figures are a lower bound."),
                         subtle=True))
    return card(body)


def _age(now: datetime, since: datetime) -> timedelta:
    return max(now - since, timedelta(0))
