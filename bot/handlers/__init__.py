"""Command handlers: small async functions, one per command, grouped by lifecycle step."""

from bot.handlers import (
    drafts,
    escalation,
    flow,
    gitlab,
    insights,
    intake,
    management,
    messages,
    progress,
    setup,
    timesheets,
)
from bot.router import CommandGroup

GROUPS: tuple[CommandGroup, ...] = (intake.commands, progress.commands, timesheets.commands, escalation.commands,
                                    gitlab.commands, flow.commands, setup.commands, insights.commands,
                                    management.commands, drafts.commands, messages.commands)
