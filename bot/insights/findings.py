"""What the notes say: the root cause an agent wrote down, and error texts worth comparing across tickets.

Agents write findings freely (`/ticket diag 42 ... Root cause: expired signed URL`), so this reads
them with a few forgiving patterns rather than a format:
- a root cause is what follows "Root cause:" (or "root cause identified -"), up to the end of the
  sentence or line;
- an error text is an exception or error class name (`NullPointerException`, `SlowQueryWarning`),
  an HTTP error status (`-> 403`, `500 Internal Server Error`), or a message in double quotes
  (`"System error - please contact administrator"`).
Texts are compared normalized (case, spacing and trailing punctuation ignored).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_ROOT_CAUSE = re.compile(r"root[ -]cause(?:\s+identified)?\s*[:\-–—]\s*(?P<cause>[^\n]+)", re.IGNORECASE)
_SENTENCE_END = re.compile(r"(?<=[^\s.])\.(?:\s|$)")
_ERROR_NAME = re.compile(r"\b(?:[A-Z][a-z0-9]+)+(?:Exception|Error|Warning|Fault)\b")
_HTTP_AFTER_WORD = re.compile(r"(?:\bHTTP|\bstatus|\breturns?|\bcode|->|→)\s*:?\s*(?P<status>[45]\d\d)\b",
                              re.IGNORECASE)
_HTTP_WITH_REASON = re.compile(r"\b(?P<status>[45]\d\d)\s+(?:Bad Request|Unauthorized|Forbidden|Not Found|Conflict|"
                               r"Too Many Requests|Internal Server Error|Bad Gateway|Service Unavailable|"
                               r"Gateway Timeout)\b", re.IGNORECASE)
_QUOTED = re.compile(r"\"(?P<text>[^\"\n]{8,160})\"|“(?P<curly>[^”\n]{8,160})”")
_TRAILING = " \t.,;:!?"


def normalized(text: str) -> str:
    """The form texts are compared in: lower case, single spaces, no trailing punctuation."""
    return " ".join(text.split()).strip(_TRAILING).casefold()


def root_cause(notes: Iterable[str]) -> str:
    """The root cause stated in the notes (the latest one wins), or "" when none states one."""
    found = ""
    for note in notes:
        for match in _ROOT_CAUSE.finditer(note):
            cause = _SENTENCE_END.split(match.group("cause"), maxsplit=1)[0].strip(_TRAILING)
            if cause:
                found = cause
    return found


def error_texts(text: str) -> dict[str, str]:
    """The error texts in `text`: normalized form -> the text as first written."""
    found: dict[str, str] = {}

    def add(shown: str) -> None:
        found.setdefault(normalized(shown), shown.strip(_TRAILING))

    for match in _ERROR_NAME.finditer(text):
        add(match.group(0))
    for pattern in (_HTTP_AFTER_WORD, _HTTP_WITH_REASON):
        for match in pattern.finditer(text):
            add(f"HTTP {match.group('status')}")
    for match in _QUOTED.finditer(text):
        add(match.group("text") or match.group("curly"))
    return found
