"""Steps 2-5: acknowledge, diagnose, update the customer, assign and reclassify."""

from __future__ import annotations

from dataclasses import replace

from bot.chatter_words import DIAGNOSIS
from bot.context import Ctx, Request
from bot.handlers.common import load, person, require_text, ticket_reply
from bot.i18n import ENGLISH, N_, speaking, spoken_duration, tr
from bot.lifecycle import Move
from bot.parsing import UsageError, user_count, when
from bot.process import Action, ClassOfService, Stage, classify, priority_for
from bot.router import CommandGroup
from bot.tickets import Ticket, TicketFacts
from bot.turn import Reply
from cards.elements import literal

commands = CommandGroup()


def _default_ack(ctx: Ctx, ticket: Ticket) -> str:
    interval = ctx.profile.classes[ticket.cos].update_every
    with speaking(ENGLISH):  # the message is English, whatever the agent's Teams speaks
        cadence = f" You will hear from us at least every {spoken_duration(interval)}." if interval else ""
    return (f"Hello, we have received your request \"{ticket.title}\" ({ticket.label}) and are working on it."
            f"{cadence}")


@commands.command("ack", "/ticket ack <id> [message]", aliases=("acknowledge",), action=Action.ACKNOWLEDGE)
async def ack(ctx: Ctx, req: Request) -> Reply:
    """Acknowledge the ticket to the customer (step 2, within 30 minutes).

    The message goes to the customer in the ticket's chatter; without one I send a short
    acknowledgment with the update cadence of the ticket's class. A new ticket moves to In Progress."""
    ticket = await load(ctx, req, Move.ACK)
    message = "\n".join(p for p in (req.args.text(1), req.body) if p) or _default_ack(ctx, ticket)
    await ctx.odoo.tell_customer(ticket, message, by=ctx.actor)
    if ticket.stage_key in (None, Stage.NEW):
        ticket = await ctx.odoo.move(ticket, Stage.IN_PROGRESS)
    who = ticket.customer.name if ticket.customer else tr("the ticket's followers (no customer set)")
    return await ticket_reply(ctx, ticket, tr("Acknowledged; sent to {who}.", who=literal(who)), customer_updated=True)


@commands.command("note", "/ticket note <id> <text>", action=Action.NOTE)
async def note(ctx: Ctx, req: Request) -> Reply:
    """Add an internal note to the ticket's chatter (the customer does not see it)."""
    ticket = await load(ctx, req, Move.EDIT)
    await ctx.odoo.note(ticket, require_text(req, 1, N_("the note"), f"/ticket note {ticket.id} Called the customer"),
                        by=ctx.actor)
    return await ticket_reply(ctx, ticket, tr("Note added."))


@commands.command("diag", "/ticket diag <id> <findings>", aliases=("diagnose", "diagnosis"), action=Action.NOTE)
async def diag(ctx: Ctx, req: Request) -> Reply:
    """Record diagnosis findings as an internal note (step 3): checks made, logs, metrics, root cause.

    Findings are kept for escalations and the post-mortem. Put long log excerpts on the next lines."""
    ticket = await load(ctx, req, Move.EDIT)
    findings = require_text(req, 1, N_("what you found"), f"/ticket diag {ticket.id} 403 on the video CDN URL")
    await ctx.odoo.note(ticket, f"{DIAGNOSIS}\n{findings}", by=ctx.actor)
    return await ticket_reply(ctx, ticket, tr("Diagnosis recorded."))


@commands.command("update", "/ticket update <id> <text>", action=Action.UPDATE)
async def update(ctx: Ctx, req: Request) -> Reply:
    """Send the customer an update (step 5), even when there is no news; restarts the update cadence."""
    ticket = await load(ctx, req, Move.UPDATE)
    text = require_text(req, 1, N_("the update for the customer"),
                        f"/ticket update {ticket.id} We found the cause and are fixing it")
    await ctx.odoo.tell_customer(ticket, text, by=ctx.actor)
    return await ticket_reply(ctx, ticket, tr("Update sent to the customer."), customer_updated=True)


