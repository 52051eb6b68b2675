"""Async clients for Odoo's external APIs: XML-RPC, JSON-RPC and JSON-2 (Odoo 19+).

All three speak over one shared `aiohttp.ClientSession` owned by the caller and expose the same
`OdooTransport` protocol (`version`, `authenticate`, `execute_kw`). Every failure becomes one
of the domain errors in `bot.odoo.errors`. The secret (API key or password) is never logged:
it travels inside the call arguments, so only the model and method are logged.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import re
import time
import xmlrpc.client
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal, Protocol
from xml.parsers.expat import ExpatError

import aiohttp

from bot.odoo.breaker import CircuitBreaker
from bot.odoo.errors import (
    OdooAccessDenied,
    OdooError,
    OdooProgrammingError,
    OdooUnavailable,
    error_from_fault,
    error_from_json,
    is_none_marshal_fault,
)

logger = logging.getLogger(__name__)

Protocols = Literal["xmlrpc", "jsonrpc", "json2"]


@dataclass(frozen=True)
class OdooCredentials:
    url: str
    db: str
    login: str
    secret: str = field(repr=False)  # API key (or the password on old servers); never logged


class OdooTransport(Protocol):
    protocol: str

    async def version(self) -> dict[str, Any]: ...

    async def authenticate(self) -> int: ...

    async def execute_kw(self, model: str, method: str, args: list[Any],
                         kwargs: dict[str, Any] | None = None) -> Any: ...


@dataclass(frozen=True)
class _Reply:
    status: int
    content_type: str
    body: bytes


class _HttpTransport:
    """Shared plumbing: one POST with a timeout, network failures mapped to OdooUnavailable."""

    protocol = "http"

    def __init__(self, session: aiohttp.ClientSession, creds: OdooCredentials, *, timeout: float,
                 breaker: CircuitBreaker | None = None) -> None:
        self._session = session
        self._creds = creds
        self._base = creds.url.rstrip("/")
        self._timeout = timeout
        self._uid: int | None = None
        self.breaker = breaker or CircuitBreaker()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self._base} db={self._creds.db!r} login={self._creds.login!r}>"

    async def _request(self, method: str, path: str, *, data: bytes | None = None,
                       headers: dict[str, str] | None = None) -> _Reply:
        url = self._base + path
        try:
            async with asyncio.timeout(self._timeout):
                async with self._session.request(method, url, data=data, headers=headers) as response:
                    body = await response.read()
                    return _Reply(response.status, response.headers.get("Content-Type", ""), body)
        except TimeoutError as error:
            raise OdooUnavailable(f"Odoo did not answer within {self._timeout:g}s ({path})") from error
        except aiohttp.ClientError as error:
            raise OdooUnavailable(f"cannot reach Odoo at {self._base}: {error.__class__.__name__}") from error
        except OSError as error:
            raise OdooUnavailable(f"cannot reach Odoo at {self._base}: {error}") from error

    def _unavailable_status(self, reply: _Reply, path: str) -> OdooUnavailable:
        return OdooUnavailable(f"Odoo answered HTTP {reply.status} on {path}", code=reply.status)

    async def _timed(self, model: str, method: str, call: Any) -> Any:
        started = time.perf_counter()
        outcome = "ok"
        try:
            self.breaker.check()
        except OdooUnavailable:
            call.close()  # never started
            raise
        try:
            result = await call
        except OdooUnavailable as error:
            outcome = type(error).__name__
            self.breaker.failed()
            raise
        except OdooError as error:  # Odoo answered (with a refusal): it is up
            outcome = type(error).__name__
            self.breaker.succeeded()
            raise
        else:
            self.breaker.succeeded()
            return result
        finally:
            logger.debug("odoo %s %s.%s %s in %.1f ms", self.protocol, model, method, outcome,
                         (time.perf_counter() - started) * 1000)

    async def authenticate(self) -> int:
        raise NotImplementedError

    async def _uid_or_login(self) -> int:
        if self._uid is None:
            await self.authenticate()
        assert self._uid is not None
        return self._uid


# U+FFFE and U+FFFF in UTF-8. Odoo's XML-RPC leaves C0 control characters out of its answers but not these two,
# which XML cannot hold: one ticket whose name holds one (typed in the portal, sent by e-mail) would make every
# answer that includes it unreadable. Read them as U+FFFD, the replacement character.
_NOT_XML_CHARACTERS = re.compile(b"\xef\xbf[\xbe\xbf]")


def _xml_chars(body: bytes) -> bytes:
    return _NOT_XML_CHARACTERS.sub(b"\xef\xbf\xbd", body)


class XmlRpcTransport(_HttpTransport):
    protocol = "xmlrpc"

    async def _call(self, service: str, method: str, params: tuple[Any, ...]) -> Any:
        path = f"/xmlrpc/2/{service}"
        body = xmlrpc.client.dumps(params, method, allow_none=True).encode("utf-8")
        reply = await self._request("POST", path, data=body, headers={"Content-Type": "text/xml"})
        if reply.status >= 500:
            raise self._unavailable_status(reply, path)
        try:
            (result,), _ = xmlrpc.client.loads(_xml_chars(reply.body), use_builtin_types=True)
        except xmlrpc.client.Fault as fault:
            if is_none_marshal_fault(fault.faultCode, fault.faultString):
                return None
            raise error_from_fault(fault.faultCode, fault.faultString) from None
        except (ExpatError, xmlrpc.client.ResponseError, ValueError) as error:
            raise OdooUnavailable(f"Odoo answered HTTP {reply.status} with a body that is not XML-RPC on {path}",
                                  code=reply.status) from error
        return result

    async def version(self) -> dict[str, Any]:
        return await self._timed("common", "version", self._call("common", "version", ()))

    async def authenticate(self) -> int:
        c = self._creds
        uid = await self._timed("common", "authenticate",
                                self._call("common", "authenticate", (c.db, c.login, c.secret, {})))
        self._uid = _uid_or_denied(uid, c)
        return self._uid

    async def execute_kw(self, model: str, method: str, args: list[Any],
                         kwargs: dict[str, Any] | None = None) -> Any:
        uid = await self._uid_or_login()
        params = (self._creds.db, uid, self._creds.secret, model, method, list(args), kwargs or {})
        return await self._timed(model, method, self._call("object", "execute_kw", params))


class JsonRpcTransport(_HttpTransport):
    protocol = "jsonrpc"

    def __init__(self, session: aiohttp.ClientSession, creds: OdooCredentials, *, timeout: float,
                 breaker: CircuitBreaker | None = None) -> None:
        super().__init__(session, creds, timeout=timeout, breaker=breaker)
        self._ids = itertools.count(1)

    async def _call(self, service: str, method: str, args: list[Any]) -> Any:
        payload = {"jsonrpc": "2.0", "method": "call",
                   "params": {"service": service, "method": method, "args": args}, "id": next(self._ids)}
        reply = await self._request("POST", "/jsonrpc", data=json.dumps(payload).encode("utf-8"),
                                    headers={"Content-Type": "application/json"})
        if reply.status >= 500:
            raise self._unavailable_status(reply, "/jsonrpc")
        answer = _json_or_none(reply.body)
        if not isinstance(answer, dict) or answer.get("jsonrpc") != "2.0":
            raise OdooUnavailable(f"Odoo answered HTTP {reply.status} with a body that is not JSON-RPC on /jsonrpc",
                                  code=reply.status)
        if "error" in answer:
            error = answer["error"] if isinstance(answer["error"], dict) else {}
            data = error.get("data")
            raise error_from_json(data if isinstance(data, dict) else {"message": error.get("message")},
                                  code=error.get("code"))
        return answer.get("result")  # a method returning None sends no "result" member at all

    async def version(self) -> dict[str, Any]:
        return await self._timed("common", "version", self._call("common", "version", []))

    async def authenticate(self) -> int:
        c = self._creds
        uid = await self._timed("common", "authenticate",
                                self._call("common", "authenticate", [c.db, c.login, c.secret, {}]))
        self._uid = _uid_or_denied(uid, c)
        return self._uid

    async def execute_kw(self, model: str, method: str, args: list[Any],
                         kwargs: dict[str, Any] | None = None) -> Any:
        uid = await self._uid_or_login()
        params = [self._creds.db, uid, self._creds.secret, model, method, list(args), kwargs or {}]
        return await self._timed(model, method, self._call("object", "execute_kw", params))


# JSON-2 takes named arguments only: the names of execute_kw's positional arguments, per method.
POSITIONAL_NAMES: Mapping[str, tuple[str, ...]] = MappingProxyType({
    "create": ("vals_list",),
    "write": ("vals",),
    "read": ("fields", "load"),
    "search": ("domain", "offset", "limit", "order"),
    "search_read": ("domain", "fields", "offset", "limit", "order"),
    "search_count": ("domain", "limit"),
    "name_search": ("name", "domain", "operator", "limit"),
    "name_create": ("name",),
    "find_or_create": ("email", "assert_valid_email"),
    "read_group": ("domain", "fields", "groupby", "offset", "limit", "orderby", "lazy"),
    "fields_get": ("allfields", "attributes"),
    "default_get": ("fields_list",),
    "has_group": ("group_ext_id",),
    "check_access_rights": ("operation", "raise_exception"),
})
# Methods called on the model itself; every other method gets its first positional arg as `ids`.
MODEL_METHODS = frozenset({"create", "search", "search_read", "search_count", "name_search", "name_create",
                           "find_or_create", "read_group", "fields_get", "default_get", "check_access_rights"})


def json2_body(method: str, args: list[Any], kwargs: dict[str, Any] | None) -> dict[str, Any]:
    """Turn execute_kw's positional/keyword arguments into a JSON-2 body of named arguments."""
    positional = list(args)
    body: dict[str, Any] = {}
    if method not in MODEL_METHODS:
        if not positional:
            raise OdooProgrammingError(f"{method} is a record method: pass the record ids first")
        ids = positional.pop(0)
        body["ids"] = [ids] if isinstance(ids, int) else list(ids)
    names = POSITIONAL_NAMES.get(method, ())
    if len(positional) > len(names):
        raise OdooProgrammingError(
            f"cannot send positional arguments of {method} over JSON-2; pass them as keyword arguments")
    body.update(zip(names, positional, strict=False))
    body.update(kwargs or {})
    return body


