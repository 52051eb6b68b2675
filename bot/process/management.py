"""The profile's `management:` section: when management hears of a ticket, and when it gets the digest.

```yaml
management:
  priority_threshold:      # a Priority ticket also gets the management card once it passes one of these
    users: 20              #   at least this many users affected (within the Priority range)
    open_for: 4h           #   still not resolved this long after the report
  digest:                  # the digest in the management channel, in the team's time zone (TIMEZONE)
    at: "08:30"
    every: day             # day, or week (then `on: monday`, the default)
```

Left out: no Priority threshold (Expedite only) and a daily digest at 08:30; `digest: null` posts none.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from yaml.nodes import Node, ScalarNode

if TYPE_CHECKING:
    from bot.process.profile import _Reader

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_CLOCK = re.compile(r"([01]?\d|2[0-3]):([0-5]\d)")


class DigestEvery(StrEnum):
    DAY = "day"
    WEEK = "week"


@dataclass(frozen=True)
class DigestSchedule:
    at: time  # the local time of day, in the team's time zone
    every: DigestEvery = DigestEvery.DAY
    weekday: int = 0  # Monday; only for a weekly digest

    @property
    def period(self) -> timedelta:
        return timedelta(days=7 if self.every is DigestEvery.WEEK else 1)

    def describe(self) -> str:
        """`08:30 every day`, `08:30 every monday`: also what a pending digest timer remembers, so a
        changed schedule is noticed at start-up."""
        return f"{self.at:%H:%M} every {'day' if self.every is DigestEvery.DAY else WEEKDAYS[self.weekday]}"

    def next_after(self, moment: datetime, tz: ZoneInfo) -> datetime:
        """The first digest strictly after `moment`, at the wall-clock time `at` in `tz` (DST-proof)."""
        local = moment.astimezone(tz)
        day = local.date()
        for _ in range(9):
            candidate = datetime.combine(day, self.at, tzinfo=tz)
            if candidate > moment and (self.every is DigestEvery.DAY or day.weekday() == self.weekday):
                return candidate
            day += timedelta(days=1)
        raise AssertionError("a digest falls within 8 days")  # pragma: no cover


def _default_digest() -> DigestSchedule | None:
    return DigestSchedule(time(8, 30))


@dataclass(frozen=True)
class ManagementPolicy:
    priority_users: int | None = None  # a Priority ticket with at least this many users gets the card
    priority_open_for: timedelta | None = None  # ... or one still unresolved this long after the report
    digest: DigestSchedule | None = field(default_factory=_default_digest)


def read_management(reader: _Reader, node: Node | None, *, priority_min_users: int,
                    expedite_min_users: int) -> ManagementPolicy:
    """The `management:` section, validated like the rest of the profile (`file:line: key: problem`)."""
    if node is None:
        return ManagementPolicy()
    values = reader.fields(node, "management", (), ("priority_threshold", "digest"))
    users: int | None = None
    open_for: timedelta | None = None
    if "priority_threshold" in values:
        path = "management.priority_threshold"
        threshold = reader.fields(values["priority_threshold"], path, (), ("users", "open_for"))
        if not threshold:
            reader.fail(values["priority_threshold"], path, "give `users`, `open_for` or both")
        if "users" in threshold:
            users = reader.integer(threshold["users"], f"{path}.users", 1)
            if not priority_min_users <= users < expedite_min_users:
                reader.fail(threshold["users"], f"{path}.users",
                            f"must be a Priority ticket's number of users, from thresholds.priority_min_users "
                            f"({priority_min_users}) to {expedite_min_users - 1}, got {users}")
        if "open_for" in threshold:
            open_for = reader.duration(threshold["open_for"], f"{path}.open_for")
    digest = _default_digest()
    if "digest" in values:
        digest = _digest(reader, values["digest"])
    return ManagementPolicy(priority_users=users, priority_open_for=open_for, digest=digest)


def _digest(reader: _Reader, node: Node) -> DigestSchedule | None:
    if isinstance(node, ScalarNode) and node.tag == "tag:yaml.org,2002:null":
        return None
    values = reader.fields(node, "management.digest", ("at",), ("every", "on"))
    at_node = values["at"]
    if not isinstance(at_node, ScalarNode) or at_node.tag != "tag:yaml.org,2002:str":
        reader.fail(at_node, "management.digest.at", 'expected a time of day in quotes, such as "08:30"')
    clock = _CLOCK.fullmatch(at_node.value.strip())
    if clock is None:
        reader.fail(at_node, "management.digest.at", f'{at_node.value!r} is not a time of day (write "08:30")')
    every = DigestEvery.DAY
    if "every" in values:
        every = reader.choice(values["every"], "management.digest.every", DigestEvery, "how often")
    weekday = 0
    if "on" in values:
        if every is not DigestEvery.WEEK:
            reader.fail(values["on"], "management.digest.on", "only a weekly digest (`every: week`) has a day")
        day = reader.text(values["on"], "management.digest.on").lower()
        if day not in WEEKDAYS:
            reader.fail(values["on"], "management.digest.on", f"{day!r} is not a day of the week (write monday)")
        weekday = WEEKDAYS.index(day)
    return DigestSchedule(time(int(clock.group(1)), int(clock.group(2))), every, weekday)
