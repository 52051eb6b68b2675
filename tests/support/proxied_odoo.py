"""The bot under test talking to the Odoo double through the fault proxy: Odoo faults on a real network path."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, replace
from urllib.parse import urlsplit

from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.server import RUNTIME, Runtime
from bot.settings import Settings
from odoo_double import OdooSandbox, create_sandbox_app
from tests.support.connector import Posted
from tests.support.faultproxy import FaultProxy, fault_proxy
from tests.support.teams import TeamsClient, card_text


@asynccontextmanager
async def served_like_odoo(sandbox: OdooSandbox) -> AsyncIterator[str]:
    """The Odoo double on a port of its own, finishing a request whose client went away as Odoo's threaded
    server does (aiohttp's TestServer cancels it instead); its URL."""
    runner = web.AppRunner(create_sandbox_app(sandbox), handler_cancellation=False, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()


@contextmanager
def proxy_in_front_of(url: str) -> Iterator[FaultProxy]:
    """A fault proxy forwarding to the server at `url` (the Odoo double)."""
    parts = urlsplit(url)
    with fault_proxy(parts.hostname or "127.0.0.1", parts.port or 80) as proxy:
        yield proxy


def through(settings: Settings, proxy: FaultProxy, *, timeout: float | None = None) -> Settings:
    """`settings` with Odoo reached through `proxy` (and another Odoo timeout, in seconds)."""
    odoo = replace(settings.odoo, url=f"http://{proxy.address}")
    return replace(settings, odoo=replace(odoo, timeout=timeout) if timeout is not None else odoo)


@dataclass
class Relay:
    """Runs the outbox relay of a bot under test by hand, and reads what it told the agent."""

    server: TestServer
    teams: TeamsClient

    @property
    def runtime(self) -> Runtime:
        return self.server.app[RUNTIME]

    def odoo_answers_again(self) -> None:
        """Odoo healed: close the circuit breaker now instead of waiting out its cooldown."""
        self.runtime.services.odoo._rpc.breaker.succeeded()  # type: ignore[attr-defined]

    async def waiting(self) -> int:
        return await self.runtime.services.outbox.waiting()

    async def run(self) -> list[str]:
        """One round of the relay; the text of each card it posted in the agent's 1:1 chat."""
        before = len(self.teams.connector.posted)
        await self.runtime.relay.run_once()
        chat = self.teams.personal()["id"]
        posted: list[Posted] = self.teams.connector.posted[before:]
        return [card_text(p.card) for p in posted if p.card and p.conversation_id == chat]
