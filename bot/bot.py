"""The turn pipeline: what every Teams turn goes through, in order (`build_router`), then the command's handler.

The turn: the tenant check, its correlation id in the logs, friendly errors, running each activity once (dedupe).
The command: what the turn asks for (the router's `resolve`: a card's data parsed into its button's model), who is
asking in Odoo (`identify`), an agent's 1:1 chat remembered for their reminders (`remember_chat`), the profile's
roles (`authorize`), the change kept in the outbox while Odoo is away (`keep_while_odoo_is_away`), and the handler
(`run_command`). A kept command is replayed (`TicketBot.replay`) through the same resolution, user and handler.
"""

from __future__ import annotations

import logging
import uuid

from redis.exceptions import RedisError

from bot.context import Ctx, Services
from bot.deliveries import Claim, Delivery
from bot.gitlab import GitLabError, explain
from bot.handlers import GROUPS
from bot.handlers.help import help_command
from bot.i18n import N_, speaking, tr
from bot.lifecycle import NotAllowed
from bot.logs import correlation
from bot.odoo.errors import OdooAccessDenied, OdooError, OdooUnavailable
from bot.odoo.gateway import TicketNotFound
from bot.odoo.idempotency import applying
from bot.parsing import UsageError
from bot.payloads import ClickRefused
from bot.people import UnknownUser, odoo_user, odoo_user_if_any
from bot.roles import check_allowed
from bot.router import Next, Router, as_replies
from bot.tenants import tenant_gate
from bot.turn import ConversationType, Incoming, Kind, Outcome, Reply, TeamsChannel
from bot.untrusted import cleaned
from bot.wording import literal
from cards.notices import problem_card, queued_card

logger = logging.getLogger(__name__)

WELCOME = N_("Hi! I keep your support tickets in Odoo moving. Type `/ticket new` followed by a title to log one, "
             "or `/ticket help` to see everything I do.")


def build_router() -> Router:
    router = Router()
    for group in GROUPS:
        router.include(group)
    router.include(help_command(lambda: list(router.commands.values())))
    router.use(tenant_gate)  # first: another organisation's turn is refused before anything reads it
    router.use(log_turn)
    router.use(friendly_errors)  # outside dedupe: Redis failing at the dedupe check gets a clear answer too
    router.use(dedupe)
    router.use(router.resolve)  # what the turn asks for, and with what: read once, here
    router.use(identify)
    router.use(remember_chat)
    router.use(authorize)
    router.use(keep_while_odoo_is_away)
    return router  # then the command's handler: run_command


class TicketBot:
    def __init__(self, services: Services, router: Router | None = None) -> None:
        self.services = services
        self.router = router or build_router()

    async def on_turn(self, incoming: Incoming, teams: TeamsChannel, *, claim: Claim | None = None) -> Outcome:
        """One Teams turn. `claim`: its activity is claimed already (a lapsed turn a sweeper took over,
        bot.lapsed), so it runs under that claim instead of claiming it again."""
        incoming = cleaned(incoming)  # untrusted: text and card data come from the client
        if incoming.kind is Kind.INSTALL:
            with speaking(incoming.locale):
                return Outcome(replies=(Reply(text=tr(WELCOME)),))
        if incoming.kind is Kind.OTHER:
            return Outcome()
        ctx = Ctx(incoming, teams, self.services, correlation_id=uuid.uuid4().hex[:12], claim=claim)
        with speaking(incoming.locale):
            replies = await self.router.dispatch(ctx, run_command)
        card = next((r.card for r in replies if r.card), None)
        if incoming.kind in (Kind.CARD_ACTION, Kind.MESSAGE_ACTION_OPEN):  # the answer replaces the card, or is the
            return Outcome(card=card)  # dialog the message action opens
        if incoming.kind is Kind.MESSAGE_ACTION:  # the dialog shows the answer; the conversation sees what was done
            return Outcome(card=card, replies=tuple(r for r in replies if not r.private))
        return Outcome(replies=tuple(replies))

    async def replay(self, incoming: Incoming, teams: TeamsChannel) -> tuple[list[Reply], bool]:
        """A kept command, run again (the outbox relay): its answer, and whether it was applied. It is resolved and
        its user found again; the other steps ran when it was kept. Raises OdooUnavailable when Odoo is still not
        answering."""
        ctx = Ctx(incoming, teams, self.services, correlation_id=uuid.uuid4().hex[:12],
                  again=True)  # its first attempt may have reached Odoo before the connection broke
        with speaking(incoming.locale), correlation(ctx.correlation_id):
            try:
                ctx.asked = self.router.asked(incoming)
                if ctx.asked is None:
                    return [], False
                ctx.user = await odoo_user(ctx)
                return await _apply(ctx), True
            except OdooUnavailable:
                raise
            except Exception as error:
                return problem_for(ctx, error), False


