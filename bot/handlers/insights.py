"""Step 7, trend analysis: trends over a period and a ticket's post-mortem, read from Odoo's own records."""

from __future__ import annotations

from bot.context import Ctx, Request
from bot.i18n import ENGLISH, speaking, tr
from bot.insights.postmortem import build_postmortem, postmortem_markdown
from bot.insights.trends import PERIODS, analyse, trend_period
from bot.parsing import UsageError, ticket_ref
from bot.router import CommandGroup
from bot.turn import Reply
from cards.insights import postmortem_card, trend_card

commands = CommandGroup()

MAX_TICKETS = 1000  # read for one trend (two Odoo calls whatever the number); past it the card says so


@commands.command("trend", "/ticket trend [week|month]", aliases=("trends",), changes=False)
async def trend(ctx: Ctx, req: Request) -> Reply:
    """Trends over the tickets logged in the last 7 days (`week`, the default) or 30 days (`month`).

    Counts by class of service, category, type, tag and root cause; time to acknowledge and to
    resolve per class (median and p90) against the profile's targets; the targets missed; patterns
    that come back (the same category, error text or root cause on several tickets) and the
    knowledge-base candidates among them (seen 3 times or more); with charts."""
    which = req.args.words[0].lower() if req.args.words else "week"
    if which not in PERIODS or len(req.args.words) > 1:
        raise UsageError(tr("I can show the trend of a `week` or a `month`, e.g. `/ticket trend month`."))
    now = ctx.now()
    period = trend_period(which, now)
    histories = await ctx.odoo.histories_since(period.start, limit=MAX_TICKETS)
    report = analyse(histories, ctx.profile, period, now=now, tz=ctx.tz, capped=len(histories) >= MAX_TICKETS)
    return Reply(card=trend_card(report, tz=ctx.tz))


@commands.command("postmortem", "/ticket postmortem <id>", aliases=("post-mortem", "pm", "review"))
async def postmortem(ctx: Ctx, req: Request) -> Reply:
    """Write the ticket's post-mortem from its history in Odoo, post it as an internal note, and show it.

    Impact (class of service, users affected), the timeline (report, logging, acknowledgment,
    diagnosis, escalations and their answers, customer updates, resolution, confirmation, snoozed
    reminders), the root cause from the diagnosis notes (`/ticket diag 42 ... Root cause: ...`),
    what went well and what to improve against the profile's targets, and action items to fill in.
    The card has the same text as Markdown, to paste into a wiki."""
    history = await ctx.odoo.history(ticket_ref(req.args.words[0] if req.args.words else None))
    now = ctx.now()
    with speaking(ENGLISH):  # the note, like every note the bot writes, is in English
        markdown = postmortem_markdown(build_postmortem(history, ctx.profile, now=now), tz=ctx.tz)
    await ctx.odoo.note(history.ticket, markdown, by=ctx.actor)
    return Reply(card=postmortem_card(build_postmortem(history, ctx.profile, now=now), markdown, tz=ctx.tz))
