"""Domain errors for everything that can go wrong while talking to Odoo.

The transports translate XML-RPC faults, JSON-RPC error objects, JSON-2 error bodies and
network failures into these classes, so the rest of the bot never sees a wire format.
`str(error)` is always one line of human text, Odoo's own message when it sent one.
"""

from __future__ import annotations

from typing import Any

MISSING_RECORD_TEXT = "Record does not exist or has been deleted."
NONE_MARSHAL_TEXT = "TypeError: cannot marshal None unless allow_none is enabled"


def one_line(text: str) -> str:
    """Odoo's multi-line messages joined into one line (empty lines dropped)."""
    return " ".join(line.strip() for line in str(text).splitlines() if line.strip())


def last_line(text: str) -> str:
    """The last non-empty line of a text: the exception line of a Python traceback."""
    lines = [line.strip() for line in str(text).splitlines() if line.strip()]
    return lines[-1] if lines else ""


class OdooError(Exception):
    """Base class. `message` is one line; `code`/`name`/`debug` keep what Odoo sent, if anything."""

    def __init__(self, message: str, *, code: int | str | None = None, name: str | None = None,
                 debug: str | None = None) -> None:
        self.message = one_line(message) or self.__class__.__name__
        self.code = code
        self.name = name
        self.debug = debug
        super().__init__(self.message)


class OdooUnavailable(OdooError):
    """Odoo cannot be reached or answered something that is not Odoo (proxy page, timeout...)."""


class OdooAccessDenied(OdooError):
    """Bad credentials, or the Odoo user lacks the rights (ACL, record rules, groups)."""


class RecordMissing(OdooError):
    """The record does not exist (any more)."""


class OdooValidationError(OdooError):
    """Odoo refused the values: mandatory field, constraint, user error."""


class OdooProgrammingError(OdooError):
    """The request itself is wrong (bad field, bad selection value, unknown method...)."""


def is_none_marshal_fault(code: int | str, fault_string: str) -> bool:
    """XML-RPC cannot send None: Odoo commits, then faults. Over the wire that means 'None'."""
    return code == 1 and last_line(fault_string) == NONE_MARSHAL_TEXT


DATABASE_ERROR = "psycopg2.OperationalError"


def database_away(name: str, message: str) -> bool:
    """Odoo answered, its PostgreSQL did not (down, restarting, out of connections): Odoo is not available,
    try again later. A database that does not exist is a setup error instead (a wrong ODOO_DB)."""
    return name == DATABASE_ERROR and "does not exist" not in message


def error_from_fault(code: int | str, fault_string: str) -> OdooError:
    """Map an XML-RPC fault of /xmlrpc/2/object (faultCode 1..4) to a domain error."""
    text = str(fault_string)
    first = text.strip().splitlines()[0] if text.strip() else ""
    raised = next((line for line in text.splitlines() if line.startswith(DATABASE_ERROR + ":")), "")
    if code == 1 and database_away(DATABASE_ERROR if raised else "", raised):
        return OdooUnavailable(f"Odoo cannot reach its database: {raised.partition(': ')[2]}", code=code)
    if code == 1:
        return OdooProgrammingError(last_line(text) or "Odoo server error", code=code, debug=text)
    if code == 2:
        cls = RecordMissing if first.startswith(MISSING_RECORD_TEXT) else OdooValidationError
        return cls(text, code=code)
    if code in (3, 4):
        return OdooAccessDenied(text, code=code)
    return OdooError(text or str(code), code=code)


# werkzeug's Unauthorized: Odoo 19's JSON-2 refusing the API key (401 "Invalid apikey")
_ACCESS_NAMES = frozenset({"odoo.exceptions.AccessDenied", "odoo.exceptions.AccessError",
                           "werkzeug.exceptions.Unauthorized"})
_MISSING_NAMES = frozenset({"odoo.exceptions.MissingError"})
_VALIDATION_NAMES = frozenset({"odoo.exceptions.ValidationError", "odoo.exceptions.UserError",
                               "odoo.exceptions.RedirectWarning", "odoo.exceptions.except_orm"})


def error_from_json(data: dict[str, Any], *, code: int | str | None = None) -> OdooError:
    """Map Odoo's JSON error description (JSON-RPC `error.data` or a JSON-2 error body)."""
    name = str(data.get("name") or "")
    message = str(data.get("message") or "")
    debug = data.get("debug") if isinstance(data.get("debug"), str) else None
    if database_away(name, message):
        return OdooUnavailable(f"Odoo cannot reach its database: {one_line(message)}", code=code, name=name)
    if name in _ACCESS_NAMES:
        return OdooAccessDenied(message or "Access Denied", code=code, name=name, debug=debug)
    if name in _MISSING_NAMES:
        return RecordMissing(message or MISSING_RECORD_TEXT, code=code, name=name, debug=debug)
    if name in _VALIDATION_NAMES:
        return OdooValidationError(message or name, code=code, name=name, debug=debug)
    short = name.rsplit(".", 1)[-1] or "Error"
    text = f"{short}: {one_line(message)}" if message else short
    return OdooProgrammingError(text, code=code, name=name or None, debug=debug)
