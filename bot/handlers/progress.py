"""Steps 2-5: acknowledge, diagnose, update the customer, assign and reclassify."""

from __future__ import annotations

from dataclasses import replace

from bot.chatter_words import DIAGNOSIS
from bot.context import Ctx, Request
from bot.handlers.common import email, load, person, require_text, ticket_reply
from bot.i18n import ENGLISH, N_, joined, speaking, spoken_duration, tr
from bot.lifecycle import Move
from bot.numbers import MAX_RECORD_ID, whole_number
from bot.parsing import UsageError, shortened, user_count, when
from bot.process import Action, ClassOfService, Stage, classify, priority_for
from bot.router import CommandGroup
from bot.tickets import Ticket, TicketFacts
from bot.turn import Reply
from bot.wording import literal

commands = CommandGroup()

MAX_CONTACTS = 10  # addresses on one `to:`: a handful of sample users or managers, not a mailing list
MAX_TODO = 200  # characters of a To-Do's summary (Odoo shows it on one line)
MAX_TAG = 64  # characters of a tag typed in Teams (Odoo's own has no limit: a typo or an attack, not a tag)


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
    if ticket.stage_key in (None, Stage.NEW) or ticket.stage == ctx.profile.triage_stage:  # triaged: now handled
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


@commands.command("update", "/ticket update <id> [to:<email>[,<email>]] <text>", options=("to",),
                  action=Action.UPDATE)
async def update(ctx: Ctx, req: Request) -> Reply:
    """Send the customer an update (step 5), even when there is no news; restarts the update cadence.

    `to:` writes to other contacts instead (sample users asked to verify, a CXO): they get the message and follow
    the ticket from then on, so their replies land on it."""
    ticket = await load(ctx, req, Move.UPDATE)
    text = require_text(req, 1, N_("the update for the customer"),
                        f"/ticket update {ticket.id} We found the cause and are fixing it")
    if "to" not in req.args.options:
        await ctx.odoo.tell_customer(ticket, text, by=ctx.actor)
        return await ticket_reply(ctx, ticket, tr("Update sent to the customer."), customer_updated=True)
    addresses = list(dict.fromkeys(email(a) for a in req.args.options["to"].split(",") if a.strip()))
    if not addresses or len(addresses) > MAX_CONTACTS:
        raise UsageError(tr("Write one to {most} addresses after `to:`, separated by commas, e.g. "
                            "`to:student01@example.com,student02@example.com`.", most=MAX_CONTACTS))
    partners = await ctx.odoo.tell_contacts(ticket, text, addresses, by=ctx.actor)
    told_customer = ticket.customer is not None and ticket.customer.id in partners
    return await ticket_reply(ctx, ticket, tr("Update sent to {who}; they now follow the ticket.",
                                              who=literal(joined(addresses))), customer_updated=told_customer)


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
    ticket_after, said = await _set_class(ctx, ticket, cos, facts, why)
    return await ticket_reply(ctx, ticket_after, tr("Class of service: {change}.", change=said))


async def _set_class(ctx: Ctx, ticket: Ticket, cos: ClassOfService, facts: TicketFacts,
                     why: str) -> tuple[Ticket, str]:
    """The class (its tag, priority and facts) written and noted; the ticket after, and the change as said."""
    before = ctx.profile.classes[ticket.cos].label
    priority = priority_for(cos, ctx.profile, now=ctx.now(), deadline=facts.deadline)
    ticket_after = await ctx.odoo.set_class(ticket, cos, facts, priority)
    after = ctx.profile.classes[cos].label
    change = f"{before} → {after}" if before != after else f"still {after}"
    await ctx.odoo.note(ticket, f"Class of service: {change} ({why}).", by=ctx.actor)
    return ticket_after, f"{before} → {after}" if before != after else tr("still {label}", label=after)


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