async def identify(ctx: Ctx, call_next: Next) -> list[Reply]:
    """Who is asking, as an Odoo user: a command that needs one is refused without (saying what to do); a read the
    profile keeps for some roles (summary) asks who it is, as who asks decides; the others do not ask (help, a
    team's answer on an escalation card)."""
    if ctx.command.needs_user:
        ctx.user = await odoo_user(ctx)
    elif ctx.command.action is not None:
        ctx.user = await odoo_user_if_any(ctx)
    return await call_next(ctx)


async def remember_chat(ctx: Ctx, call_next: Next) -> list[Reply]:
    """An agent's 1:1 chat with the bot is where their reminders go: remembered, with their timezone and language,
    whenever they use a command there that needs their Odoo user."""
    if ctx.command.needs_user and ctx.user is not None and ctx.incoming.conversation.type is ConversationType.PERSONAL:
        await ctx.services.references.remember_personal(ctx.user.id, ctx.incoming.reference, ctx.incoming.timezone,
                                                        ctx.incoming.locale)
    return await call_next(ctx)


async def authorize(ctx: Ctx, call_next: Next) -> list[Reply]:
    """The process profile's roles: a command it keeps for some roles is refused to others, saying whom to ask."""
    check_allowed(ctx.profile, ctx.odoo, ctx.user, ctx.command.action)
    return await call_next(ctx)


async def keep_while_odoo_is_away(ctx: Ctx, call_next: Next) -> list[Reply]:
    """Nothing typed is lost (bot.outbox): a change typed by a known user while Odoo is not answering is kept and
    applied when it is back, and one typed while earlier ones are still kept waits behind them, so they land in
    the order typed. A read is not kept (it fails fast), nor a card's click (its card is answered now)."""
    if not (ctx.command.changes_with(ctx.request) and ctx.user is not None
            and ctx.incoming.kind in (Kind.MESSAGE, Kind.MESSAGE_ACTION)):
        return await call_next(ctx)
    if await ctx.services.outbox.waiting():
        return await _keep(ctx)
    try:
        return await call_next(ctx)
    except OdooUnavailable:
        return await _keep(ctx)


async def run_command(ctx: Ctx) -> list[Reply]:
    """The last step: the command's handler; a usage error from it is shown with the command's usage."""
    try:
        return await _apply(ctx)
    except UsageError as error:
        raise UsageError(f"{error}\n\n" + tr("Usage: `{usage}`", usage=ctx.command.usage)) from None


async def _apply(ctx: Ctx) -> list[Reply]:
    """Run the command's handler, its writes carrying the activity's key (bot.odoo.idempotency)."""
    with applying(ctx.incoming.dedupe_key, again=ctx.again):
        return as_replies(await ctx.command.handler(ctx, ctx.request))


async def _keep(ctx: Ctx) -> list[Reply]:
    assert ctx.user is not None
    outbox = ctx.services.outbox
    await outbox.keep(ctx.incoming, ctx.user.id)
    typed = ctx.incoming.text.strip() or tr("(a form)")
    logger.warning("turn %s: Odoo unavailable, command kept in the outbox", ctx.correlation_id)
    return [Reply(card=queued_card(typed, waiting=await outbox.waiting() - 1), private=True)]


