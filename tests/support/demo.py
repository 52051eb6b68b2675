"""The bot built the way `app.py --demo` (or `--dev` with nothing configured) builds it: settings from an empty
environment, so the built-in sandbox Odoo seeded by the app itself and the in-process Redis stand-in; the clock is
the test's, and the background loops are driven by the test."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime

from aiohttp.test_utils import TestServer

from bot.server import RUNTIME, Runtime, create_app
from bot.settings import Mode, load_settings
from odoo_double import OdooSandbox


@dataclasses.dataclass
class EmbeddedBot:
    server: TestServer
    runtime: Runtime

    @property
    def url(self) -> str:
        return str(self.server.make_url("/api/messages"))

    @property
    def sandbox(self) -> OdooSandbox:
        assert self.runtime.sandbox is not None, "the app runs no built-in sandbox"
        return self.runtime.sandbox


@asynccontextmanager
async def embedded_bot(mode: Mode, clock: Callable[[], datetime], env: dict[str, str] | None = None
                       ) -> AsyncIterator[EmbeddedBot]:
    """`env`: settings beside the empty environment (PROCESS_PROFILE...)."""
    settings = dataclasses.replace(load_settings(env or {}, mode), background_tasks=False)
    server = TestServer(create_app(settings, clock=clock), host="127.0.0.1")
    await server.start_server()
    try:
        yield EmbeddedBot(server, server.app[RUNTIME])
    finally:
        await server.close()
