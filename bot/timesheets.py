"""Time spent on tickets as the bot sees it: the lines of Odoo's timesheets, read for one turn, and their totals.

What an agent types is read by `bot.parsing.time_spent`; where Odoo keeps it (`account.analytic.line`, linked to
the ticket and to the agent's employee) is `bot.odoo.gateway`'s business.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta


@dataclass(frozen=True)
class TimeLine:
    """One timesheet line: who spent how long on what, on which day, and where (a ticket, or only a project)."""

    day: date | None  # None: Odoo's date could not be read
    who: str  # the employee's name, as Odoo shows it
    spent: timedelta
    what: str
    ticket_id: int | None  # the ticket it is logged on; None for time logged on a project only (in Odoo)
    where: str  # the ticket's (or the project's) name, as Odoo shows it


def total(lines: Iterable[TimeLine]) -> timedelta:
    return sum((line.spent for line in lines), timedelta())


def by_ticket(lines: Iterable[TimeLine]) -> list[tuple[int | None, str, timedelta]]:
    """The time per ticket (or project), most first: (ticket id, its name, the time)."""
    sums: dict[tuple[int | None, str], timedelta] = {}
    for line in lines:
        key = (line.ticket_id, line.where)
        sums[key] = sums.get(key, timedelta()) + line.spent
    return sorted(((ticket, where, spent) for (ticket, where), spent in sums.items()), key=lambda row: -row[2])


def hours_and_minutes(spent: timedelta) -> str:
    """`1h30m`, `45m`, `24h`, `38h15m`: as agents type time spent, hours never turned into days."""
    minutes = round(spent.total_seconds() / 60)
    hours, minutes = divmod(minutes, 60)
    return (f"{hours}h" if hours else "") + (f"{minutes}m" if minutes or not hours else "")

