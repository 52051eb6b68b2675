"""`/ticket gitlab`: the ticket's incident or bug logged in GitLab (the TMF process's first line), its link on the
card and in the chatter."""

from __future__ import annotations

from bot.context import Ctx
from bot.gitlab import IssueKind
from bot.gitlab_issues import Logged, Order, closed_as_incident, configured, log_in_gitlab, read_order
from bot.handlers.common import ticket_reply
from bot.i18n import tr
from bot.lifecycle import Move, check, check_required_fields
from bot.parsing import ticket_ref
from bot.process import Action, ProcessProfile
from bot.router import CommandGroup, Request
from bot.turn import Reply
from bot.wording import literal
from cards.elements import open_url

commands = CommandGroup()


@commands.command("gitlab", "/ticket gitlab <id> <incident|bug> [severity:<1-4>] [link:<issue url>]",
                  options=("severity", "link"), action=Action.ESCALATE)
async def gitlab(ctx: Ctx, req: Request) -> Reply:
    """Log the ticket in GitLab: `incident` (with `severity:1` critical to `4` low) or `bug` (a bug report). The issue
    gets the ticket's title, its impact, your diagnosis notes (`/ticket diag`) and a link back; its link goes into
    the ticket's chatter.

    With `link:<issue url>`, the ticket is linked to an issue GitLab already has (a known bug) instead of filing a
    new one.

    Where the process closes incidents into a stage of their own (TMF: 1st line: incident), an incident moves the
    ticket there, and Odoo sends that stage's e-mail."""
    tracker = configured(ctx.services)  # before anything else: without GitLab, say what to set
    words = req.args.words
    ref = ticket_ref(words[0] if words else None)
    order = read_order(words[1:], req.args.options, tracker.settings.url)
    ticket = await ctx.odoo.ticket(ref)
    if not (ctx.again and closed_as_incident(ctx.profile, ticket)):  # else a run that landed closed it: carry on
        check(ticket, Move.EDIT)
        if order.kind is IssueKind.INCIDENT and ctx.profile.incident_stage:  # it will close: what closing needs
            check_required_fields(ticket, Move.CLOSE, ctx.odoo.required_fields, time_field=ctx.odoo.timesheet_field)
    logged = await log_in_gitlab(ctx.services, ticket, order, by=ctx.actor)
    return await ticket_reply(ctx, logged.ticket, headline(logged, order, ctx.profile),
                              actions=[open_url(tr("Open in GitLab"), logged.issue.web_url)])


def headline(logged: Logged, order: Order, profile: ProcessProfile) -> str:
    """What the card says happened: the issue, its severity, and where the ticket went."""
    issue = logged.issue
    if logged.linked:
        said = tr("Linked to GitLab issue {issue}: {title}.", issue=issue.reference, title=literal(issue.title))
    elif order.kind is IssueKind.BUG:
        said = tr("Bug report {issue} filed in GitLab.", issue=issue.reference)
    else:
        said = tr("Incident {issue} filed in GitLab.", issue=issue.reference)
        if order.severity is None:
            said += " " + tr("It has no severity yet: set one in GitLab (when unsure, the higher).")
        elif issue.has_severity(order.severity):
            said += " " + tr("Severity {severity}.", severity=order.severity.said)
        else:
            said += " " + tr("GitLab did not take its severity: set it there.")
    if logged.closed_into is not None:
        email = profile.odoo_stage_emails.get(logged.closed_into)
        said += " " + (tr("The ticket is closed as an incident ({stage}); Odoo sends the customer its \u201c{email}"
                          "\u201d e-mail.", stage=literal(logged.closed_into), email=email) if email else
                       tr("The ticket is closed as an incident ({stage}).", stage=literal(logged.closed_into)))
    return said
