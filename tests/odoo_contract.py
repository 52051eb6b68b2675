"""Helpers for the Odoo tests: serve a sandbox over real HTTP, load the recorded contract."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestServer

from bot.odoo.sandbox import OdooSandbox, create_sandbox_app

CONTRACT_DIR = Path(__file__).resolve().parents[2] / "shared" / "odoo-contract"
ADMIN_UID = 2
API_KEY = "sandbox-key"
PASSWORD = "admin"


class StepClock:
    """A clock that moves by a fixed step (with microseconds) each time it is read."""

    def __init__(self, start: datetime | None = None, step: timedelta = timedelta(milliseconds=137)) -> None:
        self.current = start or datetime(2026, 11, 22, 22, 56, 20, 123456, tzinfo=UTC)
        self.step = step

    def __call__(self) -> datetime:
        self.current += self.step
        return self.current


@asynccontextmanager
async def serve(sb: OdooSandbox) -> AsyncIterator[str]:
    """Run the sandbox's aiohttp app on 127.0.0.1 and a free port; yields the base URL."""
    server = TestServer(create_sandbox_app(sb), host="127.0.0.1")
    await server.start_server()
    try:
        yield str(server.make_url("")).rstrip("/")
    finally:
        await server.close()


def load(name: str) -> dict[str, Any]:
    return json.loads((CONTRACT_DIR / name).read_text(encoding="utf-8"))


def entries(name: str) -> list[dict[str, Any]]:
    return list(load(name)["entries"])
