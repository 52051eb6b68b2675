"""Driving the running bot's timer worker from a test."""

from __future__ import annotations

import re

from bot.server import Runtime
from tests.support.connector import Posted
from tests.support.teams import TeamsClient, card_text


async def fire(runtime: Runtime, teams: TeamsClient) -> list[Posted]:
    """Run the timer worker once; what it posted."""
    before = len(teams.connector.posted)
    await runtime.worker.run_once()
    return teams.connector.posted[before:]


def reminders(posted: list[Posted]) -> list[tuple[str, str]]:
    """(conversation, ticket number) of each acknowledgment reminder posted: a card of its own, or a line of a card
    listing several."""
    found = []
    for post in posted:
        for number in re.findall(r"(\S+) is not acknowledged yet", card_text(post.card or {})):
            found.append((post.conversation_id.split(";")[0], number))
    return found
