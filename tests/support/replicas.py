"""Bot replicas as real processes for the crash tests (tests/test_killed_turn.py, tests/test_lapsed_turns.py):
each spawned from `tests/support/bot_process.py` on one redis-server and one Odoo, SIGKILL for the crash; and
what those tests read back (the agent's answers, the notes in Odoo, each replica's log)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

from tests.conftest import AGENT
from tests.support.bot_process import spawn
from tests.support.connector import ConnectorStub
from tests.support.odoo_view import OdooView
from tests.support.redis_server import free_port
from tests.support.teams import TeamsClient, card_text


@dataclass
class BotProcess:
    process: asyncio.subprocess.Process
    teams: TeamsClient
    log: Path  # its stderr: warnings and errors

    async def kill(self) -> None:
        self.process.kill()  # SIGKILL: no cleanup, no answer, the claim left as it was
        await self.process.wait()

    def logged(self, words: str) -> int:
        """How many lines of its log contain `words`."""
        return sum(words in line for line in self.log.read_text(encoding="utf-8", errors="replace").splitlines())


class Replicas:
    """Starts bot processes on the same Redis and Odoo, each with its own Teams client for the agent."""

    def __init__(self, redis_url: str, odoo_url: str, connector: tuple[ConnectorStub, str],
                 session: aiohttp.ClientSession, logs: Path, *, turn_lease: float) -> None:
        self._redis_url = redis_url
        self._odoo_url = odoo_url
        self._connector = connector
        self._session = session
        self._logs = logs
        self._turn_lease = turn_lease
        self.started: list[BotProcess] = []

    async def start(self, *, sweep_every: float = 0.0) -> BotProcess:
        """A replica; `sweep_every`: it finishes the lapsed turns of dead replicas (bot.lapsed) that often."""
        stub, connector_url = self._connector
        port = free_port()
        log = self._logs / f"bot-{port}.log"
        with log.open("wb") as stderr:
            process = await spawn(port, self._redis_url, self._odoo_url, log=stderr, turn_lease=self._turn_lease,
                                  sweep_every=sweep_every)
        bot = BotProcess(process, TeamsClient(f"http://127.0.0.1:{port}/api/messages", connector_url, stub,
                                              self._session, AGENT), log)
        self.started.append(bot)
        return bot


@asynccontextmanager
async def replicas(redis_url: str, odoo_url: str, connector: tuple[ConnectorStub, str], logs: Path, *,
                   turn_lease: float) -> AsyncIterator[Replicas]:
    """Replicas started by the test, the living ones stopped (SIGTERM) at the end."""
    async with aiohttp.ClientSession() as session:
        running = Replicas(redis_url, odoo_url, connector, session, logs, turn_lease=turn_lease)
        try:
            yield running
        finally:
            for bot in running.started:
                if bot.process.returncode is None:
                    bot.process.terminate()
                    await bot.process.wait()


def answers(teams: TeamsClient) -> list[str]:
    """The cards posted in the agent's 1:1 chat so far."""
    return [card_text(p.card) for p in teams.connector.cards_in(teams.personal()["id"]) if p.card]


def notes(odoo: OdooView, ticket_id: int, containing: str) -> int:
    return sum(containing in message["body"] for message in odoo.messages(ticket_id))


def typed(teams: TeamsClient, text: str) -> dict[str, Any]:
    """An activity of the agent typing `text` in their 1:1 chat, to deliver (and deliver again) by hand."""
    return {**teams._base(teams.personal()), "type": "message", "text": text}


async def deliver(teams: TeamsClient, activity: dict[str, Any]) -> None:
    """Teams posting the activity (again): the bot answers HTTP 200 and posts its answer, if any."""
    response = await teams.post(activity)
    assert response.status in (200, 201)