@commands.command("priority", "/ticket priority <id> <low|medium|high|urgent>", action=Action.RECLASSIFY)
async def priority(ctx: Ctx, req: Request) -> Reply:
    """Set the priority by hand; the class of service stays (it follows the users affected and the deadline)."""
    ticket = await load(ctx, req, Move.EDIT)
    offered = [ctx.odoo.model.priority_label(value).lower() for value in ctx.odoo.model.priorities]
    wanted = req.args.words[1] if len(req.args.words) > 1 else ""
    value = ctx.odoo.model.priority_named(wanted)
    if value is None:
        raise UsageError(tr("Which priority? This Odoo's {model} has: {offered}, e.g. `/ticket priority {id} {last}`.",
                            model=ctx.odoo.model.model, offered=", ".join(offered), id=ticket.id, last=offered[-1]))
    before = ticket.priority_label or ticket.priority
    ticket = await ctx.odoo.set_priority(ticket, value)
    await ctx.odoo.note(ticket, f"Priority: {before} → {ticket.priority_label} (set by hand; the class of service "
                                "stays).", by=ctx.actor)
    return await ticket_reply(ctx, ticket, tr("Priority: {before} → {after}; the class of service stays.",
                                              before=tr(before), after=tr(ticket.priority_label)))


@commands.command("tag", "/ticket tag <id> <tag> [-<tag>] ...", aliases=("tags",), action=Action.UPDATE)
async def tag(ctx: Ctx, req: Request) -> Reply:
    """Add tags to the ticket, or take them off with a minus (`-spanish`); quote a tag with spaces
    (`"Technical Call"`). The class of service's tags are changed with `/ticket class`."""
    ticket = await load(ctx, req, Move.EDIT)
    words = list(req.args.words[1:])
    if not words:
        raise UsageError(tr("Which tags? e.g. `/ticket tag {id} vip -spanish`.", id=ticket.id))
    added = [w for w in words if not w.startswith("-")]
    removed = [w[1:] for w in words if w.startswith("-") and len(w) > 1]
    if class_tags := [t for t in (*added, *removed) if t in ctx.profile.class_tags()]:
        raise UsageError(tr("`{tag}` is the class of service's tag: change it with `/ticket class {id} <class>`.",
                            tag=literal(class_tags[0]), id=ticket.id))
    if too_long := [t for t in (*added, *removed) if len(t) > MAX_TAG]:
        raise UsageError(tr("A tag is at most {most} characters; `{tag}` is longer.", most=MAX_TAG,
                            tag=literal(too_long[0][:MAX_TAG]) + "…"))
    tags = [t for t in dict.fromkeys((*ticket.tags, *added)) if t not in removed]
    ticket = await ctx.odoo.set_tags(ticket, tags)
    changes = ", ".join([*(f"+{t}" for t in added), *(f"-{t}" for t in removed)])
    await ctx.odoo.note(ticket, f"Tags: {changes}.", by=ctx.actor)
    return await ticket_reply(ctx, ticket, tr("Tags: {tags}.", tags=literal(", ".join(ticket.tags)) or "-"))


@commands.command("triage", "/ticket triage <id> <1|2|3 stars> [assignee:<@user|me>]", options=("assignee",),
                  action=Action.RECLASSIFY)
async def triage(ctx: Ctx, req: Request) -> Reply:
    """Triage where the process has the step (TMF): the priority assessment in stars, which is the class of
    service (1 star: within 2-5 business days, 2: within a day, 3: at once), the ticket assigned (to you unless
    `assignee:` says), and moved into the triage stage, whose e-mail Odoo sends the customer."""
    ticket = await load(ctx, req, Move.EDIT)
    stage = ctx.profile.triage_stage
    if stage is None:
        raise UsageError(tr("This process has no triage step: acknowledge the ticket with `/ticket ack {id}`.",
                            id=ticket.id))
    starred = {service_class.priority: cos for cos, service_class in ctx.profile.classes.items()
               if cos is not ClassOfService.FIXED_DEADLINE}
    stars = req.args.words[1].removesuffix("*") if len(req.args.words) > 1 else ""
    if stars not in starred:
        raise UsageError(tr("How many stars? e.g. `/ticket triage {id} 2`: {choices}.", id=ticket.id,
                            choices=", ".join(f"{value} ({ctx.profile.classes[cos].label})"
                                              for value, cos in sorted(starred.items()))))
    owner = await person(ctx, req.args.options.get("assignee", "me"))
    if ticket.owner is None or ticket.owner.id != owner.id:
        ticket = await ctx.odoo.set_owner(ticket, owner)
    cos = starred[stars]
    ticket, _ = await _set_class(ctx, ticket, cos, ticket.facts, f"triaged: {stars} star(s)")
    ticket = await ctx.odoo.move_into(ticket, stage)
    email = ctx.profile.odoo_stage_emails.get(stage)
    said = tr("Triaged: {service_class}, owner {owner}, in {stage}.", service_class=ctx.profile.classes[cos].label,
              owner=literal(owner.name), stage=literal(stage))
    if email:
        said += " " + tr("Odoo sends the customer \u201c{email}\u201d.", email=email)
    return await ticket_reply(ctx, ticket, said)