class Json2Transport(_HttpTransport):
    protocol = "json2"
    # Odoo 19 answers the same 404 ("No database is selected") for a database that does not exist and for one whose
    # PostgreSQL refuses connections (a restart, a restore): measured on a real 19.0. Before the database ever
    # answered it is a wrong ODOO_DB; once it has, it is away for now.
    _database_answered = False

    def _headers(self) -> dict[str, str]:
        return {"Content-Type": "application/json", "Authorization": f"bearer {self._creds.secret}",
                "X-Odoo-Database": self._creds.db}

    async def _call(self, model: str, method: str, body: dict[str, Any]) -> Any:
        path = f"/json/2/{model}/{method}"
        reply = await self._request("POST", path, data=json.dumps(body).encode("utf-8"), headers=self._headers())
        answer = _json_or_none(reply.body)
        if reply.status >= 400:
            if isinstance(answer, dict) and answer.get("name"):
                raise error_from_json(answer, code=reply.status)
            if reply.status >= 500:
                raise self._unavailable_status(reply, path)
            if reply.status == 404 and b"No database is selected" in reply.body and self._database_answered:
                raise OdooUnavailable(f"Odoo cannot open its database {self._creds.db!r} (it could before)",
                                      code=reply.status)
            if reply.status == 404 and b"No database is selected" in reply.body:
                raise OdooAccessDenied(f"Odoo has no database {self._creds.db!r} (or its dbfilter hides it): check "
                                       "ODOO_DB", code=reply.status)
            if reply.status == 404:  # werkzeug's page: no /json/2 route at all
                raise OdooProgrammingError("this Odoo has no JSON-2 (Odoo 19 and later have it): set ODOO_PROTOCOL to "
                                           "xmlrpc or jsonrpc", code=reply.status)
            raise OdooUnavailable(f"Odoo answered HTTP {reply.status} without an Odoo error on {path}",
                                  code=reply.status)
        if answer is None and reply.body.strip() not in (b"null", b""):
            raise OdooUnavailable(f"Odoo answered a body that is not JSON on {path}", code=reply.status)
        self._database_answered = True
        return answer

    async def version(self) -> dict[str, Any]:
        async def fetch() -> dict[str, Any]:
            reply = await self._request("GET", "/web/version")
            answer = _json_or_none(reply.body)
            if reply.status >= 400 or not isinstance(answer, dict):
                raise OdooUnavailable(f"Odoo answered HTTP {reply.status} on /web/version", code=reply.status)
            return {"server_version": answer.get("version"), "server_version_info": answer.get("version_info"),
                    **answer}
        return await self._timed("web", "version", fetch())

    async def authenticate(self) -> int:
        found = await self.execute_kw("res.users", "search", [[["login", "=", self._creds.login]]], {"limit": 1})
        if not found:
            raise OdooAccessDenied(f"the API key does not belong to an Odoo user with login {self._creds.login!r}")
        self._uid = int(found[0])
        return self._uid

    async def execute_kw(self, model: str, method: str, args: list[Any],
                         kwargs: dict[str, Any] | None = None) -> Any:
        body = json2_body(method, args, kwargs)
        result = await self._timed(model, method, self._call(model, method, body))
        if method == "create" and args and isinstance(args[0], dict) and isinstance(result, list) and len(result) == 1:
            return result[0]  # create(dict) answers an int over XML-RPC/JSON-RPC: keep that shape
        return result


def _json_or_none(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None


def _uid_or_denied(uid: Any, creds: OdooCredentials) -> int:
    if isinstance(uid, bool) or not isinstance(uid, int) or uid <= 0:
        raise OdooAccessDenied(f"Odoo refused the login {creds.login!r} on database {creds.db!r}")
    return uid


_TRANSPORTS: Mapping[str, type[XmlRpcTransport | JsonRpcTransport | Json2Transport]] = MappingProxyType({
    "xmlrpc": XmlRpcTransport, "jsonrpc": JsonRpcTransport, "json2": Json2Transport,
})


def make_transport(protocol: Protocols, session: aiohttp.ClientSession, creds: OdooCredentials, *,
                   timeout: float = 30.0, breaker: CircuitBreaker | None = None) -> OdooTransport:
    try:
        cls = _TRANSPORTS[protocol]
    except KeyError:
        raise ValueError(f"unknown Odoo protocol {protocol!r}; use one of {', '.join(_TRANSPORTS)}") from None
    return cls(session, creds, timeout=timeout, breaker=breaker)
