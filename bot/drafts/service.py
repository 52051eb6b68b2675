"""`/ticket email`: make a draft from the templates, and post it from its card.

Posting is checked again when the button is clicked (the card may be hours old, and card data comes from
the client): the draft must still be known, the ticket open, the person an Odoo user the profile lets do
it; what is posted is the stored draft (or the text typed into the card's Edit box, read by `EditedDraft` as the
click came in), once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from zoneinfo import ZoneInfo

from bot.channels import MANAGEMENT_CHANNEL
from bot.chatter_words import RESOLVED_STEP
from bot.context import Services
from bot.drafts.model import NOT_KNOWN, RULES, Draft, DraftKind, DraftState, Recipient, left_unfilled
from bot.drafts.posts import ForManagement
from bot.drafts.store import DraftStore
from bot.drafts.templates import languages, render
from bot.drafts.values import template_values
from bot.i18n import ENGLISH, language_of, tr
from bot.lifecycle import check, check_required_fields
from bot.parsing import TicketRef, UsageError
from bot.process import Stage
from bot.reminders.service import Reminders
from bot.roles import check_allowed
from bot.tickets import OdooUser, Ticket
from bot.wording import literal

logger = logging.getLogger(__name__)

NOTED_AS = "Management summary posted to the management channel"  # the ticket's internal note (English)


class Refused(Exception):
    """A click that cannot be taken; the message says why. Nothing was posted."""


@dataclass(frozen=True)
class Outcome:
    draft: Draft
    notice: str = ""  # why this click did not post it (already posted...), "" when it did


def draft_kind(word: str) -> DraftKind:
    try:
        return DraftKind(word.strip().lower())
    except ValueError:
        kinds = ", ".join(kind.value for kind in DraftKind)
        if not word:
            raise UsageError(tr("Which e-mail? Use one of: {kinds}.", kinds=kinds)) from None
        raise UsageError(tr("`{word}` is not a kind of e-mail I draft. Use one of: {kinds}.", word=literal(word),
                            kinds=kinds)) from None


def checked_language(services: Services, kind: DraftKind, wanted: str) -> str:
    """`lang:` as given ("" when not given), or a UsageError naming the languages there are templates in."""
    known = languages(services.profile, kind)
    if wanted and wanted.lower() not in known:
        raise UsageError(tr("There is no {kind} template in `{language}`. Use lang: with one of: {known}.",
                            kind=kind.value, language=literal(wanted), known=", ".join(known) or "-"))
    return wanted.lower()


async def make(services: Services, ref: TicketRef, kind: DraftKind, *, language: str, agent: str,
               agent_locale: str, tz: ZoneInfo, message: str = "") -> Draft:
    """Render the draft (raises TemplateProblem for a broken template) and keep it for its card."""
    history = await services.odoo.history(ref)
    ticket = history.ticket
    check(ticket, RULES[kind].move)
    language = language or await _language(services, ticket, kind, agent_locale)
    values = template_values(history, services.profile, kind, language=language, agent=agent, tz=tz,
                             now=services.clock(), message=message)
    rendered = render(services.profile, kind, language, values)
    draft = Draft(id=DraftStore.new_id(), kind=kind, language=language, ticket_id=ticket.id,
                  ticket_label=ticket.label, ticket_title=ticket.title, url=ticket.url,
                  recipient=ticket.customer.name if ticket.customer else "", subject=rendered.subject,
                  text=rendered.text, made_by=agent, made_at=services.clock())
    await DraftStore(services.store).save(draft)
    return draft


async def _language(services: Services, ticket: Ticket, kind: DraftKind, agent_locale: str) -> str:
    """The customer's language when Odoo has one we have a template in, else the agent's, else English."""
    known = languages(services.profile, kind)
    customer = (await services.odoo.customer_language(ticket)).replace("_", "-").split("-")[0].lower()
    if kind is not DraftKind.MANAGEMENT and customer in known:
        return customer
    agent = language_of(agent_locale)
    return agent if agent in known else ENGLISH


async def post(services: Services, draft_id: str, *, user: OdooUser, actor: str,
               edited: tuple[str, str] | None = None) -> Outcome:
    """Post the draft (or its edited `(subject, text)`: `EditedDraft`'s, an empty subject for the draft's own) once;
    an Outcome with a notice when it was not this click."""
    store = DraftStore(services.store)
    draft = await store.get(draft_id)
    if draft is None:
        raise Refused(tr(NOT_KNOWN))
    if draft.state is not DraftState.OPEN:
        return Outcome(draft, _why_not(draft))
    rules = draft.rules
    check_allowed(services.profile, services.odoo, user, rules.action)
    ticket = await services.odoo.ticket(draft.ticket_id)
    check(ticket, rules.move)
    if rules.stage is not None and ticket.stage_key is not rules.stage:
        check_required_fields(ticket, rules.move, services.odoo.required_fields,
                              time_field=services.odoo.timesheet_field, links=services.odoo.links)
    subject, text = (edited[0] or draft.subject, edited[1]) if edited is not None else (draft.subject, draft.text)
    if blanks := left_unfilled(draft.text, text):
        raise Refused(tr("The draft still has {parts} to fill in: write them in the Edit box, then post the edited "
                         "text.", parts=literal(", ".join(blanks))))
    now = services.clock()
    if not await store.claim(draft.id, actor, now, subject, text):
        current = await store.get(draft.id)
        if current is None:
            raise Refused(tr(NOT_KNOWN))
        return Outcome(current, _why_not(current))
    try:
        ticket = await _deliver(services, replace(draft, subject=subject, text=text), ticket, actor)
    except BaseException:
        await store.release(draft.id)
        raise
    await store.posted(draft.id)
    if rules.recipient is Recipient.CUSTOMER:
        await Reminders(services.timers, services.profile, services.clock).sync(ticket, customer_updated=True)
    logger.info("draft %s (%s) of ticket %s posted", draft.id[:6], draft.kind, draft.ticket_id)
    return Outcome(replace(draft, subject=subject, text=text, state=DraftState.POSTED, posted_by=actor,
                           posted_at=now))


async def _deliver(services: Services, draft: Draft, ticket: Ticket, actor: str) -> Ticket:
    rules = draft.rules
    if rules.recipient is Recipient.MANAGEMENT:
        if not await services.post_to_channel(MANAGEMENT_CHANNEL, ForManagement(draft, by=actor)):
            raise Refused(tr("No channel is registered for management. In the management channel, type "
                             "`@Bot /ticket channel management`, then post the draft again."))
        await services.odoo.note(ticket, f"{NOTED_AS}:\n{draft.subject}\n\n{draft.text}".strip(), by=actor)
        return ticket
    resolves = rules.stage is Stage.RESOLVED  # the resolution, in the customer's language: marked as the step
    await services.odoo.tell_customer(ticket, draft.text, by=actor, subject=draft.subject,
                                      hidden=RESOLVED_STEP if resolves else "")
    if rules.stage is Stage.IN_PROGRESS and ticket.stage_key in (None, Stage.NEW):  # as `/ticket ack` does
        ticket = await services.odoo.move(ticket, Stage.IN_PROGRESS)
    elif resolves and ticket.stage_key is not Stage.RESOLVED:  # as `/ticket resolve` does
        ticket = await services.odoo.move(ticket, Stage.RESOLVED)
        await services.odoo.follow_up_in_odoo(ticket, now=services.clock())
    return ticket


def _why_not(draft: Draft) -> str:
    if draft.state is DraftState.POSTED:
        return tr("Already posted by {who}: it was sent once.", who=draft.posted_by)
    return tr("{who} is posting it right now.", who=draft.posted_by)
