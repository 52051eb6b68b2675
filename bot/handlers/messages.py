"""Message actions: a ticket from any Teams message. The "..." menu of a message (in a channel, a group chat or a
1:1 chat) offers Create ticket and Add to ticket (the manifest's `composeExtensions`); each opens a dialog filled in
from the message, and what the dialog sends runs as the command would: `/ticket new`, `/ticket note` or
`/ticket update`, with their checks and their answers. A refusal shows the dialog again as it was sent, with what
was wrong: nothing typed is lost."""

from __future__ import annotations

from bot.context import Ctx, Request
from bot.handlers.intake import MAX_TITLE, classified, new
from bot.handlers.progress import note, update
from bot.i18n import speaking, tr
from bot.lifecycle import NotAllowed
from bot.odoo.gateway import TicketNotFound
from bot.parsing import Arguments, UsageError, ticket_ref
from bot.payloads import AddToTicket, TicketFromMessage
from bot.process import Action
from bot.roles import check_allowed
from bot.router import CommandGroup, as_replies
from bot.turn import Person, Quoted, Reply, RosterUnavailable
from cards.forms import add_to_ticket_form, ticket_from_message_form

commands = CommandGroup()

LISTED = 50  # open tickets the Add dialog offers (yours first); any other by its number


def _quoted(ctx: Ctx) -> Quoted:
    assert ctx.incoming.quoted is not None  # the router refuses a message action without its message
    return ctx.incoming.quoted


def _author(quoted: Quoted) -> str:
    return quoted.author.name or tr("someone")


def _from_teams(ctx: Ctx, quoted: Quoted) -> str:
    """The line saying where the text came from, with the link back, in the team's language (it goes to Odoo)."""
    with speaking(ctx.profile.language):
        if quoted.link:
            return tr("From a Teams message by {author}: {link}", author=_author(quoted), link=quoted.link)
        return tr("From a Teams message by {author}.", author=_author(quoted))


async def _customer_email(ctx: Ctx, author: Person) -> str:
    """The author's e-mail when Teams' roster gives it and Odoo has them as a customer (not one of its users)."""
    if not author.aad_object_id:
        return ""
    try:
        address = await ctx.teams.member_email(Person(id=author.aad_object_id))
    except RosterUnavailable:  # a chat the bot is no member of: the agent fills the customer in
        return ""
    return address if address and await ctx.odoo.is_customer(address) else ""


@commands.message_action("createTicket", opens=True, action=Action.CREATE)
async def create_ticket_dialog(ctx: Ctx, req: Request) -> Reply:
    """Create ticket (a message's ... menu): the new-ticket form, filled in from the message."""
    quoted = _quoted(ctx)
    first_line = next((line for line in quoted.text.splitlines() if line.strip()), "")
    form = TicketFromMessage(title=first_line[:MAX_TITLE], description=quoted.text,
                             customer=await _customer_email(ctx, quoted.author))
    return Reply(card=ticket_from_message_form(ctx.profile, form, author=_author(quoted)))


@commands.message_action("createTicket", opens=False, payload=TicketFromMessage, action=Action.CREATE)
async def create_ticket(ctx: Ctx, req: Request[TicketFromMessage]) -> list[Reply]:
    """Create ticket, sent: logged as `/ticket new` would, the message's link in the description."""
    form, quoted = req.payload, _quoted(ctx)
    try:
        if form.check:
            *_, cos = classified(ctx, form.options())
            return [Reply(card=ticket_from_message_form(ctx.profile, form, author=_author(quoted),
                                                        service_class=ctx.profile.classes[cos].label), private=True)]
        if not form.title:
            raise UsageError(tr("Please give the ticket a title."))
        description = "\n\n".join(part for part in (form.description, _from_teams(ctx, quoted)) if part)
        return as_replies(await new(ctx, Request("new", Arguments(tuple(form.title.split()), form.options()),
                                                 description, payload=None)))
    except UsageError as error:
        again = ticket_from_message_form(ctx.profile, form, author=_author(quoted), problem=str(error))
        return [Reply(card=again, private=True)]


@commands.message_action("addToTicket", opens=True, action=Action.NOTE)
async def add_to_ticket_dialog(ctx: Ctx, req: Request) -> Reply:
    """Add to ticket (a message's ... menu): pick an open ticket (yours first) or type its number."""
    return Reply(card=add_to_ticket_form(await _open_tickets(ctx), AddToTicket(), author=_author(_quoted(ctx))))


async def _open_tickets(ctx: Ctx) -> list[tuple[str, str]]:
    mine = await ctx.odoo.tickets(ctx.odoo.open_domain() + ctx.odoo.owner_domain(ctx.user), limit=LISTED) \
        if ctx.user else []
    others = await ctx.odoo.tickets(ctx.odoo.open_domain(), limit=LISTED)
    seen: set[int] = set()
    listed: list[tuple[str, str]] = []
    for ticket in [*mine, *others]:
        if ticket.id not in seen and len(listed) < LISTED:
            seen.add(ticket.id)
            listed.append((f"{ticket.label}: {ticket.title}"[:120], str(ticket.id)))
    return listed


@commands.message_action("addToTicket", opens=False, payload=AddToTicket, action=Action.NOTE)
async def add_to_ticket(ctx: Ctx, req: Request[AddToTicket]) -> list[Reply]:
    """Add to ticket, sent: the message goes to the ticket's chatter as `/ticket note` (or, for the customer,
    `/ticket update`) would, with a link back to it."""
    form, quoted = req.payload, _quoted(ctx)
    try:
        ticket_ref(form.chosen or None)  # said here, in the dialog, rather than as the command's usage
        text = "\n\n".join(part for part in (quoted.text, _from_teams(ctx, quoted)) if part)
        request = Request("update" if form.to_customer else "note", Arguments((form.chosen,)), text, payload=None)
        if form.to_customer:
            check_allowed(ctx.profile, ctx.odoo, ctx.user, Action.UPDATE)
            return as_replies(await update(ctx, request))
        return as_replies(await note(ctx, request))
    except (UsageError, TicketNotFound, NotAllowed) as error:  # another ticket may do: the dialog stays
        return [Reply(card=add_to_ticket_form(await _open_tickets(ctx), form, author=_author(quoted),
                                              problem=str(error)), private=True)]