@commands.command("todo", "/ticket todo <id> <@user|me> <what to do> [due:<when>]", options=("due",),
                  action=Action.NOTE)
async def todo(ctx: Ctx, req: Request) -> Reply:
    """Give someone of the team a To-Do on the ticket: an Odoo activity in their own Odoo views, due today unless
    `due:` says (TMF: "create a TODO in Odoo within that ticket for that person")."""
    ticket = await load(ctx, req, Move.EDIT)
    if len(req.args.words) < 3:
        raise UsageError(tr("Who, and what? e.g. `/ticket todo {id} @Lan Check the backend logs for the car due:"
                            "tomorrow@09:00`.", id=ticket.id))
    who = await person(ctx, req.args.words[1])
    what = req.args.text(2)
    if len(what) > MAX_TODO:
        raise UsageError(tr("Keep the To-Do under {most} characters; put the details in a note.", most=MAX_TODO))
    due = when(req.args.options["due"], ctx.now(), ctx.tz) if "due" in req.args.options else ctx.now()
    day = due.astimezone(ctx.tz).date()
    await ctx.odoo.todo(ticket, who.id, what, due=day)
    return await ticket_reply(ctx, ticket, tr("To-Do for {who}, due {day}: {what}", who=literal(who.name),
                                              day=day.strftime("%d/%m/%Y"), what=literal(what)))


@commands.command("set", "/ticket set <id> <field> <name or #id>", action=Action.UPDATE)
async def set_(ctx: Ctx, req: Request) -> Reply:
    """Fill in a field the process requires before a stage (Odoo PS: the parent task, the sale order line, the
    subscription), choosing among what Odoo has: by name, or `#id` when several match. `/ticket set <id>` lists
    them."""
    ticket = await load(ctx, req, Move.EDIT)
    links = ctx.odoo.links
    labels = {field: label for fields in ctx.odoo.required_fields.values() for field, label in fields.items()}
    if not links:
        raise UsageError(tr("This process requires no field I can fill in from Teams."))
    names = {_short(field): field for field in links}
    listed = ", ".join(f"`{short}` ({labels[field]})" for short, field in names.items())
    if len(req.args.words) < 3:
        raise UsageError(tr("Which field, and what? {fields}; e.g. `/ticket set {id} {first} <name>`.",
                            fields=listed, id=ticket.id, first=next(iter(names))))
    field = names.get(req.args.words[1].lower()) or (req.args.words[1] if req.args.words[1] in links else None)
    if field is None:
        raise UsageError(tr("`{field}` is not a field I fill in here: {fields}.", field=literal(req.args.words[1]),
                            fields=listed))
    wanted = req.args.text(2)
    # str.isdigit() only tells what was meant (`#²`, `#①`, `#` and thousands of digits): never read by int()
    if wanted.startswith("#") and wanted[1:].isdigit() and whole_number(wanted[1:], maximum=MAX_RECORD_ID) is None:
        raise UsageError(tr("`{wanted}` is not a record id: write it in the digits 0-9, up to {most}, like "
                            "`/ticket set {id} {field} #42`.", wanted=literal(shortened(wanted)),
                            most=f"{MAX_RECORD_ID:,}", id=ticket.id, field=_short(field)))
    found = await ctx.odoo.link_choices(field, wanted)
    if not found:
        raise UsageError(tr("Odoo has nothing named `{wanted}` for {label}.", wanted=literal(wanted),
                            label=labels[field]))
    if len(found) > 1:
        choices = "; ".join(f"`#{record.id}` {literal(record.name)}" for record in found)
        raise UsageError(tr("Several match `{wanted}`: {choices}. Write the one you mean as `/ticket set {id} "
                            "{field} #<id>`.", wanted=literal(wanted), choices=choices, id=ticket.id,
                            field=_short(field)))
    [record] = found
    ticket = await ctx.odoo.set_link(ticket, field, record)
    await ctx.odoo.note(ticket, f"{labels[field]}: {record.name} (#{record.id}).", by=ctx.actor)
    return await ticket_reply(ctx, ticket, tr("{label}: {name}.", label=labels[field], name=literal(record.name)))


def _short(field: str) -> str:
    """What people type for an Odoo field: `parent` for parent_id, `sale_line` for sale_line_id."""
    return field.removesuffix("_id")
