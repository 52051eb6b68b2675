"""The errors the sandbox raises, worded exactly as the recorded Odoo 17, 18 and 19 servers word them.

`OdooFault` is an `xmlrpc.client.Fault` (so the XML-RPC endpoint sends it as is) that also knows
the Odoo exception name and plain message the JSON-RPC and JSON-2 endpoints need. The series whose
wording applies is the one of the sandbox running the call (`speaking`, set by OdooSandbox.call).
"""

from __future__ import annotations

import xmlrpc.client
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from types import MappingProxyType

TRACEBACK_HEAD = "Traceback (most recent call last):"
ACCESS_DENIED = "Access Denied"
MISSING = "Record does not exist or has been deleted."
MANDATORY = ("The operation cannot be completed:\n"
             "- Create/update: a mandatory field is not set.\n"
             "- Delete: another model requires the record being deleted. If possible, archive it instead.\n")
FOREIGN_KEY = ("The operation cannot be completed: another model requires the record being deleted. "
               "If possible, archive it instead.")
RULE_HEAD = "Uh-oh! Looks like you have stumbled upon some top-secret records."
RULE_TAIL = ("If you really, really need access, perhaps you can win over your friendly administrator "
             "with a batch of freshly baked cookies.")
SECURITY_RESTRICTIONS = ("The requested operation cannot be completed due to security restrictions. "
                         "Please contact your system administrator.")
HELPDESK_GROUPS = ("Helpdesk/Helpdesk Manager", "Helpdesk/User", "Helpdesk/User: Personal tickets")

_SERIES: ContextVar[int] = ContextVar("odoo_series", default=17)


@contextmanager
def speaking(series: str) -> Iterator[None]:
    """Word the faults raised inside as Odoo `series` ("17.0", "18.0", "19.0") does."""
    token = _SERIES.set(int(series.split(".")[0]))
    try:
        yield
    finally:
        _SERIES.reset(token)


def major() -> int:
    """The major version whose wording applies (17 outside any sandbox call)."""
    return _SERIES.get()


class OdooFault(xmlrpc.client.Fault):
    """A fault as /xmlrpc/2/object sends it, plus the JSON-RPC view of the same exception."""

    def __init__(self, code: int, fault_string: str, *, name: str, message: str) -> None:
        super().__init__(code, fault_string)
        self.name = name  # e.g. "odoo.exceptions.MissingError" or "builtins.ValueError"
        self.message = message  # Odoo's exception message (JSON-RPC data.message)

    def __str__(self) -> str:
        return str(self.faultString)

    @property
    def json_status(self) -> int:
        """HTTP status the JSON-2 API uses for this kind of error."""
        return {"odoo.exceptions.AccessDenied": 401, "odoo.exceptions.AccessError": 403,
                "odoo.exceptions.MissingError": 404, "odoo.exceptions.UserError": 422,
                "odoo.exceptions.ValidationError": 422}.get(self.name, 500)


def _traceback(exception_line: str, where: str) -> str:
    return (f"{TRACEBACK_HEAD}\n"
            '  File "<odoo>/odoo/addons/base/controllers/rpc.py", line 147, in xmlrpc_2\n'
            "    response = self._xmlrpc(service)\n"
            f'  File "<sandbox>/odoo_double", line 1, in {where}\n'
            f"{exception_line}\n")


def python_error(kind: str, message: str, *, where: str = "execute_kw", module: str = "builtins") -> OdooFault:
    """Fault 1: any non-Odoo exception; the faultString is a traceback ending in `Kind: message`."""
    line = f"{kind}: {message}" if module == "builtins" else f"{module}.{kind}: {message}"
    return OdooFault(1, _traceback(line, where), name=f"{module}.{kind}", message=message)


def key_error(key: str) -> OdooFault:
    """KeyError: Python shows the key's repr, Odoo's JSON-RPC message is the bare key."""
    fault = python_error("KeyError", repr(key))
    fault.message = key
    return fault


def value_error(message: str) -> OdooFault:
    return python_error("ValueError", message)


def type_error(message: str) -> OdooFault:
    return python_error("TypeError", message)


def invalid_field(model: str, field: str, *, writing: bool = False) -> OdooFault:
    """An unknown field name (19: "on 'model'" when reading, "in 'model'" in create/write values)."""
    if major() >= 19:
        return value_error(f"Invalid field {field!r} {'in' if writing else 'on'} {model!r}")
    return value_error(f"Invalid field {field!r} on model {model!r}")


def invalid_domain_field(model: str, field: str, leaf: str) -> OdooFault:
    return value_error(f"Invalid field {model}.{field} in {'condition' if major() >= 19 else 'leaf'} {leaf}")


def invalid_leaf(leaf: str) -> OdooFault:
    return value_error(f"Invalid operator in condition {leaf}" if major() >= 19 else f"Invalid leaf {leaf}")


def wrong_value(model: str, field: str, value: object) -> OdooFault:
    return value_error(f"Wrong value for {model}.{field}: {value!r}")


def unknown_method(model: str, method: str) -> OdooFault:
    if major() >= 18:
        return python_error("AttributeError", f"The method '{model}.{method}' does not exist")
    return python_error("AttributeError", f"The method '{method}' does not exist on the model '{model}'")


