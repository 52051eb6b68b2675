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

import re
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from enum import StrEnum
from typing import Annotated, Any, Self
from zoneinfo import ZoneInfo

from pydantic import BeforeValidator, model_validator

from bot.process.validation import OptionalDuration, Strict, choice, count, fail, mapping, text

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


class _Threshold(Strict):
    users: Annotated[int | None, BeforeValidator(count)] = None  # in the Priority range: checked by the profile
    open_for: OptionalDuration = None

    @model_validator(mode="after")
    def _users_or_open_for(self) -> Self:
        if self.users is None and self.open_for is None:
            fail("give `users`, `open_for` or both")
        return self


def _clock(value: Any) -> time:
    if not isinstance(value, str):  # 08:30 unquoted is a number to YAML (sexagesimal 510)
        fail('expected a time of day in quotes, such as "08:30"')
    clock = _CLOCK.fullmatch(value.strip())
    if clock is None:
        fail(f'{value!r} is not a time of day (write "08:30")')
    return time(int(clock.group(1)), int(clock.group(2)))


def _weekday(value: Any) -> int:
    day = text(value).lower()
    if day not in WEEKDAYS:
        fail(f"{day!r} is not a day of the week (write monday)")
    return WEEKDAYS.index(day)


class _Digest(Strict):
    at: Annotated[time, BeforeValidator(_clock)]
    every: Annotated[DigestEvery, choice(DigestEvery, "how often")] = DigestEvery.DAY
    on: Annotated[int | None, BeforeValidator(_weekday)] = None

    @model_validator(mode="after")
    def _weekly(self) -> Self:
        if self.on is not None and self.every is not DigestEvery.WEEK:
            fail("only a weekly digest (`every: week`) has a day", "on")
        return self


class ManagementSection(Strict):
    """The ``management:`` section as written; :meth:`policy` is what the bot uses."""

    priority_threshold: Annotated[_Threshold | None, BeforeValidator(mapping)] = None  # null is an error
    digest: _Digest | None = _Digest.model_validate({"at": "08:30"})  # null: no digest

    def policy(self) -> ManagementPolicy:
        threshold, digest = self.priority_threshold or _Threshold.model_construct(), self.digest
        return ManagementPolicy(
            priority_users=threshold.users,
            priority_open_for=threshold.open_for,
            digest=None if digest is None else DigestSchedule(digest.at, digest.every, digest.on or 0),
        )
