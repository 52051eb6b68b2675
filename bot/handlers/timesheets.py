"""Time spent on a ticket: logged in the ticket's Odoo timesheet, and read back (the Odoo PS process: "log all your
time spent here before moving to the next stage")."""

from __future__ import annotations

from datetime import timedelta

from bot.context import Ctx
from bot.handlers.common import load, person, require_text
from bot.i18n import N_, tr
from bot.lifecycle import Move
from bot.parsing import UsageError, ticket_ref, time_spent
from bot.router import CommandGroup, Request
from bot.timesheets import hours_and_minutes
from bot.turn import Reply
from bot.wording import day, literal
from cards.timesheets import own_time_card, ticket_time_card

commands = CommandGroup()

MINE = "mine"
PERIODS = ("today", "week")


def _reads(req: Request) -> bool:
    """`/ticket time <id>` and `/ticket time mine ...` only read."""
    words = req.args.words
    return len(words) < 2 or words[0].lower() == MINE


@commands.command("time", "/ticket time <id> [<duration> <what was done>] | /ticket time mine [today|week]",
                  aliases=("timesheet", "log"), reads=_reads)
async def time_(ctx: Ctx, req: Request) -> Reply:
    """Log time spent on a ticket in its Odoo timesheet, e.g. `/ticket time 42 1h30m Reproduced the bug`.

    Write the time `1h30m`, `90m`, `1h30` or `1.5h`, at most 24h in one line. It is logged for today (in your time
    zone) for the Odoo employee linked to your Odoo user, with a note in the ticket's chatter.

    `/ticket time 42` shows what is logged on the ticket: who, how long, the total. `/ticket time mine` totals your
    own time today, `/ticket time mine week` this week (from Monday)."""
    words = req.args.words
    if not words:
        raise UsageError(tr("Which ticket, and how long? e.g. `/ticket time 42 1h30m Reproduced the bug`, or "
                            "`/ticket time mine` for your own time."))
    if words[0].lower() == MINE:
        return await _mine(ctx, words[1:])
    ref = ticket_ref(words[0])
    if len(words) == 1 and not req.body:
        ticket = await ctx.odoo.ticket(ref)
        return Reply(card=ticket_time_card(ticket, await ctx.odoo.time_logged(ticket)))
    if len(words) == 1:
        raise UsageError(tr("How long did it take? Put the time before what was done, e.g. "
                            "`/ticket time {id} 1h30m Reproduced the bug`.", id=words[0]))
    spent = time_spent(words[1])
    what = " ".join(require_text(req, 2, N_("what was done"),
                                 f"/ticket time {words[0]} {words[1]} Reproduced the bug").split())
    ticket = await load(ctx, req, Move.EDIT)
    me = await person(ctx, "me")
    await ctx.odoo.log_time(ticket, me, spent, what, ctx.now().astimezone(ctx.tz).date(), by=ctx.actor)
    return Reply(card=ticket_time_card(ticket, await ctx.odoo.time_logged(ticket),
                                       headline=tr("Logged {spent} in your timesheet.",
                                                   spent=hours_and_minutes(spent))))


async def _mine(ctx: Ctx, words: tuple[str, ...]) -> Reply:
    """The agent's own time today, or this week from Monday, in their time zone."""
    period = words[0].lower() if words else PERIODS[0]
    if period not in PERIODS or len(words) > 1:
        raise UsageError(tr("`/ticket time mine` takes `today` (the default) or `week`, not `{words}`.",
                            words=literal(" ".join(words))))
    me = await person(ctx, "me")
    today = ctx.now().astimezone(ctx.tz).date()
    if period == "today":
        return Reply(card=own_time_card(tr("Your time today ({day})", day=day(today)),
                                        await ctx.odoo.time_of(me, today, today)))
    monday = today - timedelta(days=today.weekday())
    return Reply(card=own_time_card(tr("Your time this week ({first} to {last})", first=day(monday), last=day(today)),
                                    await ctx.odoo.time_of(me, monday, today)))