@commands.command("assign", "/ticket assign <id> <@user|me>", aliases=("take",), action=Action.ASSIGN)
async def assign(ctx: Ctx, req: Request) -> Reply:
    """Give the ticket an owner: `me`, an @mention, or an Odoo user's email."""
    ticket = await load(ctx, req, Move.EDIT)
    who = req.args.text(1)
    if not who:
        raise UsageError(tr("Who should own it? e.g. `/ticket assign {id} me`.", id=ticket.id))
    owner = await person(ctx, who)
    previous = ticket.owner.name if ticket.owner else "nobody"
    ticket = await ctx.odoo.set_owner(ticket, owner)
    await ctx.odoo.note(ticket, f"Owner: {previous} → {owner.name}.", by=ctx.actor)
    return await ticket_reply(ctx, ticket, tr("Assigned to {name}.", name=literal(owner.name)))


async def _reclassify(ctx: Ctx, ticket: Ticket, cos: ClassOfService, facts: TicketFacts, why: str) -> Reply:
    before = ctx.profile.classes[ticket.cos].label
    priority = priority_for(cos, ctx.profile, now=ctx.now(), deadline=facts.deadline)
    ticket_after = await ctx.odoo.set_class(ticket, cos, facts, priority)
    after = ctx.profile.classes[cos].label
    change = f"{before} → {after}" if before != after else f"still {after}"
    await ctx.odoo.note(ticket, f"Class of service: {change} ({why}).", by=ctx.actor)
    said = f"{before} → {after}" if before != after else tr("still {label}", label=after)
    return await ticket_reply(ctx, ticket_after, tr("Class of service: {change}.", change=said))


@commands.command("class", "/ticket class <id> <standard|priority|expedite|deadline> [deadline:<when>]",
                  options=("deadline",), aliases=("reclassify",), action=Action.RECLASSIFY)
async def class_(ctx: Ctx, req: Request) -> Reply:
    """Set the class of service by hand; `deadline` needs `deadline:<when>` unless the ticket has one."""
    ticket = await load(ctx, req, Move.EDIT)
    wanted = req.args.words[1].lower() if len(req.args.words) > 1 else ""
    try:
        cos = ClassOfService(wanted)
    except ValueError:
        raise UsageError(tr("Which class? Use one of: {classes}, e.g. `/ticket class {id} priority`.",
                            classes=", ".join(c.value for c in ClassOfService), id=ticket.id)) from None
    deadline = ticket.facts.deadline
    if "deadline" in req.args.options:
        deadline = when(req.args.options["deadline"], ctx.now(), ctx.tz)
    if cos is ClassOfService.FIXED_DEADLINE and deadline is None:
        raise UsageError(tr("A Fixed Deadline ticket needs its deadline: `/ticket class {id} deadline "
                            "deadline:tomorrow@09:00`.", id=ticket.id))
    facts = replace(ticket.facts, deadline=deadline)
    return await _reclassify(ctx, ticket, cos, facts, f"set by hand by {ctx.actor}")


@commands.command("users", "/ticket users <id> <n>", action=Action.RECLASSIFY)
async def users(ctx: Ctx, req: Request) -> Reply:
    """Record how many users are affected; the class of service follows (and I say when it changes)."""
    ticket = await load(ctx, req, Move.EDIT)
    if len(req.args.words) < 2:
        raise UsageError(tr("How many users? e.g. `/ticket users {id} 15`.", id=ticket.id))
    count = user_count(req.args.words[1])
    facts = replace(ticket.facts, users=count)
    cos = ClassOfService(classify(count, facts.deadline, ctx.profile))
    previous = ticket.facts.users
    return await _reclassify(ctx, ticket, cos, facts, f"users affected {previous if previous is not None else '?'}"
                             f" → {count}")

