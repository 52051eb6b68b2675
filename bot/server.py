"""The aiohttp application: `create_app(settings)` with every resource in `cleanup_ctx`.

Routes: POST /api/messages (Teams), GET /healthz (process up, background loops running), GET /readyz (Redis and Odoo).
In dev/demo without ODOO_URL, the built-in sandbox Odoo (odoo_double, the same HTTP double the tests use)
runs inside the process on a loopback port.
"""

from __future__ import annotations

import asyncio
import io
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

import aiohttp
from aiohttp import web
from redis.asyncio import Redis
from redis.exceptions import AuthenticationError, RedisClusterException, RedisError, ResponseError

from bot.adapter import TeamsAdapter, give_bot_connector_threads
from bot.bot import TicketBot
from bot.channels import MANAGEMENT_CHANNEL, SUPPORT_CHANNEL
from bot.context import Newcomers, NoNewcomers, Services
from bot.deadlines import Deadlines
from bot.deliveries import Deliveries
from bot.demo import SandboxAgents, demo_profile
from bot.demo.history import seed_history
from bot.demo.seed import fits_the_desk, seed_people, seed_scenarios, seed_tickets
from bot.escalation import service as escalation
from bot.gitlab import GitLab
from bot.lapsed import LapsedTurns
from bot.management import service as management
from bot.notify import Outbound, TeamsBudget
from bot.odoo.errors import OdooError, OdooUnavailable
from bot.odoo.gateway import OdooGateway
from bot.odoo.setup import setup_odoo
from bot.odoo.transport import OdooCredentials, make_transport
from bot.outbox import Outbox, OutboxRelay
from bot.process import ProcessProfile, ProfileError, load_profile
from bot.reminders import nags
from bot.reminders.poller import OdooPoller, rebuild_reminders
from bot.rounds import UNHEALTHY_AFTER, failed_in_a_row
from bot.settings import Mode, Settings, SettingsError, shown_url
from bot.store import References, Store, connect_redis
from bot.timers import TimerEngine, TimerKinds, TimerWorker
from cards.posts import render
from odoo_double import OdooSandbox, create_sandbox_app

logger = logging.getLogger(__name__)

Clock = Callable[[], datetime]
LOOPBACK = ("127.0.0.1", "::1", "localhost")


@dataclass
class Runtime:
    """What the running app holds; built in `cleanup_ctx`, torn down in reverse."""

    settings: Settings
    services: Services
    bot: TicketBot
    adapter: TeamsAdapter
    odoo_url: str
    worker: TimerWorker
    poller: OdooPoller
    relay: OutboxRelay
    sweeper: LapsedTurns
    deadlines: Deadlines  # the turns answered past their deadline, still running
    sandbox: OdooSandbox | None = None  # the built-in Odoo double, when it is the bot's Odoo (no ODOO_URL)
    loops: list[asyncio.Task[None]] = field(default_factory=list)  # the background loops (`_background`)


RUNTIME = web.AppKey("runtime", Runtime)


def _clock() -> datetime:
    return datetime.now(UTC)


DEMO_SERIES = "19.0"  # the built-in sandbox Odoo (demo, or no ODOO_URL) speaks Odoo 19


