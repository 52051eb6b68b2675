"""Who a Teams user is in Odoo: cached in Redis, found by the email address Teams knows for them.

A Teams user Odoo has no user for is offered to the services' `newcomers` (bot.context.Newcomers): in production
and --dev nobody is admitted and they are told what to do; the demo makes them an agent (bot.demo).
"""

from __future__ import annotations

import logging

from bot.context import Ctx
from bot.i18n import tr
from bot.tickets import OdooUser
from cards.elements import literal

logger = logging.getLogger(__name__)


class UnknownUser(Exception):
    """The Teams user has no Odoo user; the message says what to do."""


async def odoo_user(ctx: Ctx) -> OdooUser:
    """The Odoo user behind the turn's sender; raises UnknownUser, saying what to do, when there is none."""
    user, address = await _found(ctx)
    if user is None:
        user = await _admitted(ctx, address)
    if user is None:
        raise UnknownUser(tr(
            "I can't find an Odoo user for you ({who}). Ask your Odoo administrator to give your Odoo user the same "
            "email address as your Teams account.", who=literal(address or ctx.incoming.sender.name) or tr("unknown")))
    return user


async def odoo_user_id(ctx: Ctx) -> int | None:
    """The Odoo user id behind the turn's sender, None if they have none (an escalation team's member may not)."""
    user, _ = await _found(ctx)
    return user.id if user is not None else None


async def _found(ctx: Ctx) -> tuple[OdooUser | None, str | None]:
    """The sender's Odoo user if any (remembered for next time), and the email address Teams gave for them."""
    sender = ctx.incoming.sender
    cached = await ctx.services.store.odoo_user_id(sender.id)
    if cached is not None:
        user = ctx.odoo.known_user(cached)
        if user is not None:
            return user, None
    address = await ctx.teams.member_email(sender)
    user = ctx.odoo.user_by_email(address) if address else None
    if user is None and address:
        await ctx.odoo.refresh_users()
        user = ctx.odoo.user_by_email(address)
    if user is None and not address:
        user = ctx.odoo.user_by_name(sender.name)  # Teams gave no email (e.g. a local test client)
    if user is not None:
        await ctx.services.store.remember_odoo_user(sender.id, user.id)
    return user, address


async def _admitted(ctx: Ctx, address: str | None) -> OdooUser | None:
    """The Odoo user the newcomers' policy made for the sender (remembered for next time), if it made one."""
    made = await ctx.services.newcomers.admit(ctx.incoming.sender, address)
    if not made:
        return None
    await ctx.odoo.refresh_users()
    user = ctx.odoo.user_by_email(made)
    if user is not None:
        logger.info("a newcomer from Teams was given the Odoo user %d", user.id)
        await ctx.services.store.remember_odoo_user(ctx.incoming.sender.id, user.id)
    return user
