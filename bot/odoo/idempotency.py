"""A command run twice applies once: its writes carry its idempotency key, and a second run looks first.

A command can run again after a fault: the outbox relay replays a kept command whose first attempt
may have reached Odoo (Odoo wrote, then the reply was lost: a timeout, a cut connection), and a Teams
activity runs again when the process running it died. A stage move or a field set to a value lands
the same however often it is written; what would double is a chatter message, a new ticket, or a
write computed from the ticket as it was (merging adds the users affected up). So each of those
carries a tag made from the command's key, and a run that may come after an earlier one (`again`)
searches for the tag before writing, in one call.

Where the tag lives in Odoo: an HTML comment at the end of the message body or of the ticket's
description, `<!-- teams-command:3f2a9c.../note-42/1 -->`. People reading Odoo never see it; Odoo's
html sanitizer keeps comments (the recorded contract has a stored message body with its comments
intact), and the bot's own readers drop it with the rest of the markup (`bot.tickets.plain_text`).
The key is a hash of the Teams conversation and activity ids, so no Teams identifier reaches Odoo.

The turn says which command is being applied (`applying`), as it says the language (`bot.i18n`);
the gateway reads it, so handlers write as usual.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

PREFIX = "teams-command:"

_current: ContextVar[Command | None] = ContextVar("odoo_command", default=None)


@dataclass
class Command:
    key: str
    again: bool  # it may have run before (a replay, a re-delivery after a crash): look before writing
    _seen: Counter[str] = field(default_factory=Counter)

    def tag(self, what: str) -> str:
        """The tag of this command's next write of a kind (`note-42`: a message on ticket 42). The same
        sequence of writes gives the same tags on every run of the command."""
        self._seen[what] += 1
        return f"{self.key}/{what}/{self._seen[what]}"


def key_of(activity_key: str) -> str:
    """The command's key: 16 hex digits from the Teams activity (conversation and activity id)."""
    return hashlib.sha256(activity_key.encode("utf-8")).hexdigest()[:16]


def marker(tag: str) -> str:
    """What goes at the end of the html a write sends."""
    return f"<!-- {PREFIX}{tag} -->"


def search_term(tag: str) -> str:
    """What an `ilike` search looks for; the space after it keeps `/1` from matching `/10`."""
    return f"{PREFIX}{tag} "


def current() -> Command | None:
    return _current.get()


def running_again() -> bool:
    """A command is being applied that may have run before."""
    command = _current.get()
    return command is not None and command.again


def next_tag(what: str) -> tuple[str, bool] | None:
    """The tag of the current command's next write of a kind, and whether to look for it before writing;
    None outside a command (reminders, the poller)."""
    command = _current.get()
    return (command.tag(what), command.again) if command is not None else None


@contextmanager
def applying(activity_key: str, *, again: bool) -> Iterator[Command]:
    """Within the block, the gateway's writes carry this command's tags (and look for them first when
    `again`)."""
    command = Command(key_of(activity_key), again)
    token = _current.set(command)
    try:
        yield command
    finally:
        _current.reset(token)
