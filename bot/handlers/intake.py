"""Step 1, reception: log a ticket; and looking tickets up."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from bot.context import Ctx, Request
from bot.escalation.standby import alert_new
from bot.handlers.common import email, person, ticket_reply
from bot.i18n import N_, joined, tr
from bot.insights.similar import query
from bot.odoo.gateway import NewTicket
from bot.parsing import UsageError, ticket_ref, user_count, when
from bot.process import Action, ClassOfService, classify, priority_for
from bot.reminders.policy import next_step
from bot.router import CommandGroup
from bot.tickets import TicketFacts
from bot.turn import Reply
from bot.wording import literal
from cards.forms import new_ticket_form
from cards.similar import similar_card
from cards.ticket import ticket_list_card

commands = CommandGroup()

MAX_TITLE = 200


@commands.command(
    "new",
    "/ticket new <title> [users:<n>] [customer:<email>] [deadline:<when>] [type:<type>] [category:<name>] "
    "[team:<name>] [assignee:<@user|me>]",
    options=("users", "customer", "deadline", "type", "category", "team", "assignee"),
    aliases=("create",),
    action=Action.CREATE,
)
async def new(ctx: Ctx, req: Request) -> Reply:
    """Log a new ticket in Odoo (step 1: reception). The description goes on the next lines.

    The class of service follows from the users affected and the deadline: fewer than 5 users is
    Standard, 5 to 25 Priority, more than 25 Expedite; a deadline makes it Fixed Deadline unless
    the users make it Expedite. The owner is you unless `assignee:` says otherwise.
    Without a title I show a form instead. The card shows the resolved tickets most like the new one, with
    their root cause and fix (`/ticket similar`).
    Example: `/ticket new Cannot log in to LMS users:1 customer:nguyen.van.a@mindx.edu.vn`"""
    title = req.args.text()
    if not title:
        return Reply(card=new_ticket_form(ctx.profile))
    if len(title) > MAX_TITLE:
        raise UsageError(tr("The title is {length} characters long; keep it under {most} and put the rest on the "
                            "next lines as the description.", length=len(title), most=MAX_TITLE))
    options = req.args.options
    now = ctx.now()
    users, deadline, kind, cos = classified(ctx, options)
    customer = email(options["customer"]) if "customer" in options else None
    owner = await person(ctx, options.get("assignee", "me"))
    ticket = await ctx.odoo.create(NewTicket(
        title=title,
        description=req.body or title,
        facts=TicketFacts(users=users, deadline=deadline, reported=now, kind=kind, logged_by=ctx.actor),
        cos=cos,
        priority=priority_for(cos, ctx.profile, now=now, deadline=deadline),
        customer_email=customer,
        owner=owner,
        team=options.get("team"),
        category=options.get("category"),
    ))
    logged = tr("Logged as {label}.", label=ctx.profile.classes[cos].label)
    if alerted := await alert_new(ctx.services, ticket, by=ctx.actor):  # the class's alerts (profile: alerts)
        logged += " " + tr("Alerted: {who}.", who=joined(alerted))
    similar = ctx.services.similar.like(query(ticket), exclude={ticket.id})  # in memory: [] until it is built
    return await ticket_reply(ctx, ticket, logged, similar=similar)


def classified(ctx: Ctx, options: Mapping[str, str]) -> tuple[int | None, datetime | None, str, ClassOfService]:
    """What `/ticket new`'s options say of a ticket: the users affected, the deadline, the type, and the class of
    service they make; a UsageError for one that does not read."""
    users = user_count(options["users"]) if "users" in options else None
    deadline = when(options["deadline"], ctx.now(), ctx.tz) if "deadline" in options else None
    kind = options.get("type", "").lower()
    if kind and kind not in ctx.profile.ticket_types:
        raise UsageError(tr("`type:{kind}` is not a ticket type here. Use one of: {types}.", kind=literal(kind),
                            types=", ".join(ctx.profile.ticket_types)))
    return users, deadline, kind, ClassOfService(classify(users, deadline, ctx.profile))


@commands.command("show", "/ticket show <id>", aliases=("get", "view"), changes=False)
async def show(ctx: Ctx, req: Request) -> Reply:
    """Show a ticket: class of service, stage, owner, customer, and what is due next."""
    ticket = await ctx.odoo.ticket(ticket_ref(req.args.words[0] if req.args.words else None))
    return await ticket_reply(ctx, ticket)


@commands.command("similar", "/ticket similar <id>", aliases=("like", "past"), changes=False)
async def similar(ctx: Ctx, req: Request) -> Reply:
    """Show the three resolved tickets most like this one, with their root cause and fix: start from what worked.

    The cause comes from their diagnosis notes (`/ticket diag`), the fix from their resolution (`/ticket resolve`);
    they are matched on title, description, diagnosis and resolution, in English and Vietnamese, with or without
    diacritics. A new ticket's card shows them too."""
    ticket = await ctx.odoo.ticket(ticket_ref(req.args.words[0] if req.args.words else None))
    index = ctx.services.similar
    return Reply(card=similar_card(ticket, index.like(query(ticket), exclude={ticket.id}), ready=index.ready))


_LIST_TITLES = {"mine": N_("Your open tickets"), "open": N_("Open tickets"), "overdue": N_("Overdue tickets")}
LIST_FILTERS = ("mine", "open", "overdue", *[c.value for c in ClassOfService])


@commands.command("list", "/ticket list [mine|open|overdue|standard|priority|expedite|deadline]", aliases=("ls",),
                  changes=False)
async def list_(ctx: Ctx, req: Request) -> Reply:
    """List open tickets: yours (`mine`, the default), all `open` ones, the `overdue` ones, or one class."""
    which = (req.args.words[0].lower() if req.args.words else "mine")
    if which not in LIST_FILTERS:
        raise UsageError(tr("I can't list `{which}`. Use one of: {filters}.", which=literal(which),
                            filters=", ".join(LIST_FILTERS)))
    domain = ctx.odoo.open_domain()
    if which == "mine" and ctx.user:
        domain += ctx.odoo.owner_domain(ctx.user)
    elif which in {c.value for c in ClassOfService}:
        domain += ctx.odoo.tag_domain(ctx.profile.classes[ClassOfService(which)].tag)
    tickets = await ctx.odoo.tickets(domain, limit=100 if which == "overdue" else 25)
    now = ctx.now()
    rows = [(t, next_step(t, ctx.profile, now)) for t in tickets]
    if which == "overdue":
        rows = [(t, step) for t, step in rows if step is not None and step.overdue(now)]
    listed = _LIST_TITLES.get(which)
    title = tr(listed) if listed else tr("Open {label} tickets", label=ctx.profile.classes[ClassOfService(which)].label)
    return Reply(card=ticket_list_card(f"{title} ({len(rows)})", rows, ctx.profile, tz=ctx.tz, now=now))
