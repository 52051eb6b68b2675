"""Driving the running bot's timer worker from a test."""

from __future__ import annotations

from bot.server import Runtime
from tests.support.connector import Posted
from tests.support.teams import TeamsClient, card_text


async def fire(runtime: Runtime, teams: TeamsClient) -> list[Posted]:
    """Run the timer worker once; what it posted."""
    before = len(teams.connector.posted)
    await runtime.worker.run_once()
    return teams.connector.posted[before:]


def reminders(posted: list[Posted]) -> list[tuple[str, str]]:
    """(conversation, ticket number) of each acknowledgment reminder card posted."""
    found = []
    for post in posted:
        text = card_text(post.card or {})
        if "is not acknowledged yet" in text:
            found.append((post.conversation_id.split(";")[0], text.split(" is not acknowledged yet")[0].split()[-1]))
    return found
