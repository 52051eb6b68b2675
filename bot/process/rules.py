"""Class of Service and cadence rules: pure functions of a ticket's facts and a process profile.

Times must be all timezone-aware or all naive; mixing them is a ``ValueError``.
"""

from datetime import datetime, timedelta

from bot.process.profile import ProcessProfile
from bot.process.terms import ClassOfService


def classify(users: int | None, deadline: datetime | None, profile: ProcessProfile) -> ClassOfService:
    """The Class of Service for a ticket affecting ``users`` people, with an optional hard deadline.

    With the MindX thresholds (5 and 26): 4 users is Standard, 5 and 25 are Priority, 26 is
    Expedite. A deadline makes the ticket Fixed Deadline unless the user count makes it Expedite.
    An unknown count (None) or 0 counts as a single-user issue.
    """
    count = users or 0
    if count < 0:
        raise ValueError(f"the number of users affected cannot be negative (got {users})")
    if count >= profile.expedite_min_users:
        return ClassOfService.EXPEDITE
    if deadline is not None:
        return ClassOfService.FIXED_DEADLINE
    if count >= profile.priority_min_users:
        return ClassOfService.PRIORITY
    return ClassOfService.STANDARD


def _time_left(now: datetime, deadline: datetime) -> timedelta:
    if (now.utcoffset() is None) != (deadline.utcoffset() is None):
        raise ValueError("now and deadline must both carry a timezone, or neither")
    return deadline - now


def priority_for(
    cos: ClassOfService,
    profile: ProcessProfile,
    *,
    now: datetime | None = None,
    deadline: datetime | None = None,
) -> str:
    """The Odoo priority value for a class.

    Fixed Deadline tickets get their class's priority until less than
    ``deadline_urgent_within`` is left (or the deadline has passed), then the profile's urgent
    priority ('3' for helpdesk.ticket). Unless both ``now`` and ``deadline`` are given, the
    class's priority is returned.
    """
    base = profile.classes[cos].priority
    if cos is not ClassOfService.FIXED_DEADLINE or now is None or deadline is None:
        return base
    if _time_left(now, deadline) < profile.deadline_urgent_within:
        return profile.urgent_priority
    return base


def update_interval(
    cos: ClassOfService,
    profile: ProcessProfile,
    *,
    now: datetime,
    deadline: datetime | None = None,
) -> timedelta:
    """How long until the next update is due.

    Fixed cadences come from the class. Fixed Deadline: the time left divided by
    ``deadline_min_updates``, cut to whole seconds and never below ``min_update_interval`` (so a
    deadline already passed gives ``min_update_interval``). A Fixed Deadline ticket needs a deadline.
    """
    service_class = profile.classes[cos]
    if service_class.update_every is not None:
        return service_class.update_every
    if deadline is None:
        raise ValueError(f"a {service_class.label} ticket needs a deadline to space its updates")
    share = _time_left(now, deadline) / profile.deadline_min_updates
    share -= timedelta(microseconds=share.microseconds)
    return max(share, profile.min_update_interval)


def deadline_checkpoints(start: datetime, deadline: datetime, profile: ProcessProfile) -> list[datetime]:
    """The moments at which the profile's fractions of the time from ``start`` to ``deadline`` are used up.

    With checkpoints (0.5, 0.75, 0.9, 1.0) and 8 hours allowed: +4h, +6h, +7h12m and the deadline
    itself. Raises ``ValueError`` when the deadline is not after ``start``.
    """
    allowed = _time_left(start, deadline)
    if allowed <= timedelta(0):
        raise ValueError(
            f"the deadline ({deadline.isoformat()}) must come after the start ({start.isoformat()})"
        )
    return [
        deadline if fraction == 1 else start + allowed * fraction for fraction in profile.deadline_checkpoints
    ]
