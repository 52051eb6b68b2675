"""What management sees, on demand: the digest of the desk, or one ticket's incident card."""

from __future__ import annotations

from bot.context import Ctx, Request
from bot.i18n import tr
from bot.management import service
from bot.management.digest import WINDOWS, window_for
from bot.parsing import UsageError, ticket_ref
from bot.process import Action
from bot.router import CommandGroup
from bot.turn import Reply
from cards.management import digest_card, incident_card

commands = CommandGroup()


def _usage() -> UsageError:
    return UsageError(tr("I can summarise `today`, the last `week`, or one ticket: `/ticket summary 42`."))


@commands.command("summary", "/ticket summary [today|week|<id>]", aliases=("digest",), needs_user=False,
                  changes=False, action=Action.READ_SUMMARY)
async def summary(ctx: Ctx, req: Request) -> Reply:
    """Management's view, in business words with personal data masked: the digest of the desk for `today`
    (the default) or the last `week`, or one ticket's incident card (`/ticket summary 42`).

    The digest: open tickets by class of service and the users affected, what was logged, fixed and
    closed, the service levels missed, the escalations no team has answered, and the oldest open
    tickets. The incident card is the one the management channel gets for an Expedite ticket. Agents,
    leads and managers may ask (the process profile's `read_summary`); the answer comes where you typed it."""
    words = req.args.words
    if len(words) > 1:
        raise _usage()
    wanted = words[0].lower() if words else "today"
    if wanted in WINDOWS:
        digest = await service.desk_digest(ctx.services, window_for(wanted, ctx.now(), ctx.tz))
        return Reply(card=digest_card(digest, tz=ctx.tz, now=ctx.now()))
    try:
        ref = ticket_ref(wanted)
    except UsageError:
        raise _usage() from None
    incident = await service.summary_of(ctx.services, ref)
    return Reply(card=incident_card(incident, tz=ctx.tz, now=ctx.now()))
