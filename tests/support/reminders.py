"""Driving the running bot's timer worker from a test."""

from __future__ import annotations

from bot.server import Runtime
from tests.support.connector import Posted
from tests.support.teams import TeamsClient


async def fire(runtime: Runtime, teams: TeamsClient) -> list[Posted]:
    """Run the timer worker once; what it posted."""
    before = len(teams.connector.posted)
    await runtime.worker.run_once()
    return teams.connector.posted[before:]
