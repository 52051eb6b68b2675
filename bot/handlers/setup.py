"""Where the bot posts on its own (channels), and snoozing reminders."""

from __future__ import annotations

import logging
import re
from datetime import datetime, timedelta
from typing import Any

from bot.chatter_words import SNOOZED
from bot.context import Ctx, Request
from bot.handlers.common import load, reminders, ticket_reply
from bot.i18n import tr
from bot.lifecycle import Move
from bot.parsing import UsageError
from bot.process import Action, format_duration, parse_duration
from bot.reminders.policy import REMINDER_NAMES
from bot.router import CommandGroup
from bot.turn import ConversationType, Reply, root_conversation_id
from bot.wording import literal, when

logger = logging.getLogger(__name__)
commands = CommandGroup()

_CHANNEL_NAME = re.compile(r"^[a-z][a-z0-9-]{0,29}$")
MAX_SNOOZE = timedelta(hours=24)


def channel_root(reference: dict[str, Any]) -> dict[str, Any]:
    """A reference to the channel itself (posts become new threads), not to the thread it was typed in."""
    conversation = dict(reference.get("conversation") or {})
    conversation["id"] = root_conversation_id(str(conversation.get("id", "")))
    return {**reference, "conversation": conversation, "activityId": None}


@commands.command("channel", "/ticket channel <dev|devops|product|content-ops|support|management|<name>>",
                  aliases=("register",), changes=False, action=Action.REGISTER_CHANNEL)
async def channel(ctx: Ctx, req: Request) -> Reply:
    """Make this Teams channel the one where I post for a team (type it in that channel, mentioning me).

    `support` gets reminders nobody picked up, `management` the business summaries, and the
    escalation teams their escalation cards. Registering again moves it here. Leads and managers
    register channels (the process profile's `register_channel`); `/ticket channels` says who
    registered each and when."""
    if ctx.incoming.conversation.type is not ConversationType.CHANNEL:
        raise UsageError(tr("Type this in the Teams channel you want to register, @mentioning me."))
    name = (req.args.words[0].lower() if req.args.words else "")
    if not _CHANNEL_NAME.match(name):
        known = ", ".join(["support", "management", *ctx.profile.escalation_teams])
        raise UsageError(tr("Name the team this channel is for, e.g. `/ticket channel support`. Known teams: {known}.",
                            known=known))
    assert ctx.user is not None  # needs_user
    references = ctx.services.references
    was = await references.channel(name)
    reference = channel_root(ctx.incoming.reference)
    await references.register_channel(name, reference, by=ctx.user.name, at=ctx.now().isoformat())
    logger.warning("the %s channel was %s by Odoo user %d: now %r (was %r)", name,
                   "moved" if was is not None else "registered", ctx.user.id, _channel_label(reference)[:200],
                   _channel_label(was)[:200] if was is not None else None)
    return Reply(text=tr("This channel is now the **{name}** channel: I will post here for that team.", name=name))


@commands.command("channels", "/ticket channels", changes=False)
async def channels(ctx: Ctx, req: Request) -> Reply:
    """List the channels registered for each team."""
    registered = await ctx.services.references.channels()
    if not registered:
        return Reply(text=tr("No channel is registered yet. In a channel, type `@Bot /ticket channel support`."))
    registrations = await ctx.services.references.registrations()
    lines = [f"- **{name}**: {literal(_channel_label(ref))}{_registered_by(registrations.get(name), ctx)}"
             for name, ref in sorted(registered.items())]
    return Reply(text=tr("Registered channels:") + "\n" + "\n".join(lines))


def _registered_by(registration: dict[str, str] | None, ctx: Ctx) -> str:
    """` (registered by Lan, Thu 30 Jan 09:00)`; "" for a channel registered before the bot recorded who did."""
    if not registration or not registration.get("by"):
        return ""
    try:
        at = when(datetime.fromisoformat(registration.get("at", "")), ctx.tz)
    except ValueError:
        at = ""
    return " " + tr("(registered by {who}, {when})", who=literal(registration["by"]), when=at or tr("unknown"))


def _channel_label(reference: dict[str, Any]) -> str:
    """A registered channel as Teams names it (a team owner chose the name: shown literally), else its id."""
    conversation = reference.get("conversation") or {}
    return str(conversation.get("name") or conversation.get("id") or "")


@commands.command("snooze", "/ticket snooze <id> [15m]")
async def snooze(ctx: Ctx, req: Request) -> Reply:
    """Push this ticket's reminders back a little (15 minutes unless you say, at most 24h); it is logged."""
    ticket = await load(ctx, req, Move.EDIT)
    raw = req.args.words[1] if len(req.args.words) > 1 else "15m"
    try:
        delay = parse_duration(raw)
    except ValueError:
        raise UsageError(tr("`{raw}` is not a duration. Write `15m`, `1h` or `2h30m`.", raw=literal(raw))) from None
    if not timedelta(0) < delay <= MAX_SNOOZE:
        raise UsageError(tr("Snooze for at most {most}.", most=format_duration(MAX_SNOOZE)))
    until = ctx.now() + delay
    moved = await reminders(ctx).snooze(ticket.id, until)
    await ctx.odoo.note(ticket, f"{SNOOZED} for {format_duration(delay)}.", by=ctx.actor)
    names = [REMINDER_NAMES[kind] for kind in moved]
    what = ", ".join(tr(name) for name in names) or tr("nothing was due before then")
    return await ticket_reply(ctx, ticket, tr("Snoozed {delay} ({what}).", delay=format_duration(delay), what=what))
