"""The bot's view of a ticket: plain immutable objects built from Odoo records.

Odoo is the system of record; these objects are read from it for one turn and never stored.
Facts Odoo has no field for (users affected, deadline, report time, request type) are kept
in a small, human-readable block at the end of the ticket's description, so Odoo users see
them too and the bot reads them back with the ticket in the same call.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from bot.numbers import whole_number
from bot.process import ClassOfService, Stage


@dataclass(frozen=True)
class OdooUser:
    id: int
    name: str
    email: str = ""
    partner_id: int = 0


@dataclass(frozen=True)
class Customer:
    id: int
    name: str
    email: str = ""


@dataclass(frozen=True)
class TicketFacts:
    users: int | None = None
    deadline: datetime | None = None
    reported: datetime | None = None
    kind: str = ""  # incident | bug | request | feature
    logged_by: str = ""  # who logged it from Teams (the Odoo author is the bot's user)


@dataclass(frozen=True)
class Ticket:
    id: int
    number: str
    title: str
    description: str  # plain text, without the facts block
    stage: str  # the Odoo stage name
    stage_key: Stage | None  # the bot's lifecycle stage, from the process profile
    priority: str
    cos: ClassOfService
    created: datetime
    updated: datetime
    facts: TicketFacts = field(default_factory=TicketFacts)
    owner: OdooUser | None = None
    customer: Customer | None = None
    tags: tuple[str, ...] = ()
    team: str = ""
    category: str = ""
    closed: bool = False
    url: str = ""
    filled: frozenset[str] = frozenset()  # the profile's required fields that have a value in Odoo
    priority_label: str = ""  # "High" (to translate): `priority` on this Odoo's scale (ModelProfile.priority_label)

    @property
    def label(self) -> str:
        return f"{self.number or '#' + str(self.id)}"

    def with_changes(self, **changes: object) -> Ticket:
        return replace(self, **changes)  # type: ignore[arg-type]


MAX_USERS = 1_000_000  # users affected: a count above it is a typo or an attack, never a desk's ticket
FACTS_TITLE = "Support desk"
_FACT_LINE = re.compile(r"^(Users affected|Deadline|Reported|Type|Logged by):\s*(.+)$", re.MULTILINE)
_TIME_FORMAT = "%Y-%m-%d %H:%M UTC"


def _strip_html(value: str) -> str:
    text = re.sub(r"<br\s*/?>", "\n", value, flags=re.IGNORECASE)
    text = re.sub(r"</p\s*>", "\n", text, flags=re.IGNORECASE)
    text = re.sub(r"<[^>]+>", "", text)
    return html.unescape(text).strip()


def plain_text(value: object) -> str:
    """Odoo html (or False) as plain text."""
    return _strip_html(value) if isinstance(value, str) else ""


# The moments the bot reads back from Odoo: outside them, a date overflows when a card shows it in the reader's
# zone (9999-12-31 23:59 UTC is past the year 9999 in Vietnam) or when a duration is added to it.
EARLIEST, LATEST = datetime(1900, 1, 1, tzinfo=UTC), datetime(9000, 1, 1, tzinfo=UTC)


def within_reason(moment: datetime | None) -> datetime | None:
    """`moment` when it lies between EARLIEST and LATEST, else None (read as absent)."""
    return moment if moment is not None and EARLIEST <= moment < LATEST else None


def _time(value: str) -> datetime | None:
    try:
        return within_reason(datetime.strptime(value.strip(), _TIME_FORMAT).replace(tzinfo=UTC))
    except (ValueError, OverflowError):
        return None


def split_description(value: str | bool | None) -> tuple[str, TicketFacts]:
    """The description's text and the facts block the bot wrote at its end."""
    text, facts, _ = read_description(value)
    return text, facts


def read_description(value: object) -> tuple[str, TicketFacts, tuple[str, ...]]:
    """The description's text, the facts block at its end, and the facts there that could not be read (each
    named with what it said), which are read as absent. Anyone who can edit the ticket in Odoo (or write to
    its e-mail gateway) writes this text: a fact that says `Users affected: ²` must not stop the desk."""
    text = plain_text(value) if isinstance(value, str) else ""
    head, marker, tail = text.rpartition(FACTS_TITLE)
    if not marker:
        return text, TicketFacts(), ()
    found = {name: said.strip() for name, said in _FACT_LINE.findall(tail)}
    unreadable: list[str] = []

    def read(name: str, parse: Callable[[str], Any]) -> Any:
        said = found.get(name, "")
        value = parse(said) if said else None
        if said and value is None:
            unreadable.append(f"{name} {_shown(said)}")
        return value

    facts = TicketFacts(
        users=read("Users affected", lambda said: whole_number(said, maximum=MAX_USERS)),
        deadline=read("Deadline", _time),
        reported=read("Reported", _time),
        kind=found.get("Type", ""),
        logged_by=found.get("Logged by", "").removesuffix(" via Teams").strip(),
    )
    return head.strip(), facts, tuple(unreadable)


def _shown(value: str, most: int = 40) -> str:
    """A value read from Odoo as a log line shows it: quoted and escaped (no line breaks), and short."""
    return repr(value if len(value) <= most else value[:most] + "...")


def description_html(text: str, facts: TicketFacts) -> str:
    """The description as Odoo html: the user's text, then the facts block."""
    paragraphs = [f"<p>{html.escape(line)}</p>" for line in text.splitlines() if line.strip()]
    lines = [f"<b>{FACTS_TITLE}</b>"]
    if facts.users is not None:
        lines.append(f"Users affected: {facts.users}")
    if facts.deadline is not None:
        lines.append(f"Deadline: {facts.deadline.astimezone(UTC).strftime(_TIME_FORMAT)}")
    if facts.reported is not None:
        lines.append(f"Reported: {facts.reported.astimezone(UTC).strftime(_TIME_FORMAT)}")
    if facts.kind:
        lines.append(f"Type: {html.escape(facts.kind)}")
    if facts.logged_by:
        lines.append(f"Logged by: {html.escape(facts.logged_by)} via Teams")
    return "".join(paragraphs) + "<p>" + "<br>".join(lines) + "</p>"
