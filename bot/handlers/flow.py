"""Steps 4-6: pause and resume, resolve, confirm and close; cancel, reopen and merge."""

from __future__ import annotations

from dataclasses import dataclass, replace

from bot import chatter_words as words
from bot.context import Ctx, Request
from bot.handlers.common import load, reminders, require_text, ticket_reply
from bot.i18n import N_, tr
from bot.lifecycle import Move, arrived, check
from bot.parsing import UsageError, ticket_ref, user_count
from bot.process import Action, ClassOfService, Stage, classify, priority_for
from bot.roles import check_allowed
from bot.router import CommandGroup
from bot.turn import Reply

commands = CommandGroup()


@dataclass(frozen=True)
class _MoveWithReason:
    """A move that needs a reason, which is kept as an internal note."""

    move: Move
    stage: Stage
    asks_for: str  # "why it is on hold" (marked N_)
    example: str  # the text after the id in the example
    noted_as: str  # the note's prefix (the chatter stays in English)
    headline: str  # marked N_


async def _move_with_reason(ctx: Ctx, req: Request, spec: _MoveWithReason) -> Reply:
    ticket = await load(ctx, req, spec.move)
    reason = require_text(req, 1, spec.asks_for, f"/ticket {req.name} {ticket.id} {spec.example}")
    ticket = await ctx.odoo.move(ticket, spec.stage)
    await ctx.odoo.note(ticket, f"{spec.noted_as}: {reason}", by=ctx.actor)
    # back in progress (reopen): the update cadence starts again from now
    return await ticket_reply(ctx, ticket, tr(spec.headline), customer_updated=spec.stage is Stage.IN_PROGRESS)


HOLD = _MoveWithReason(Move.HOLD, Stage.ON_HOLD, N_("why it is on hold"), "Waiting for the product team", words.ON_HOLD,
                       N_("On hold. `/ticket resume` when it moves again."))
BLOCK = _MoveWithReason(Move.BLOCK, Stage.WAITING_CUSTOMER, N_("what you are waiting for"), "Waiting for a screenshot",
                        words.WAITING_FOR_CUSTOMER, N_("Waiting for the customer."))
CANCEL = _MoveWithReason(Move.CANCEL, Stage.CANCELLED, N_("why it is cancelled"), "Logged twice by mistake",
                         words.CANCELLED, N_("Cancelled."))
REOPEN = _MoveWithReason(Move.REOPEN, Stage.IN_PROGRESS, N_("why it is reopened"), "The error is back", words.REOPENED,
                         N_("Reopened."))


@commands.command("hold", "/ticket hold <id> <reason>", aliases=("onhold",), action=Action.HOLD)
async def hold(ctx: Ctx, req: Request) -> Reply:
    """Put the ticket on hold while another team decides (e.g. the product team); no reminders meanwhile."""
    return await _move_with_reason(ctx, req, HOLD)


@commands.command("block", "/ticket block <id> <reason>", aliases=("wait",), action=Action.HOLD)
async def block(ctx: Ctx, req: Request) -> Reply:
    """Mark the ticket as waiting for the customer (information, a test, an approval)."""
    return await _move_with_reason(ctx, req, BLOCK)


@commands.command("resume", "/ticket resume <id>", aliases=("unhold", "unblock"), action=Action.RESUME)
async def resume(ctx: Ctx, req: Request) -> Reply:
    """Take a ticket off hold (or out of waiting) and back to In Progress; the update cadence restarts."""
    ticket = await load(ctx, req, Move.RESUME)
    paused_as = ticket.stage
    ticket = await ctx.odoo.move(ticket, Stage.IN_PROGRESS)
    await ctx.odoo.note(ticket, f"{words.RESUMED} (was {paused_as}). {req.args.text(1)}".strip(), by=ctx.actor)
    return await ticket_reply(ctx, ticket, tr("Back in progress."), customer_updated=True)  # the cadence restarts


@commands.command("resolve", "/ticket resolve <id> <resolution>", aliases=("solve", "fixed"), action=Action.RESOLVE)
async def resolve(ctx: Ctx, req: Request) -> Reply:
    """Record the fix and ask the customer to confirm it worked (step 4 and 6).

    The resolution goes to the customer; the ticket waits for `/ticket confirm` before it closes."""
    ticket = await load(ctx, req, Move.RESOLVE)
    resolution = require_text(req, 1, N_("what was done"),
                              f"/ticket resolve {ticket.id} Reset the password and sent a temporary one")
    confirms = ctx.profile.stages[Stage.RESOLVED] != ctx.profile.stages[Stage.DONE]  # TMF: resolved is Done
    await ctx.odoo.tell_customer(ticket, words.resolution(resolution, ask_to_confirm=confirms), by=ctx.actor,
                                 hidden=words.RESOLVED_STEP)
    ticket = await ctx.odoo.move(ticket, Stage.RESOLVED)
    await ctx.odoo.follow_up_in_odoo(ticket, now=ctx.now())
    if confirms:
        said = tr("Resolved; the customer was asked to confirm.")
    elif closing_email := ctx.profile.stage_emails.get(Stage.DONE):
        said = tr("Resolved and closed (this process has no confirmation step); Odoo sends the customer its "
                  "\u201c{email}\u201d e-mail.", email=closing_email)
    else:
        said = tr("Resolved and closed (this process has no confirmation step).")
    return await ticket_reply(ctx, ticket, said, customer_updated=True)


