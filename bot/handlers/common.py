"""Helpers shared by the command handlers: reading the named ticket, naming people, replying."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from bot.changes import TicketChanged
from bot.context import Ctx, Request
from bot.i18n import tr
from bot.insights.similar import PastFix
from bot.lifecycle import Move, arrived, check, check_required_fields
from bot.parsing import UsageError, ticket_ref
from bot.reminders.policy import next_step
from bot.reminders.service import Reminders
from bot.tickets import OdooUser, Ticket
from bot.turn import Reply, RosterUnavailable
from bot.wording import literal
from cards.ticket import ticket_card

_EMAIL = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")


async def load(ctx: Ctx, req: Request, move: Move, *, position: int = 0) -> Ticket:
    """The ticket named at `position` in the arguments, checked against the move."""
    words = req.args.words
    ticket = await ctx.odoo.ticket(ticket_ref(words[position] if len(words) > position else None))
    if not (ctx.again and arrived(ticket, move)):  # run again after its move landed: carry on, writes are idempotent
        check(ticket, move)
    check_required_fields(ticket, move, ctx.odoo.required_fields, time_field=ctx.odoo.timesheet_field,
                          links=ctx.odoo.links)
    return ticket


def require_text(req: Request, start: int, what: str, example: str) -> str:
    """The free text after the ticket id (and the body lines), or a UsageError asking for it
    (`what`: a sentence marked N_, or already said)."""
    value = "\n".join(part for part in (req.args.text(start), req.body) if part).strip()
    if not value:
        raise UsageError(tr("Please add {what}, e.g. `{example}`.", what=tr(what), example=example))
    return value


def email(value: str) -> str:
    cleaned = value.strip().strip("<>").lower()
    if cleaned.startswith("mailto:"):
        cleaned = cleaned.removeprefix("mailto:")
    if not _EMAIL.match(cleaned):
        raise UsageError(tr("`{value}` is not an email address. Write it like `customer:name@example.com`.",
                            value=literal(value)))
    return cleaned


async def person(ctx: Ctx, who: str) -> OdooUser:
    """`me`, `@Name` (a Teams mention), an email, or an Odoo user's exact name."""
    wanted = who.strip()
    if wanted.lower() == "me":
        if ctx.user is None:
            raise UsageError(tr("I don't know your Odoo user yet."))
        return ctx.user
    name = wanted.removeprefix("@").strip()
    for mentioned in ctx.incoming.mentions:
        if mentioned.name.lower() == name.lower():
            try:
                address = await ctx.teams.member_email(mentioned)
            except RosterUnavailable:  # then their name, as for a name typed: whom to assign, not who is asking
                address = None
            found = ctx.odoo.user_by_email(address) if address else None
            if found:
                return found
    found = ctx.odoo.user_by_email(wanted) if "@" in wanted[1:] else None
    found = found or ctx.odoo.user_by_name(name)
    if found is None:
        await ctx.odoo.refresh_users()
        found = (ctx.odoo.user_by_email(wanted) if "@" in wanted[1:] else None) or ctx.odoo.user_by_name(name)
    if found is None:
        raise UsageError(tr("I can't find an Odoo user for `{who}`. Use `me`, @mention them, or give their "
                            "Odoo email address.", who=literal(who)))
    return found


def reminders(ctx: Ctx) -> Reminders:
    """The tickets' reminders, kept in the services' timers."""
    return Reminders(ctx.services.timers, ctx.profile, ctx.services.clock)


async def ticket_reply(ctx: Ctx, ticket: Ticket, headline: str = "", *, customer_updated: bool = False,
                       actions: list[dict[str, Any]] | None = None, similar: Sequence[PastFix] = ()) -> Reply:
    """Bring the ticket's reminders in line with it, then show the card with what is due next.

    `customer_updated`: the command just told the customer something (ack, update, resolution); `actions`: buttons
    before "Open in Odoo" (the ticket's GitLab issue); `similar`: resolved tickets like it (a new ticket's)."""
    now = ctx.now()
    pending = await reminders(ctx).sync(ticket, customer_updated=customer_updated)
    await ctx.services.ticket_changed(TicketChanged(ticket))  # its card in the management channel, if it has one
    step = next_step(ticket, ctx.profile, now, pending)
    return Reply(card=ticket_card(ticket, ctx.profile, tz=ctx.tz, now=now, step=step, headline=headline,
                                  actions=actions, similar=similar))