async def log_turn(ctx: Ctx, call_next: Next) -> list[Reply]:
    """Every line logged from here to the end of the turn carries its correlation id (bot.logs)."""
    with correlation(ctx.correlation_id):
        logger.info("turn %s: %s in %s conversation", ctx.correlation_id, ctx.incoming.kind,
                    ctx.incoming.conversation.type)
        return await call_next(ctx)


async def dedupe(ctx: Ctx, call_next: Next) -> list[Reply]:
    """Teams re-sends an activity when the bot is slow, or when the replica running it died: each activity
    runs once to the end (bot.deliveries); after a crash it runs again (re-delivered, or taken over by a
    sweeper: `ctx.claim`), finding in Odoo what landed. A card action is answered again instead (its answer
    is the card, and card answers are idempotent)."""
    incoming = ctx.incoming
    if incoming.kind is Kind.CARD_ACTION or not incoming.activity_id:
        return await call_next(ctx)
    deliveries = ctx.services.deliveries
    claim = ctx.claim or await deliveries.claim(incoming)
    if not claim.delivery.runs:
        logger.info("turn %s: delivery of %s ignored (%s)", ctx.correlation_id, incoming.activity_id, claim.delivery)
        return []
    if claim.delivery is Delivery.AGAIN:
        logger.warning("turn %s: %s runs again (the process running it stopped)", ctx.correlation_id,
                       incoming.activity_id)
        ctx.again = True
    async with deliveries.running(claim):
        return await call_next(ctx)


def _problem(message: str, hint: str = "", reference: str = "") -> list[Reply]:
    return [Reply(card=problem_card(message, hint=hint, reference=reference), private=True)]


async def friendly_errors(ctx: Ctx, call_next: Next) -> list[Reply]:
    """Every failure becomes a clear answer; nothing was changed unless the answer says so."""
    try:
        return await call_next(ctx)
    except Exception as error:
        return problem_for(ctx, error)


def problem_for(ctx: Ctx, error: Exception) -> list[Reply]:
    """The answer to a command that failed: what was wrong and what to do."""
    if isinstance(error, UsageError):
        message, _, usage = str(error).partition("\n\n")
        return _problem(message, usage)
    if isinstance(error, ClickRefused):  # a card's button or form the bot does not act on
        return _problem(str(error), error.hint)
    if isinstance(error, NotAllowed | TicketNotFound | UnknownUser | LookupError):
        return _problem(str(error))
    if isinstance(error, GitLabError):  # raised before anything is written in Odoo
        logger.info("turn %s: %s", ctx.correlation_id, error)
        return _problem(*explain(error))
    if isinstance(error, OdooUnavailable):  # a read, or a change from someone Odoo could not name yet
        logger.warning("turn %s: Odoo unavailable", ctx.correlation_id)
        typed = ctx.incoming.text.strip()
        return _problem(tr("Odoo is not answering right now, so nothing was changed."),
                        tr("Please try again in a minute. You wrote: `{typed}`", typed=literal(typed)) if typed else
                        tr("Please try again in a minute."), ctx.correlation_id)
    if isinstance(error, RedisError):  # restarting or cut off: the first thing a turn does is in Redis
        logger.warning("turn %s: Redis unavailable (%s)", ctx.correlation_id, type(error).__name__)
        return _problem(tr("My storage (Redis) is not answering right now, so I could not do this."),
                        tr("Please try again in a minute."), ctx.correlation_id)
    if isinstance(error, OdooAccessDenied):
        return _problem(tr("Odoo refused this: {error}", error=literal(str(error))),
                        tr("The bot's Odoo user may lack a permission."), ctx.correlation_id)
    if isinstance(error, OdooError):
        return _problem(tr("Odoo did not accept this: {error}", error=error), reference=ctx.correlation_id)
    logger.error("turn %s failed", ctx.correlation_id, exc_info=error)
    return _problem(tr("Sorry, something went wrong on my side."),
                    tr("If it happens again, give this reference to your admin."), ctx.correlation_id)
