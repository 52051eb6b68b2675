"""The names of the channels the bot posts to on its own, besides the escalation teams' (the process profile's):
a Teams channel is registered under one of these names (`/ticket channel <name>`, bot.handlers.setup)."""

from __future__ import annotations

SUPPORT_CHANNEL = "support"  # the desk: reminders nobody else took, owners without a 1:1 chat
MANAGEMENT_CHANNEL = "management"  # the incident cards and the digest (bot.management)
