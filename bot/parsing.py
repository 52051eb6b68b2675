"""Parsing what people type: `/ticket <command> words key:value ...`, ids, counts and times.

Pure functions. Every failure is a `UsageError` whose text says what was wrong and how to
write it right; the router shows it with the command's usage line.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.i18n import tr
from bot.numbers import whole_number
from bot.process.durations import parse_duration
from bot.tickets import MAX_USERS
from bot.wording import literal


class UsageError(ValueError):
    """The user typed something the bot cannot read; the message explains how to write it."""


_PREFIX = re.compile(r"^\s*/?ticket\b[ \t]*", re.IGNORECASE)
_OPTION = re.compile(r"^([a-zA-Z][a-zA-Z_-]*):(.*)$", re.DOTALL)
MAX_COMMAND_LENGTH = 8000


@dataclass(frozen=True)
class CommandLine:
    """`/ticket <name> <args>` with the lines after the first kept as `body`."""

    name: str
    args: str = ""
    body: str = ""


@dataclass(frozen=True)
class Arguments:
    words: tuple[str, ...] = ()
    options: dict[str, str] = field(default_factory=dict)

    def text(self, start: int = 0) -> str:
        return " ".join(self.words[start:]).strip()


def command_line(text: str) -> CommandLine | None:
    """The command in `text`, or None when it is not addressed to `/ticket`."""
    match = _PREFIX.match(text)
    if not match:
        return None
    rest = text[match.end():]
    first, _, body = rest.partition("\n")
    name, _, args = first.strip().partition(" ")
    return CommandLine(name=name.lower(), args=args.strip(), body=body.strip())


def option_key(token: str) -> str | None:
    """The key of a `key:value` token, lower-cased (None for any other word)."""
    match = _OPTION.match(token)
    return match.group(1).lower() if match else None


def split_arguments(args: str, options: frozenset[str] | set[str] = frozenset()) -> Arguments:
    """Words and `key:value` options (only the keys in `options`; quotes group words)."""
    try:
        tokens = shlex.split(args, posix=True)
    except ValueError:  # an unbalanced quote: read the words as they are
        tokens = args.split()
    words: list[str] = []
    found: dict[str, str] = {}
    for token in tokens:
        match = _OPTION.match(token)
        key = match.group(1).lower() if match else ""
        if match and key in options:
            if key in found:
                raise UsageError(tr("`{key}:` is given twice; give it once.", key=key))
            found[key] = match.group(2).strip()
        else:
            words.append(token)
    return Arguments(tuple(words), found)


@dataclass(frozen=True)
class TicketRef:
    """A ticket as the user named it: an Odoo id (`42`, `#42`) or Odoo's number (`HT00042`)."""

    id: int | None = None
    number: str | None = None

    def __str__(self) -> str:
        return self.number or f"#{self.id}"


MAX_TICKET_ID = 999_999_999
_NUMBER = re.compile(r"[A-Za-z]{1,6}[0-9]{1,12}")


def ticket_ref(word: str | None) -> TicketRef:
    if not word:
        raise UsageError(tr("Which ticket? Give its id, like `42`, `#42` or `HT00042`."))
    if (ticket_id := whole_number(word.removeprefix("#"), maximum=MAX_TICKET_ID)) is not None:
        return TicketRef(id=ticket_id)
    if _NUMBER.fullmatch(word):
        return TicketRef(number=word.upper())
    raise UsageError(tr("`{word}` is not a ticket id. Write it like `42`, `#42` or `HT00042`.", word=literal(word)))


def user_count(text: str) -> int:
    """`15`, `50+`, `1,200`: a whole number of users in the digits 0-9, at most MAX_USERS."""
    count = whole_number(text.strip().replace(",", "").rstrip("+"), maximum=MAX_USERS)
    if count is None:
        raise UsageError(tr("`{text}` is not a number of users. Write a whole number from 0 to {most} in the "
                            "digits 0-9, like `users:15`.", text=literal(shortened(text)), most=f"{MAX_USERS:,}"))
    return count


def shortened(text: str, most: int = 40) -> str:
    """What was typed, quoted back no longer than `most` characters (a 4,301-digit number is not read back whole)."""
    return text if len(text) <= most else text[:most - 1] + "…"


_CLOCK = re.compile(r"([0-9]{1,2})(?::([0-9]{2}))?")
_DAY_WORDS = {"today": 0, "tomorrow": 1}
_ISO_T = re.compile(r"^([0-9]{4}-[0-9]{2}-[0-9]{2})T")