@commands.command("confirm", "/ticket confirm <id> [what the customer said]", aliases=("confirmed",),
                  action=Action.CLOSE)
async def confirm(ctx: Ctx, req: Request) -> Reply:
    """The customer confirmed the fix: log it and close the ticket (step 6)."""
    ticket = await load(ctx, req, Move.CONFIRM)
    said = req.args.text(1)
    ticket = await ctx.odoo.move(ticket, Stage.DONE)
    await ctx.odoo.note(ticket, f"{words.CONFIRMED}." + (f" \u201c{said}\u201d" if said else ""),
                        by=ctx.actor)
    return await ticket_reply(ctx, ticket, tr("Confirmed and closed."))


@commands.command("close", "/ticket close <id> force:yes <reason>", options=("force",))
async def close(ctx: Ctx, req: Request) -> Reply:
    """Close without the customer's confirmation: only with `force:yes` and a reason, which is logged.

    When the customer did confirm, use `/ticket confirm` instead."""
    ticket = await load(ctx, req, Move.CLOSE)
    if req.args.options.get("force", "").lower() not in ("yes", "true"):
        raise UsageError(tr("{ticket} has no confirmation from the customer. Use `/ticket confirm {id}` once they "
                            "confirm, or `/ticket close {id} force:yes <reason>` to close anyway (the reason is "
                            "logged).", ticket=ticket.label, id=ticket.id))
    assert ctx.user is not None
    check_allowed(ctx.profile, ctx.odoo, ctx.user, Action.CLOSE_FORCE)
    reason = require_text(req, 1, N_("why it closes without confirmation"),
                          f"/ticket close {ticket.id} force:yes Customer unreachable for 7 days")
    ticket = await ctx.odoo.move(ticket, Stage.DONE)
    await ctx.odoo.note(ticket, f"{words.CLOSED_UNCONFIRMED}: {reason}", by=ctx.actor)
    return await ticket_reply(ctx, ticket, tr("Closed without confirmation; the reason is in the chatter."))


@commands.command("cancel", "/ticket cancel <id> <reason>", action=Action.CANCEL)
async def cancel(ctx: Ctx, req: Request) -> Reply:
    """Cancel a ticket that needs no work (duplicate, mistake, withdrawn)."""
    return await _move_with_reason(ctx, req, CANCEL)


@commands.command("reopen", "/ticket reopen <id> <reason>", action=Action.REOPEN)
async def reopen(ctx: Ctx, req: Request) -> Reply:
    """Reopen a closed or resolved ticket (the fix did not hold, the customer came back)."""
    return await _move_with_reason(ctx, req, REOPEN)


@commands.command("merge", "/ticket merge <id> into <id> [users:<n>]", options=("users",), action=Action.MERGE)
async def merge(ctx: Ctx, req: Request) -> Reply:
    """Merge a duplicate into the ticket that survives (same issue reported twice).

    Both get a note linking the other, and the duplicate is cancelled. Two reports are often the same people:
    the larger count of users affected is kept, unless `users:` says how many they are together (the class
    follows)."""
    words = [w for w in req.args.words if w.lower() != "into"]
    if len(words) != 2:
        raise UsageError(tr("Write `/ticket merge <duplicate> into <surviving ticket>`, e.g. "
                            "`/ticket merge 19 into 20`."))
    duplicate_ref, target_ref = ticket_ref(words[0]), ticket_ref(words[1])
    if duplicate_ref == target_ref:
        raise UsageError(tr("A ticket cannot be merged into itself."))
    duplicate = await ctx.odoo.ticket(duplicate_ref)
    target = await ctx.odoo.ticket(target_ref)
    check(target, Move.MERGE)
    if not (ctx.again and arrived(duplicate, Move.CANCEL)):  # run again after the merge landed: applied
        check(duplicate, Move.MERGE)
    given = req.args.options.get("users")
    users = user_count(given) if given is not None else max(duplicate.facts.users or 0, target.facts.users or 0) or None
    facts = replace(target.facts, users=users)
    cos = ClassOfService(classify(users, facts.deadline, ctx.profile))
    target = await ctx.odoo.set_class(target, cos, facts,
                                      priority_for(cos, ctx.profile, now=ctx.now(), deadline=facts.deadline))
    counted = "as the merge said" if given is not None else "the larger of the two reports"
    await ctx.odoo.note(target, f"Merged {duplicate.label} ({duplicate.title}) into this ticket: {duplicate.url}. "
                                f"Users affected now {target.facts.users or 'unknown'} ({counted}).", by=ctx.actor)
    await ctx.odoo.note(duplicate, f"Duplicate of {target.label}: {target.url}. Work continues there.",
                        by=ctx.actor)
    await ctx.odoo.move(duplicate, Stage.CANCELLED)
    await reminders(ctx).forget(duplicate.id)
    merged = tr("Merged {duplicate} into {target}; {duplicate} is cancelled.", duplicate=duplicate.label,
                target=target.label)
    if given is not None:
        counted_now = tr("Users affected: {users}, as you wrote.", users=users or 0)
    else:
        counted_now = tr("Users affected: {users}, the larger of the two reports (they may be the same people); if "
                         "they are different people, merge with `users:<how many in all>`.", users=users or 0) \
            if users else tr("Neither report says how many users are affected.")
    return await ticket_reply(ctx, target, f"{merged} {counted_now}")