async def _start_sandbox(settings: Settings, profile: ProcessProfile, clock: Clock
                         ) -> tuple[web.AppRunner, str, OdooSandbox]:
    """The built-in Odoo double, seeded with the demo desk for the process profile: the MindX desk (with four weeks
    of history) or the Odoo PS project as they are; another helpdesk profile (TMF's) gets the same people, its own
    stages made by `setup-odoo --apply` as an administrator would, then the scenarios' tickets in them."""
    flavour: Literal["project", "helpdesk_mgmt"] = "project" if profile.model == "project.task" else "helpdesk_mgmt"
    sandbox = OdooSandbox(flavour=flavour, db=settings.odoo.db, login=settings.odoo.login,
                          password="sandbox", api_key=settings.odoo.api_key, clock=clock, series=DEMO_SERIES)
    own_desk = fits_the_desk(sandbox, profile)
    if own_desk:
        seed_scenarios(sandbox)
    else:
        seed_people(sandbox)
    if flavour == "helpdesk_mgmt" and own_desk:
        seed_history(sandbox)  # four weeks of closed tickets: `/ticket trend` has something to show
    runner = web.AppRunner(create_sandbox_app(sandbox), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    url = f"http://127.0.0.1:{port}"
    if not own_desk:
        said = io.StringIO()
        if await setup_odoo(replace(settings.odoo, url=url), profile, apply=True, out=said) != 0:
            raise SettingsError(f"PROCESS_PROFILE: the demo's Odoo could not be set up for the '{profile.name}' "
                                f"profile:\n{said.getvalue()}")
        seed_tickets(sandbox, profile)
    logger.warning("using the built-in SANDBOX Odoo at %s (the six MindX scenarios%s)", url,
                   " and four weeks of history" if flavour == "helpdesk_mgmt" and own_desk else
                   f", in the '{profile.name}' profile's stages" if not own_desk else "")
    return runner, url, sandbox


def _newcomers(settings: Settings, sandbox: OdooSandbox | None) -> Newcomers:
    """Who may use the bot without an Odoo user: in the demo, anybody (made an agent of its sandbox Odoo); otherwise
    nobody (told to ask their Odoo administrator)."""
    if settings.mode is Mode.DEMO and sandbox is not None:
        return SandboxAgents(sandbox)
    return NoNewcomers()


@asynccontextmanager
async def _background(runtime: Runtime, *, enabled: bool) -> AsyncIterator[None]:
    """The timer worker, the Odoo poller, the outbox relay and the lapsed turns' sweeper, running beside the web
    server until shutdown."""
    stop = asyncio.Event()
    runtime.loops = [asyncio.create_task(runtime.worker.run(stop), name="timer-worker"),
                     asyncio.create_task(runtime.poller.run(stop), name="odoo-poller"),
                     asyncio.create_task(runtime.relay.run(stop), name="outbox-relay"),
                     asyncio.create_task(runtime.sweeper.run(stop), name="lapsed-turns")] if enabled else []
    try:
        yield
    finally:
        stop.set()
        await asyncio.gather(*runtime.loops, return_exceptions=True)


# Every kind of timer, handled by the feature that schedules it: escalations pass on, management's go to the
# management channel (the digest, a Priority ticket open too long), reminders nag.
TIMERS = TimerKinds[Services](escalation.timers, management.timers, nags.timers)


async def rebuild(services: Services) -> None:
    """What Redis lost (a flush, a restart without persistence) or never had (a first deployment), from Odoo and the
    profile: every open ticket's reminders and waiting escalations, and management's digest timer. Every replica at
    start-up (what is pending is kept, not doubled), and the Odoo poller when it finds Redis lost them."""
    await rebuild_reminders(services)
    await management.ensure_digest(services)


class CannotStart(Exception):
    """Redis or Odoo did not answer at start-up, or refused the bot: one line for each, naming the setting to
    check (app.py prints them, without a traceback)."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


async def _reach(settings: Settings, redis: Redis, connecting: Awaitable[OdooGateway]) -> OdooGateway:
    """Redis and Odoo reached side by side, so that a start-up where both are wrong names both at once."""
    pinged, gateway = await asyncio.gather(redis.ping(), connecting, return_exceptions=True)
    problems = []
    if isinstance(pinged, RedisError | OSError | RedisClusterException):  # the last: no node of a cluster answered
        problems.append(_redis_problem(settings.redis_url or "", pinged))
    elif isinstance(pinged, BaseException):
        raise pinged
    if isinstance(gateway, OdooUnavailable) and settings.odoo.url is not None:
        problems.append(odoo_unreachable(gateway))
    elif isinstance(gateway, OdooError):
        problems.append(f"Odoo: {gateway}")
    elif isinstance(gateway, BaseException):
        raise gateway
    if problems:
        raise CannotStart(problems)
    assert isinstance(gateway, OdooGateway)  # every other outcome is a problem, or raised, above
    return gateway


def odoo_unreachable(error: OdooUnavailable) -> str:
    """The one line saying that ODOO_URL does not answer (at start-up, and in `setup-odoo`)."""
    return f"ODOO_URL: {error} (is Odoo running there, and is the address right?)"


def _redis_problem(url: str, error: RedisError | OSError | RedisClusterException) -> str:
    shown, said = shown_url(url), str(error).rstrip(".")
    if isinstance(error, AuthenticationError | ResponseError):  # WRONGPASS, NOAUTH...
        return f"REDIS_URL: Redis at {shown} refused the bot ({said}); check the user and password in the URL"
    return (f"REDIS_URL: no answer from Redis at {shown} ({said}); "
            "is redis-server running there, and is the address right?")


def teams_budget(settings: Settings) -> TeamsBudget:
    """Teams' limits as the settings give them (the documented ones by default)."""
    return TeamsBudget(per_conversation=((1_000, settings.conversation_per_second),
                                         (30_000, settings.conversation_per_30s),
                                         (3_600_000, settings.conversation_per_hour)),
                       per_tenant=((1_000, settings.tenant_per_second),))


def create_app(settings: Settings, *, clock: Clock = _clock) -> web.Application:
    app = web.Application()
    try:
        profile = load_profile(settings.process_profile)  # a bad profile stops start-up before anything runs
        if settings.mode is Mode.DEMO:
            profile = demo_profile(profile)
    except ProfileError as error:
        raise SettingsError(f"PROCESS_PROFILE: {error}") from None

    async def runtime(app: web.Application) -> AsyncIterator[None]:
        give_bot_connector_threads()
        redis = connect_redis(settings.redis_url, timeout=settings.redis_timeout,
                              max_connections=settings.redis_max_connections)
        sandbox_server: web.AppRunner | None = None
        sandbox: OdooSandbox | None = None
        odoo_url = settings.odoo.url
        if odoo_url is None:
            sandbox_server, odoo_url, sandbox = await _start_sandbox(settings, profile, clock)
        session = aiohttp.ClientSession()
        try:
            transport = make_transport(settings.odoo.protocol, session,  # type: ignore[arg-type]
                                       OdooCredentials(odoo_url, settings.odoo.db, settings.odoo.login,
                                                       settings.odoo.api_key), timeout=settings.odoo.timeout)
            gateway = await _reach(settings, redis, OdooGateway.connect(
                transport, profile, base_url=odoo_url, configured_profile=settings.odoo.profile))
            store = Store(redis)
            references = References(store)
            engine = TimerEngine(redis, prefix=store.key("timers"), lease=timedelta(seconds=settings.timer_lease))
            turns: list[Deadlines] = []  # the adapter is built first: the bot's services post through it
            adapter = TeamsAdapter(settings, lambda incoming, teams: turns[0].on_turn(incoming, teams))
            outbound = Outbound(adapter, redis, prefix=store.key("rate", ""),
                                budget=teams_budget(settings), default_tenant=settings.app_tenant_id)
            outbox = Outbox(redis, store.key("outbox", ""))
            services = Services(odoo=gateway, store=store, references=references, timers=engine, outbox=outbox,
                                # one hash slot: each claim's script touches the index of all leases too
                                deliveries=Deliveries(redis, store.tagged("delivery"), lease=settings.turn_lease),
                                outbound=outbound, profile=profile, clock=clock, timezone=ZoneInfo(settings.timezone),
                                render=render,
                                newcomers=_newcomers(settings, sandbox), tenants=settings.tenants,
                                followers={MANAGEMENT_CHANNEL: management.follow},
                                gitlab=GitLab(settings.gitlab) if settings.gitlab else None)
            bot = TicketBot(services)
            deadlines = Deadlines(bot.on_turn, outbound, draw=services.draw, message=settings.message_deadline,
                                  invoke=settings.invoke_deadline)
            turns.append(deadlines)
            relay = OutboxRelay(outbox, bot.replay, outbound, draw=services.draw,
                                remember_user=store.remember_odoo_user)
            worker = TimerWorker(engine, TIMERS.handler(services), clock=clock, gathering=TIMERS.gathering(services))
            poller = OdooPoller(services, rebuild=rebuild, interval=timedelta(seconds=settings.poll_interval))
            sweeper = LapsedTurns(services.deliveries, bot.on_turn, outbound, draw=services.draw,
                                  interval=settings.turn_lease / 2)
            runtime = Runtime(settings, services, bot, adapter, odoo_url, worker, poller, relay, sweeper, deadlines,
                              sandbox)
            app[RUNTIME] = runtime
            await rebuild(services)
            try:
                async with _background(runtime, enabled=settings.background_tasks):
                    yield
            finally:
                await deadlines.stop()  # turns past their deadline: claims given back, another replica finishes them
        finally:
            await session.close()
            await redis.aclose(close_connection_pool=True)  # the in-process stand-in keeps its pool otherwise
            if sandbox_server is not None:
                await sandbox_server.cleanup()

    app.cleanup_ctx.append(runtime)
    app.router.add_post("/api/messages", messages)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    if not settings.tenants:
        logger.warning("NO TENANT IS SET (%s mode): users of any Microsoft 365 tenant may use this bot; set "
                       "ALLOWED_TENANT_IDS or MICROSOFT_APP_TENANT_ID to serve yours only", settings.mode)
    if settings.mode is not Mode.PRODUCTION and not settings.auth_enabled:
        who = ("any local client" if settings.host in LOOPBACK
               else "anyone who can reach this machine" if settings.host in ("0.0.0.0", "::")
               else f"anyone who can reach {settings.host}")
        logger.warning("AUTHENTICATION IS OFF (%s mode): %s can talk to this bot on port %d", settings.mode, who,
                       settings.port)
    return app


async def messages(request: web.Request) -> web.Response:
    return await request.app[RUNTIME].adapter.handle(request)


async def healthz(request: web.Request) -> web.Response:
    """Alive: the process answers and none of its background loops has ended or failed its last UNHEALTHY_AFTER
    rounds (they run until shutdown: one that ended or keeps failing means reminders or kept commands would wait
    for ever, so the orchestrator should restart this replica). Redis or Odoo away is not counted: /readyz."""
    loops = request.app[RUNTIME].loops
    ended = [loop.get_name() for loop in loops if loop.done()]
    failing = [loop.get_name() for loop in loops if not loop.done() and failed_in_a_row(loop) >= UNHEALTHY_AFTER]
    if ended or failing:
        logger.error("liveness: background loops %s", "; ".join(
            [*(["ended: " + ", ".join(ended)] if ended else []),
             *([f"failed their last {UNHEALTHY_AFTER} rounds: " + ", ".join(failing)] if failing else [])]))
        return web.json_response({"status": "loops ended" if ended else "loops failing",
                                  **({"ended": ended} if ended else {}), **({"failing": failing} if failing else {})},
                                 status=503)
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    runtime = request.app[RUNTIME]
    redis_ok = await runtime.services.store.ping()
    try:
        await runtime.services.odoo.ping()
        odoo_ok = True
    except OdooError as error:
        logger.warning("readiness: Odoo not reachable: %s", error)
        odoo_ok = False
    ready = redis_ok and odoo_ok
    # channels the bot posts to on its own: missing after a Redis flush without persistence (register again)
    registered = await runtime.services.references.channels() if redis_ok else {}
    missing = [name for name in (SUPPORT_CHANNEL, MANAGEMENT_CHANNEL) if name not in registered]
    return web.json_response({"redis": redis_ok, "odoo": odoo_ok, "ready": ready, "channels_missing": missing},
                             status=200 if ready else 503)