def _clock(text: str) -> time | None:
    match = _CLOCK.fullmatch(text)
    if not match:
        return None
    hour, minute = whole_number(match.group(1), maximum=23), whole_number(match.group(2) or "0", maximum=59)
    return time(hour, minute) if hour is not None and minute is not None else None


def when(text: str, now: datetime, tz: ZoneInfo) -> datetime:
    """A moment in the future, returned in UTC. Understands `2025-01-30 09:00`, `2025-01-30`,
    `tomorrow 09:00`, `today 17:00`, `09:00` (the next one), and `4h` / `+90m` / `in 2d` from now."""
    raw = " ".join(_ISO_T.sub(r"\1 ", text).replace("@", " ").split())
    local_now = now.astimezone(tz)
    moment: datetime | None = None
    lowered = raw.lower()
    relative = lowered.removeprefix("in ").removeprefix("+")
    try:
        moment = now + parse_duration(relative)
    except (ValueError, OverflowError):  # not a duration, or one that ends after the year 9999
        pass
    if moment is None:
        day_word, _, rest = lowered.partition(" ")
        if day_word in _DAY_WORDS:
            at = _clock(rest) if rest else time(9, 0)
            if at is not None:
                day = local_now.date() + timedelta(days=_DAY_WORDS[day_word])
                moment = datetime.combine(day, at, tz)
        elif (at := _clock(lowered)) is not None:
            moment = datetime.combine(local_now.date(), at, tz)
            if moment <= local_now:
                moment += timedelta(days=1)
        else:
            for fmt in ("%Y-%m-%d %H:%M", "%Y-%m-%d"):
                try:
                    moment = datetime.strptime(raw, fmt).replace(tzinfo=tz)
                    if fmt == "%Y-%m-%d":
                        moment = moment.replace(hour=17)  # a bare date means the end of that working day
                    break
                except ValueError:
                    continue
    if moment is None:
        raise UsageError(tr("I can't read the time `{text}`. Write `2025-01-30 09:00` (in quotes), "
                            "`tomorrow@09:00`, `17:00` or `4h` (from now).", text=literal(text)))
    if moment <= now:
        raise UsageError(tr("`{text}` is already past. Give a time in the future.", text=literal(text)))
    return moment.astimezone(ZoneInfo("UTC"))


MOST_TIME_SPENT = timedelta(hours=24)
_HOURS_MINUTES = re.compile(r"([0-9]{1,2})h([0-9]{2})")  # 1h30, 2h05: the minutes after the hours, without `m`
_DECIMAL_HOURS = re.compile(r"([0-9]{1,2})[.,]([0-9]{1,2})h")  # 1.5h, 0,25h: hours with a decimal point or comma


def time_spent(text: str) -> timedelta:
    """Time spent on a ticket as people log it: a duration (`1h30m`, `90m`, `2h`), the hours and minutes written
    `1h30`, or decimal hours (`1.5h`, `1,5h`); in whole minutes, more than none and at most MOST_TIME_SPENT in one
    timesheet line."""
    typed = text.strip()
    if (match := _HOURS_MINUTES.fullmatch(typed)) and int(match.group(2)) < 60:
        spent = timedelta(hours=int(match.group(1)), minutes=int(match.group(2)))
    elif match := _DECIMAL_HOURS.fullmatch(typed):
        hundredths = int(match.group(1)) * 100 + int(match.group(2).ljust(2, "0"))
        minutes, rest = divmod(hundredths * 60, 100)
        if rest:
            raise UsageError(tr("`{text}` is not a whole number of minutes; write it in hours and minutes, like "
                                "`1h20m`.", text=literal(typed)))
        spent = timedelta(minutes=minutes)
    else:
        try:
            spent = parse_duration(typed)
        except ValueError:
            raise UsageError(tr("`{text}` is not a time spent. Write it like `1h30m`, `90m`, `1h30` or `1.5h`.",
                                text=literal(shortened(text)))) from None
    if spent > MOST_TIME_SPENT:
        raise UsageError(tr("`{text}` is more than 24 hours. Log at most `24h` in one line: one line for each day's "
                            "work.", text=literal(shortened(typed))))
    if spent % timedelta(minutes=1):
        raise UsageError(tr("`{text}` is not a whole number of minutes; write it in hours and minutes, like "
                            "`1h20m`.", text=literal(typed)))
    if not spent:
        raise UsageError(tr("`{text}` is no time at all. Log at least `1m`.", text=literal(typed)))
    return spent
