"""What management may read: business words only, and no one's personal data.

`for_management(text)` is the one door every free text shown to management goes through (the
incident card, the digest, `/ticket summary`). It is a pure function:

- drops the lines that are technical detail: stack traces (`Traceback ...`, `File "x.py", line 3`,
  `at com.acme.Foo(Foo.java:12)`) and log lines (a leading timestamp or log level);
- replaces what points inside the company's systems: URLs, file and API paths, IP addresses,
  internal host names (`db-2.mindx.local`, `app01.prod`, `api-gw:8443`) and exception class names;
- masks the customers' personal data: e-mail addresses and phone numbers.

Applying it twice changes nothing more than applying it once.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from bot.i18n import N_, tr

EMAIL_HIDDEN = N_("[e-mail hidden]")
PHONE_HIDDEN = N_("[phone hidden]")
SYSTEM_HIDDEN = N_("[internal system]")
DETAIL_HIDDEN = N_("[technical detail]")

MIN_PHONE_DIGITS = 8
MAX_PHONE_DIGITS = 15

# A whole line of technical output: a stack frame, an exception heading, a log line.
_TECHNICAL_LINE = re.compile(
    r"""^\s*(?:
        Traceback\ \(most\ recent\ call\ last\)
      | File\ "[^"]*",\ line\ \d+
      | at\ [\w$.<>/]+\(.*\)\s*$                            # Java, .NET, JavaScript frames
      | (?:[a-z_][\w]*\.)+[A-Z]\w*(?:Exception|Error)\b     # java.lang.NullPointerException: ...
      | [A-Z]\w*(?:Exception|Error)\s*:                     # ValueError: ...
      | \[?\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}                  # 2025-01-29 08:33:01,120 ...
      | \[?(?:TRACE|DEBUG|INFO|WARN|WARNING|ERROR|FATAL|CRITICAL)\]?[\s:|]
      | Caused\ by:
      | \.\.\.\ \d+\ more\s*$
    )""",
    re.VERBOSE,
)
_EMAIL = re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)*")
# a phone number: starts with +, 0 or an area code in brackets; digits in groups
_PHONE = re.compile(r"(?<![\w+])(?:\+\d|\(\d+\)|0\d)[\d .()-]*\d(?!\w)")
_DATE = re.compile(r"\d{1,2}([./-])\d{1,2}\1\d{2,4}(?:[ T]\d{1,2}[:.h]\d{2})?")  # 05.02.2025 09.00 is no phone
_URL = re.compile(r"(?:\b[a-zA-Z][a-zA-Z0-9+.-]*://|\bwww\.)[^\s<>\"']*[^\s<>\"'.,;:!?)]")
_IPV4 = re.compile(r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?::\d{1,5})?(?![\w.])")
_IPV6 = re.compile(r"(?<![\w:])(?:[0-9A-Fa-f]{1,4}:){7}[0-9A-Fa-f]{1,4}(?![\w:])"
                   r"|(?<![\w:])(?:[0-9A-Fa-f]{1,4}(?::[0-9A-Fa-f]{1,4})*)?::(?:[0-9A-Fa-f]{1,4}"
                   r"(?::[0-9A-Fa-f]{1,4})*)?(?![\w:])")
_INTERNAL_HOST = re.compile(
    r"\b(?:localhost"
    r"|[a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:local|localdomain|lan|internal|intranet|intra|corp|home|svc|cluster)"
    r"|[a-z]+-?\d+(?:\.[a-z0-9-]+)+"  # app01.prod, db-2.mindx.vn
    r")(?::\d{1,5})?\b"
    r"|\b[a-z][a-z0-9]*(?:[-.][a-z0-9]+)+:\d{2,5}\b",  # api-gw:8443
    re.IGNORECASE,
)
_PATH = re.compile(r"(?<![\w/.])/(?:[\w.-]+/)+[\w.-]*|\b[A-Za-z]:\\[^\s]+")
_EXCEPTION = re.compile(r"\b(?:[a-z_]\w*\.)*[A-Z]\w*(?:Exception|Error)\b")
_SPACES = re.compile(r"[ \t]{2,}")
_REPLACED = ((_URL, SYSTEM_HIDDEN), (_IPV4, SYSTEM_HIDDEN), (_IPV6, SYSTEM_HIDDEN), (_INTERNAL_HOST, SYSTEM_HIDDEN),
             (_PATH, SYSTEM_HIDDEN), (_EXCEPTION, DETAIL_HIDDEN))


def mask_personal(text: str) -> str:
    """E-mail addresses and phone numbers replaced by a marker."""
    text = _EMAIL.sub(lambda _: tr(EMAIL_HIDDEN), text)
    return _PHONE.sub(_phone, text)


def _phone(match: re.Match[str]) -> str:
    found = match.group(0)
    if _DATE.fullmatch(found):
        return found
    digits = sum(ch.isdigit() for ch in found)
    return tr(PHONE_HIDDEN) if MIN_PHONE_DIGITS <= digits <= MAX_PHONE_DIGITS else found


def for_management(text: str) -> str:
    """`text` as management may read it (see the module's docstring); "" when nothing is left. Paragraphs stay
    apart (one blank line between them)."""
    kept: list[str] = []
    for line in str(text or "").splitlines():
        if not line.strip():
            if kept and kept[-1]:
                kept.append("")
            continue
        if _TECHNICAL_LINE.match(line):
            continue
        line = mask_personal(line)  # before URLs and hosts: an address's domain is not a host to name
        for pattern, marker in _REPLACED:
            said = tr(marker)
            line = pattern.sub(_said(said), line)
        line = _SPACES.sub(" ", line).strip()
        if line:
            kept.append(line)
    return "\n".join(kept).strip("\n")


def _said(said: str) -> Callable[[re.Match[str]], str]:
    """A replacement for `re.sub` that puts `said` in as it is (a plain string would be read as a template)."""
    return lambda _: said
