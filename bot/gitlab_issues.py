"""A ticket logged in GitLab (`/ticket gitlab`, issue 17, item 10): an incident or a bug report filed from it, or an
issue GitLab already has linked to it; the issue's address noted in the ticket's chatter; and, where the process
closes incidents into a stage of their own (the profile's `incident_stage`, TMF's "1st line: incident"), an incident
moves the ticket there, so that Odoo sends that stage's e-mail.

GitLab first, Odoo after: a refusal from GitLab leaves Odoo as it was. A command run again after Odoo's answer was
lost (bot.odoo.idempotency) finds the issue its first run filed, by the command's tag hidden at the end of the
description, so GitLab never gets it twice; its note carries the command's tag like every note.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bot.context import Services
from bot.gitlab import GitLab, GitLabError, Issue, IssueKind, IssueRef, NewIssue, Problem, Severity, issue_ref
from bot.i18n import either, tr
from bot.odoo import idempotency
from bot.parsing import UsageError
from bot.process import ProcessProfile
from bot.tickets import Ticket
from bot.wording import literal

logger = logging.getLogger(__name__)

NO_DIAGNOSIS = "No diagnosis notes yet."
FILED_AS = {IssueKind.INCIDENT: "Incident", IssueKind.BUG: "Bug report"}  # the chatter's words (English)


@dataclass(frozen=True)
class Order:
    """What `/ticket gitlab` was asked to do, read from what was typed (`read_order`)."""

    kind: IssueKind
    severity: Severity | None = None
    link: IssueRef | None = None  # an issue GitLab has: linked, not filed


@dataclass(frozen=True)
class Logged:
    """What came of it: the ticket as it now stands, and its issue."""

    ticket: Ticket
    issue: Issue
    linked: bool  # an issue GitLab already had
    closed_into: str | None = None  # the incident stage the ticket moved into


def configured(services: Services) -> GitLab:
    """The desk's GitLab, or the GitLabError saying it has none (what to set)."""
    if services.gitlab is None:
        raise GitLabError(Problem.NOT_CONFIGURED)
    return services.gitlab


def read_order(words: Sequence[str], options: Mapping[str, str], gitlab_url: str) -> Order:
    """`incident|bug [severity:<1-4>] [link:<issue url>]` (the words after the ticket's id), or a UsageError saying
    what is wrong: read before anything is asked of Odoo or GitLab, so bad input changes nothing."""
    kinds = either([f"`{kind}`" for kind in IssueKind])
    if not words:
        raise UsageError(tr("Say what to log in GitLab: {kinds}.", kinds=kinds))
    kind = next((k for k in IssueKind if k.value == words[0].lower()), None)
    if kind is None:
        raise UsageError(tr("`{word}` is not something I log in GitLab: write {kinds}.", word=literal(words[0]),
                            kinds=kinds))
    if len(words) > 1:
        raise UsageError(tr("I don't know what to do with `{words}`.", words=literal(" ".join(words[1:]))))
    severity = _severity(options["severity"]) if "severity" in options else None
    link = issue_ref(options["link"], gitlab_url) if "link" in options else None
    if severity is not None and (kind is not IssueKind.INCIDENT or link is not None):
        raise UsageError(tr("A severity is given to an incident I file; leave `severity:` out of a bug report or "
                            "a link (set it in GitLab)."))
    return Order(kind, severity, link)


def _severity(said: str) -> Severity:
    value = said.strip().lower().removeprefix("s")
    if value not in ("1", "2", "3", "4"):
        raise UsageError(tr("`{value}` is not a severity: give 1 (critical), 2 (high), 3 (medium) or 4 (low), like "
                            "`severity:2`.", value=literal(said)))
    return Severity(int(value))


def closed_as_incident(profile: ProcessProfile, ticket: Ticket) -> bool:
    """The ticket stands in the stage an incident closes it into: where a run of this command that landed left it."""
    return profile.incident_stage is not None and ticket.stage == profile.incident_stage


async def log_in_gitlab(services: Services, ticket: Ticket, order: Order, *, by: str) -> Logged:
    """File the ticket's issue (or read the linked one), note it in the chatter, and close an incident into the
    profile's incident stage when it has one."""
    gitlab = configured(services)
    if order.link is not None:
        issue = await gitlab.issue(order.link)
    else:
        findings = await services.odoo.findings(ticket)
        tag, again = _tag(ticket)
        new = new_issue(ticket, services.profile, findings, order, labels=gitlab.settings.bug_labels, by=by, tag=tag)
        filed = await gitlab.file(new, look_first=again)
        issue = filed.issue
        logger.info("%s GitLab issue %s for ticket %d", "filed" if filed.created else "found the", issue.reference,
                    ticket.id)
    await services.odoo.note(ticket, chatter_note(issue, order), by=by)
    closes_into = services.profile.incident_stage if order.kind is IssueKind.INCIDENT else None
    if closes_into is not None:
        ticket = await services.odoo.move_into(ticket, closes_into)
    return Logged(ticket, issue, linked=order.link is not None, closed_into=closes_into)


def _tag(ticket: Ticket) -> tuple[str, bool]:
    """The command's tag for the issue it files, and whether to look for it first (the command may have run before);
    outside a command (never, today), a tag of its own that nothing looks for."""
    return idempotency.next_tag(f"gitlab-{ticket.id}") or (f"{secrets.token_hex(8)}/gitlab-{ticket.id}/1", False)


def new_issue(ticket: Ticket, profile: ProcessProfile, findings: Sequence[str], order: Order, *,
              labels: Sequence[str], by: str, tag: str) -> NewIssue:
    """The issue filed for a ticket: its title, then in the description the ticket (linked), the impact and the
    diagnosis notes, in GitLab's Markdown; the command's tag last, hidden, to find it again."""
    users = str(ticket.facts.users) if ticket.facts.users is not None else "not known"
    lines = [f"**Support ticket:** [{ticket.label}]({ticket.url})" if ticket.url else
             f"**Support ticket:** {ticket.label}", "",
             "**Impact**", f"- Users affected: {users}", f"- Class of service: {profile.classes[ticket.cos].label}", "",
             "**Diagnosis**",
             *([_list_item(finding) for finding in findings] or [NO_DIAGNOSIS]), "",
             f"Filed from Microsoft Teams by {by}.", "", idempotency.marker(tag)]
    return NewIssue(title=ticket.title, description="\n".join(lines), kind=order.kind,
                    labels=tuple(labels) if order.kind is IssueKind.BUG else (), severity=order.severity,
                    marker=idempotency.marker(tag), look_for=tag.partition("/")[0])


def _list_item(text: str) -> str:
    """A note as one Markdown list item, its later lines indented under it: no line of it starts with `/`, which
    GitLab would run as a quick action (`/close`) when the description is saved."""
    first, *rest = text.strip().splitlines() or [""]
    return "\n".join([f"- {first}", *(f"  {line}" for line in rest)])


def chatter_note(issue: Issue, order: Order) -> str:
    """What the ticket's chatter says of its issue (in English, as every note)."""
    if order.link is not None:
        return f"Linked to GitLab issue {issue.reference} ({issue.title}): {issue.web_url}"
    severity = f" Severity {order.severity.value} ({order.severity.name.lower()})." if order.severity else ""
    return f"{FILED_AS[order.kind]} filed in GitLab: {issue.reference} {issue.web_url}{severity}"
