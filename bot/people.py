"""Who a Teams user is in Odoo: found by the email address Teams' roster gives for them, never by a display name,
and remembered briefly by their Azure AD object id.

Anyone can be called anything in Teams: a display name says nothing about who someone is. The roster (the Bot
Connector's member lookup) is asked for the sender's address; when it cannot be read (a 404 from the connector,
Entra unreachable) the sender is not confirmed (`Unconfirmed`: "I can't confirm who you are right now", nothing
changes), except where the services' newcomers policy stands in for the roster (the demo: an address derived from
the AAD object id, bot.demo). The Odoo user found is cached by the sender's AAD object id for USER_TTL_SECONDS
(bot.store): a change in Odoo or in the roster is seen within minutes.

A Teams user Odoo has no user for is offered to the services' `newcomers` (bot.context.Newcomers): in production
and --dev nobody is admitted and they are told what to do; the demo makes them an agent (bot.demo).
"""

from __future__ import annotations

import logging

from bot.context import Ctx
from bot.i18n import tr
from bot.tickets import OdooUser
from bot.turn import RosterUnavailable
from bot.wording import literal

logger = logging.getLogger(__name__)


class UnknownUser(Exception):
    """The Teams user has no Odoo user (or cannot be confirmed); the message says what to do."""


class Unconfirmed(UnknownUser):
    """Teams' roster could not be read: who the sender is cannot be confirmed right now; nothing is done."""


async def odoo_user(ctx: Ctx) -> OdooUser:
    """The Odoo user behind the turn's sender; raises UnknownUser, saying what to do, when there is none, and
    Unconfirmed when Teams cannot say who the sender is."""
    user, address = await _found_or_admitted(ctx)
    if user is None:
        raise UnknownUser(tr(
            "I can't find an Odoo user for you ({who}). Ask your Odoo administrator to give your Odoo user the same "
            "email address as your Teams account.", who=literal(address or ctx.incoming.sender.name) or tr("unknown")))
    return user


async def odoo_user_if_any(ctx: Ctx) -> OdooUser | None:
    """The Odoo user behind the turn's sender (the newcomers' policy may make one), None if there is none;
    Unconfirmed when Teams cannot say who the sender is."""
    user, _ = await _found_or_admitted(ctx)
    return user


async def odoo_user_id(ctx: Ctx) -> int | None:
    """The Odoo user id behind the turn's sender, None if they have none (an escalation team's member may not);
    Unconfirmed when Teams cannot say who the sender is."""
    user, _ = await _found(ctx)
    return user.id if user is not None else None


async def _found_or_admitted(ctx: Ctx) -> tuple[OdooUser | None, str | None]:
    user, address = await _found(ctx)
    if user is None:
        user = await _admitted(ctx, address)
    return user, address


async def _found(ctx: Ctx) -> tuple[OdooUser | None, str | None]:
    """The sender's Odoo user if any (remembered for a few minutes), and the email address Teams gave for them."""
    sender = ctx.incoming.sender
    key = sender.aad_object_id
    cached = await ctx.services.store.odoo_user_id(key) if key else None
    if cached is not None:
        user = ctx.odoo.known_user(cached)
        if user is not None:
            return user, None
    address = await _address(ctx)
    user = ctx.odoo.user_by_email(address) if address else None
    if user is None and address:
        await ctx.odoo.refresh_users()
        user = ctx.odoo.user_by_email(address)
    if user is not None and key:
        await ctx.services.store.remember_odoo_user(key, user.id)
    return user, address


async def _address(ctx: Ctx) -> str | None:
    """The sender's email address in Teams' roster (None: the roster has none for them); where the roster cannot be
    read, the newcomers' stand-in for it (the demo's), else Unconfirmed."""
    sender = ctx.incoming.sender
    try:
        return await ctx.teams.member_email(sender)
    except RosterUnavailable:
        stand_in = ctx.services.newcomers.stand_in(sender)
        if stand_in is None:
            logger.warning("turn %s: Teams' roster could not be read: the sender is not confirmed, nothing is done",
                           ctx.correlation_id)
            raise Unconfirmed(tr("I can't confirm who you are right now: Teams did not tell me, so nothing was "
                                 "changed. Please try again in a minute.")) from None
        return stand_in


async def _admitted(ctx: Ctx, address: str | None) -> OdooUser | None:
    """The Odoo user the newcomers' policy made for the sender (remembered for a few minutes), if it made one."""
    made = await ctx.services.newcomers.admit(ctx.incoming.sender, address)
    if not made:
        return None
    await ctx.odoo.refresh_users()
    user = ctx.odoo.user_by_email(made)
    if user is not None:
        logger.info("a newcomer from Teams was given the Odoo user %d", user.id)
        if ctx.incoming.sender.aad_object_id:
            await ctx.services.store.remember_odoo_user(ctx.incoming.sender.aad_object_id, user.id)
    return user