def unknown_database(db: str) -> OdooFault:
    return python_error("OperationalError", f'connection to server at "127.0.0.1", port 5432 failed: FATAL:  '
                        f'database "{db}" does not exist', module="psycopg2")


def database_unreachable() -> OdooFault:
    """What every call gets while Odoo runs but its PostgreSQL does not answer (down, restarting): the
    same psycopg2 fault as an unknown database (recorded), with the connection's own failure."""
    return python_error("OperationalError", 'connection to server at "127.0.0.1", port 5432 failed: Connection '
                        "refused\n\tIs the server running on that host and accepting TCP/IP connections?",
                        module="psycopg2")


def user_error(message: str) -> OdooFault:
    return OdooFault(2, message, name="odoo.exceptions.UserError", message=message)


def validation_error(message: str) -> OdooFault:
    return OdooFault(2, message, name="odoo.exceptions.ValidationError", message=message)


def recordset_repr(model: str, ids: Iterable[int]) -> str:
    ids = list(ids)
    return f"{model}({', '.join(str(i) for i in ids)}{',' if len(ids) == 1 else ''})"


def missing(model: str, ids: Iterable[int], uid: int) -> OdooFault:
    text = f"{MISSING}\n(Record: {recordset_repr(model, ids)}, User: {uid})"
    return OdooFault(2, text, name="odoo.exceptions.MissingError", message=text)


def mandatory_field(model: str, description: str, field: str, label: str) -> OdooFault:
    if major() >= 19:
        return validation_error(f"The operation cannot be completed: Missing required value for the field "
                                f"'{label}' ({field}).\nModel: '{description}' ({model})\n"
                                "- create/update: a mandatory field is not set\n"
                                "- delete: another model requires the record being deleted, you can archive it "
                                "instead\n")
    return validation_error(f"{MANDATORY}\nModel: {description} ({model})\nField: {label} ({field})\n")


def foreign_key(model: str, description: str, field: str, label: str = "") -> OdooFault:
    if major() >= 19:
        return validation_error("The operation cannot be completed: Another model is using the record you are "
                                f"trying to delete.\n\nThe troublemaker is: '{description}' ({model})\n"
                                f"Thanks to the following constraint: '{label or field}' ({field})\n"
                                "How about archiving the record instead?")
    table = model.replace(".", "_")
    return validation_error(f"{FOREIGN_KEY}\n\nModel: {description} ({model})\nConstraint: {table}_{field}_fkey\n")


def unknown_model(model: str) -> OdooFault:
    return user_error(f"Object {model} doesn't exist")


def access_denied() -> OdooFault:
    return OdooFault(3, ACCESS_DENIED, name="odoo.exceptions.AccessDenied", message=ACCESS_DENIED)


def access_error(message: str) -> OdooFault:
    return OdooFault(4, message, name="odoo.exceptions.AccessError", message=message)


def rule_denied(user_name: str, uid: int, operation: str, model: str, description: str) -> OdooFault:
    return access_error(f"{RULE_HEAD}\n\nSorry, {user_name} (id={uid}) doesn't have '{operation}' access to:\n"
                        f"- {description} ({model})\n\n{RULE_TAIL}")


_ACL_VERBS = MappingProxyType({"create": "create", "write": "modify", "unlink": "delete", "read": "access"})


def acl_denied(operation: str, model: str, description: str, groups: Iterable[str] = ()) -> OdooFault:
    text = f"You are not allowed to {_ACL_VERBS[operation]} '{description}' ({model}) records."
    groups = list(groups)
    if groups:
        text += "\n\nThis operation is allowed for the following groups:\n" + "".join(f"\t- {g}\n" for g in groups)
    else:
        text += "\n\nNo group currently allows this operation.\n"
    return access_error(text + "\nContact your administrator to request access if necessary.")


def message_create_denied(message_id: int, uid: int) -> OdooFault:
    head = f"{SECURITY_RESTRICTIONS}\n\n(Document type: Message, Operation: create)"
    if major() >= 19:
        return access_error(f"{head}\n\nRecords: {message_id}, User: {uid}\n")
    if major() >= 18:
        return access_error(f"{head}\n\nRecords: [{message_id}], User: {uid}\n")
    return access_error(f"{head} - (Records: [{message_id}], User: {uid})")


def field_group_denied(model: str, description: str, uid: int, field: str, group: str) -> OdooFault:
    if major() >= 19:  # one field, its group without the category
        return access_error(f'You do not have enough rights to access the field "{field}" on {description} '
                            f"({model}). Please contact your system administrator.\n\nOperation: read\n"
                            f"User: {uid}\nGroups: allowed for groups '{group.rpartition(' / ')[2]}'\n")
    if major() >= 18:
        return access_error(f'You do not have enough rights to access the fields "{field}" on {description} '
                            f"({model}). Please contact your system administrator.\n\nOperation: read\n"
                            f"User: {uid}\nFields:\n- {field} (allowed for groups '{group}')\n")
    return access_error("The requested operation can not be completed due to security restrictions.\n\n"
                        f"Document type: {description} ({model})\nOperation: read\nUser: {uid}\nFields:\n"
                        f"- {field} (allowed for groups '{group}')")


def private_method(method: str, model: str = "") -> OdooFault:
    name = f"'{model}.{method}'" if model and major() >= 18 else method
    return access_error(f"Private methods (such as {name}) cannot be called remotely.")
