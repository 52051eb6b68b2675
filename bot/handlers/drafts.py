"""Steps 2, 5 and 6 in writing: e-mail drafts from the team's templates, posted from their card."""

from __future__ import annotations

from bot.context import Ctx, Request
from bot.drafts import service
from bot.drafts.model import NOTHING_POSTED, DraftAction, DraftClick, EditedDraft
from bot.drafts.templates import TemplateProblem
from bot.i18n import tr
from bot.parsing import UsageError, ticket_ref
from bot.router import CommandGroup
from bot.turn import Reply
from cards.drafts import draft_card
from cards.notices import problem_card

commands = CommandGroup()
MAX_ADDED = 2_000  # characters added to a draft: the card shows the draft twice (as it is, and in its Edit box), and
# Teams refuses a message past 28 KB
USAGE = "/ticket email <id> <ack|update|resolution|escalation|management> [lang:en|vi] [text to add]"


@commands.command("email", USAGE, options=("lang",), aliases=("draft",), changes=False)
async def email(ctx: Ctx, req: Request) -> Reply:
    """Draft an e-mail from the team's templates: `ack`, `update`, `resolution` or `escalation` for the
    customer, `management` for the managers.

    The draft is filled from the ticket, its notes and your name, in the customer's language (or `lang:en`,
    `lang:vi`); text after the kind is added to it, e.g. a workaround. Its card posts it to the customer in
    Odoo, as it is or after you edit it."""
    words = req.args.words
    ref = ticket_ref(words[0] if words else None)
    kind = service.draft_kind(words[1] if len(words) > 1 else "")
    language = service.checked_language(ctx.services, kind, req.args.options.get("lang", ""))
    message = "\n".join(part for part in (req.args.text(2), req.body) if part)
    if len(message) > MAX_ADDED:
        raise UsageError(tr("Keep the text to add under {most} characters; put the details in a note, or edit the "
                            "draft on its card.", most=f"{MAX_ADDED:,}"))
    try:
        draft = await service.make(ctx.services, ref, kind, language=language, agent=ctx.actor,
                                   agent_locale=ctx.incoming.locale, tz=ctx.tz, message=message)
    except TemplateProblem as problem:
        return Reply(card=problem_card(str(problem), hint=tr("Fix the template, then ask for the draft again. "
                                                             "Nothing was posted.")))
    return Reply(card=draft_card(draft, tz=ctx.tz, now=ctx.now()))


@commands.card_action(DraftAction.POST, needs_user=True, payload=DraftClick)
async def post(ctx: Ctx, req: Request[DraftClick]) -> Reply:
    """Post a draft from its card, as it is shown."""
    return await _posted(ctx, req.payload.draft)


@commands.card_action(DraftAction.POST_EDITED, needs_user=True, payload=EditedDraft)
async def post_edited(ctx: Ctx, req: Request[EditedDraft]) -> Reply:
    """Post a draft from its card, as edited in its Edit box."""
    return await _posted(ctx, req.payload.draft, edited=(req.payload.subject, req.payload.text))


async def _posted(ctx: Ctx, draft_id: str, *, edited: tuple[str, str] | None = None) -> Reply:
    assert ctx.user is not None  # needs_user: the pipeline found the clicking person's Odoo user
    try:
        outcome = await service.post(ctx.services, draft_id, user=ctx.user, actor=ctx.actor, edited=edited)
    except service.Refused as refusal:
        return Reply(card=problem_card(str(refusal), hint=tr(NOTHING_POSTED)))
    return Reply(card=draft_card(outcome.draft, tz=ctx.tz, now=ctx.now(), notice=outcome.notice))
