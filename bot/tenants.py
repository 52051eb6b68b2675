"""Which Microsoft 365 tenants the bot serves: checked once per turn, at the edge (a middleware of the turn pipeline).

A valid Bot Framework token says the activity came through the Bot Framework, not from whose organisation: any Teams
user of any tenant can message a bot they can reach. Only the tenants the settings name may act
(`Settings.tenants`: ALLOWED_TENANT_IDS, else MICROSOFT_APP_TENANT_ID); a message, form or card click from any other
tenant is refused before anything reads it, with one log line, and nothing changes. Teams names the tenant twice
(`channelData.tenant.id` and `conversation.tenantId`): if the two disagree the activity is refused too. With no
tenant set (--dev and --demo only: production refuses to start) every tenant is served.
"""

from __future__ import annotations

import logging

from bot.context import Ctx
from bot.i18n import tr
from bot.posts import Problem
from bot.router import Next
from bot.turn import Conversation, Reply

logger = logging.getLogger(__name__)


def tenant_of(conversation: Conversation) -> str | None:
    """The tenant the activity comes from (lower case; "" when Teams named none), None when its two names for it
    disagree."""
    named = {tenant.strip().lower() for tenant in (conversation.tenant_id, conversation.named_tenant_id)
             if tenant.strip()}
    if len(named) > 1:
        return None
    return named.pop() if named else ""


def admitted(allowed: frozenset[str], conversation: Conversation) -> bool:
    """Whether an activity in `conversation` may act: its tenant is one of `allowed` (empty: any tenant)."""
    tenant = tenant_of(conversation)
    return tenant is not None and (not allowed or tenant in allowed)


async def tenant_gate(ctx: Ctx, call_next: Next) -> list[Reply]:
    """Refuse, with one log line and no effect, whatever comes from a tenant the bot does not serve."""
    conversation = ctx.incoming.conversation
    if admitted(ctx.services.tenants, conversation):
        return await call_next(ctx)
    logger.warning("turn %s: refused a %s from tenant %r (conversation.tenantId %r): not a tenant this bot serves "
                   "(ALLOWED_TENANT_IDS / MICROSOFT_APP_TENANT_ID)", ctx.correlation_id, ctx.incoming.kind,
                   conversation.tenant_id[:100], conversation.named_tenant_id[:100])
    return [ctx.services.draw(Problem(tr("This bot works for another organisation, so nothing was done."),
                                      hint=tr("If your organisation should use it, ask your IT administrator.")))]
