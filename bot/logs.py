"""Logging set-up: readable lines for people, one JSON object per line in production.

Every line logged during a turn carries the turn's correlation id as a field (`correlation_id`), set
by the turn pipeline with `correlation(...)`: code deeper down logs as usual. Nothing secret or
personal leaves through the handler: `Redact` replaces the configured secrets (Odoo API key, app
password...) and masks e-mail addresses and phone numbers (`bot.privacy.mask_personal`) in every
message and traceback, whichever library logged it.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TextIO

from bot.i18n import speaking
from bot.privacy import mask_personal

SECRET_HIDDEN = "[secret]"
SHORTEST_SECRET = 8
"""A secret this long or longer is hidden wherever it appears, inside a longer string too (a URL-quoted one:
`key%3D<secret>`); a shorter one only where it is a word of its own, else `mgmt` would eat into every
`helpdesk_mgmt`. Production refuses a shorter secret (bot.settings), dev takes one, e.g. a local Odoo's password."""

_correlation_id: ContextVar[str] = ContextVar("correlation_id", default="")


@contextmanager
def correlation(correlation_id: str) -> Iterator[None]:
    """Within the block (and the tasks it starts), log lines carry this correlation id."""
    token = _correlation_id.set(correlation_id)
    try:
        yield
    finally:
        _correlation_id.reset(token)


class Redact(logging.Filter):
    """Adds the turn's correlation id to each record, and takes secrets and personal data out of its
    message and traceback before any formatter sees them."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        patterns = [re.escape(s) if len(s) >= SHORTEST_SECRET else rf"(?<!\w){re.escape(s)}(?!\w)"
                    for s in sorted({s for s in secrets if s}, key=len, reverse=True)]
        self._secrets = re.compile("|".join(patterns)) if patterns else None

    def redact(self, text: str) -> str:
        if self._secrets is not None:
            text = self._secrets.sub(SECRET_HIDDEN, text)
        with speaking(None):  # log lines stay in English whatever the turn's language
            return mask_personal(text)

    def filter(self, record: logging.LogRecord) -> bool:
        record.correlation_id = _correlation_id.get()
        record.msg, record.args = self.redact(record.getMessage()), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {"time": self.formatTime(record), "level": record.levelname, "logger": record.name,
                 "message": record.getMessage()}
        correlation_id = getattr(record, "correlation_id", "")  # set by the logging filter, on a turn's records
        if correlation_id:
            entry["correlation_id"] = correlation_id
        if record.exc_text:
            entry["exception"] = record.exc_text
        elif record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def log_handler(stream: TextIO, *, json_logs: bool, secrets: Iterable[str] = ()) -> logging.Handler:
    """The handler every log line goes out through (stderr in production)."""
    handler = logging.StreamHandler(stream)
    handler.addFilter(Redact(secrets))
    handler.setFormatter(JsonFormatter() if json_logs else
                         logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    return handler


def configure_logging(*, json_logs: bool, level: int = logging.INFO, secrets: Iterable[str] = ()) -> None:
    handler = log_handler(sys.stderr, json_logs=json_logs, secrets=secrets)
    logging.basicConfig(level=level, handlers=[handler], force=True)
    logging.getLogger("msrest").setLevel(logging.ERROR)
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
