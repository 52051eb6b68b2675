"""The support process as data (profiles) and pure rules over it (class of service, cadences)."""

from bot.process.durations import DURATION_FORMS, format_duration, parse_duration
from bot.process.profile import (
    CLOSING_STAGES,
    DEFAULT_PROFILE,
    PROFILES_DIR,
    EscalationTeam,
    NeededStage,
    ProcessProfile,
    ServiceClass,
    available_profiles,
    load_profile,
    parse_profile,
)
from bot.process.rules import classify, deadline_checkpoints, priority_for, update_interval
from bot.process.terms import Action, Audience, ClassOfService, FollowUpRule, KanbanState, OdooModel, Role, Stage
from bot.process.validation import ProfileError

__all__ = [
    "CLOSING_STAGES",
    "DEFAULT_PROFILE",
    "DURATION_FORMS",
    "PROFILES_DIR",
    "Action",
    "Audience",
    "ClassOfService",
    "EscalationTeam",
    "FollowUpRule",
    "KanbanState",
    "NeededStage",
    "OdooModel",
    "ProcessProfile",
    "ProfileError",
    "Role",
    "ServiceClass",
    "Stage",
    "available_profiles",
    "classify",
    "deadline_checkpoints",
    "format_duration",
    "load_profile",
    "parse_duration",
    "parse_profile",
    "priority_for",
    "update_interval",
]
