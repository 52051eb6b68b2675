"""Every log record a test's bot wrote, whichever thread wrote it (Hypothesis runs its examples in a worker
thread): the `logged` fixture of tests/conftest.py hands one `Records` to a test."""

from __future__ import annotations

import logging


class Records(logging.Handler):
    """Every log record, from any thread."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def at(self, level: int) -> list[logging.LogRecord]:
        return [r for r in self.records if r.levelno >= level]
