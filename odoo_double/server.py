"""The sandbox over real HTTP, speaking Odoo's wire formats.

- XML-RPC: POST /xmlrpc/2/common, /xmlrpc/2/object, /xmlrpc/2/db (faults as Odoo sends them;
  a None or recordset result faults AFTER the call committed, as recorded).
- JSON-RPC: POST /jsonrpc (always HTTP 200; error objects with code 200 "Odoo Server Error", 0 on 19;
  a None result means no "result" member; a wrong Content-Type gets Odoo's 400 HTML page, 415 on 19).
- JSON-2 (Odoo 19 style): POST /json/2/{model}/{method} with a bearer API key.
- GET /web/version.
Every response says `Connection: close`, like Odoo 17's werkzeug server.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import xmlrpc.client
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from odoo_double import faults
from odoo_double.orm import Recordset
from odoo_double.sandbox import OdooSandbox

logger = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
SANDBOX_KEY: web.AppKey[OdooSandbox] = web.AppKey("odoo_sandbox", OdooSandbox)
SERVER_HEADER = "Werkzeug/2.2.2 Python/3.11.7"
WRONG_JSON_TYPE_PAGE = ("<!doctype html>\n<html lang=en>\n<title>400 Bad Request</title>\n<h1>Bad Request</h1>\n"
                        "<p>Request inferred type is compatible with [&#39;http&#39;] but &#39;/jsonrpc&#39; is "
                        "type=&#39;json&#39;.</p>\n")
WRONG_JSON_TYPE_PAGE_19 = ("<!doctype html>\n<html lang=en>\n<title>415 Unsupported Media Type</title>\n"
                           "<h1>Unsupported Media Type</h1>\n<p>Request inferred type is compatible with "
                           "[&#39;http&#39;] but &#39;/jsonrpc&#39; is type=&#39;jsonrpc&#39;.<br><br>Please verify "
                           "the Content-Type request header and try again.</p>\n")
ERROR_PAGES = {  # werkzeug's pages, as Odoo (or the gateway in front of it) sends them
    500: ("Internal Server Error", "The server encountered an internal error and was unable to complete your request. "
          "Either the server is overloaded or there is an error in the application."),
    502: ("Bad Gateway", "The proxy server received an invalid response from an upstream server."),
    503: ("Service Unavailable", "The server is temporarily unable to service your request due to maintenance "
          "downtime or capacity problems. Please try again later."),
    504: ("Gateway Timeout", "The connection to an upstream server timed out."),
}
UNAVAILABLE_PAGE = ("<html><head><title>503 Service Unavailable</title></head><body>"
                    "<h1>503 Service Unavailable</h1><p>Odoo is not running.</p></body></html>")


def dispatch(sb: OdooSandbox, service: str, method: str, params: list[Any]) -> Any:
    """The RPC services of /xmlrpc/2/<service> and /jsonrpc (raises OdooFault)."""
    if service == "common":
        if method == "version":
            return sb.version()
        if method == "about":
            return "See http://openerp.com"
        if method == "authenticate":
            if len(params) < 4:
                raise faults.type_error("exp_authenticate() missing 1 required positional argument: 'user_agent_env'")
            return sb.authenticate(*params[:3])
        if method == "login":
            if len(params) < 3:
                raise faults.type_error("exp_login() missing 1 required positional argument: 'password'")
            return sb.authenticate(*params[:3])
        raise faults.python_error("AttributeError", f"module 'odoo.service.common' has no attribute 'exp_{method}'")
    if service == "db":
        if method == "list":
            return [sb.db]
        if method == "server_version":
            return sb.version()["server_version"]
        raise faults.key_error(method)
    if service == "object":
        if method == "execute_kw":
            if len(params) < 5:
                raise faults.type_error("execute_kw() missing required positional arguments")
            db, uid, secret, model, name, *rest = params
            return for_series(sb, name, sb.execute_kw(db, uid, secret, model, name, rest[0] if rest else [],
                                                      rest[1] if len(rest) > 1 else None))
        if method == "execute":
            db, uid, secret, model, name, *rest = params
            return sb.execute_kw(db, uid, secret, model, name, rest, None)
        raise faults.python_error("AttributeError", f"module 'odoo.service.model' has no attribute 'exp_{method}'")
    raise faults.key_error(service)


def _headers(response: web.StreamResponse) -> web.StreamResponse:
    response.headers["Server"] = SERVER_HEADER
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Connection"] = "close"
    response.force_close()
    return response


@web.middleware
async def _odoo_front(request: web.Request, handler: Handler) -> web.StreamResponse:
    sb = request.app[SANDBOX_KEY]
    sb.requests += 1
    await request.read()  # the whole request first, like Odoo's server: it acts even if the client left meanwhile
    if sb.latency:
        await asyncio.sleep(sb.latency)
    if sb.down:
        return _headers(web.Response(status=503, text=UNAVAILABLE_PAGE, content_type="text/html"))
    if sb.failing_status:
        title, said = ERROR_PAGES.get(sb.failing_status, ("Error", ""))
        page = (f"<!doctype html>\n<html lang=en>\n<title>{sb.failing_status} {title}</title>\n<h1>{title}</h1>\n"
                f"<p>{said}</p>\n")
        return _headers(web.Response(status=sb.failing_status, text=page, content_type="text/html"))
    try:
        response = await handler(request)
    except web.HTTPException as error:
        response = error
    return _headers(response)


# ---- XML-RPC ------------------------------------------------------------------------------------------

def _xml(body: str) -> web.Response:
    return web.Response(body=body.encode("utf-8"), content_type="text/xml", charset="utf-8")


def _fault_text(fault: xmlrpc.client.Fault) -> str:
    return xmlrpc.client.dumps(xmlrpc.client.Fault(fault.faultCode, fault.faultString), methodresponse=True)


RETURNS_RECORDS = frozenset({"message_post", "find_or_create"})  # methods returning a recordset in Odoo


def for_series(sb: OdooSandbox, method: str, result: Any) -> Any:
    """19 marshals recordsets as lists of ids over XML-RPC and JSON-RPC (up to 18: a fault, or the repr)."""
    if sb.series < "19":
        return result
    if isinstance(result, Recordset):
        return list(result.ids)
    if method in RETURNS_RECORDS and isinstance(result, int) and not isinstance(result, bool):
        return [result]
    return result


# C0 control characters but tab and line breaks: XML 1.0 cannot carry them, and Odoo's XML-RPC leaves them out of
# what it answers (a name holding U+0014 is read back without it; JSON-RPC keeps it). U+FFFE and U+FFFF, which XML
# cannot carry either, Odoo 17 sends as they are (an answer no XML parser reads): so does the double.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _xml_text(value: Any) -> Any:
    if isinstance(value, str):
        return _NOT_XML.sub("", value)
    if isinstance(value, dict):
        return {key: _xml_text(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_xml_text(item) for item in value]
    return value


def marshal_xmlrpc(result: Any) -> str:
    """Odoo marshals with allow_none=False: None and recordsets fault (after the commit)."""
    if isinstance(result, Recordset):
        raise faults.type_error(f"cannot marshal <class 'odoo.api.{result.model}'> objects")
    try:
        return xmlrpc.client.dumps((_xml_text(result),), methodresponse=True, allow_none=False)
    except (TypeError, OverflowError) as error:
        raise faults.python_error(type(error).__name__, str(error)) from error


def xmlrpc_answer(sb: OdooSandbox, service: str, body: bytes) -> str:
    """What /xmlrpc/2/<service> answers to a request body: the result, or the fault, as XML-RPC."""
    try:
        params, method = xmlrpc.client.loads(body, use_builtin_types=True)
    except Exception as error:  # any parse failure becomes a fault, as in Odoo
        return _fault_text(faults.python_error(type(error).__name__, str(error)))
    try:
        return marshal_xmlrpc(dispatch(sb, service, method or "", list(params)))
    except xmlrpc.client.Fault as fault:
        return _fault_text(fault)


async def xmlrpc_endpoint(request: web.Request) -> web.Response:
    return _xml(xmlrpc_answer(request.app[SANDBOX_KEY], request.match_info["service"], await request.read()))


# ---- JSON-RPC -----------------------------------------------------------------------------------------

def _debug(fault: faults.OdooFault, series: str = "17.0") -> str:
    if fault.name == "odoo.exceptions.AccessDenied" and series >= "19":  # 19 sends no traceback for it
        return f"{fault.name}: {fault.message}\n"
    if fault.faultCode == 1:
        return str(fault.faultString)
    return f"{faults.TRACEBACK_HEAD}\n  File \"<sandbox>/odoo_double\", line 1, in dispatch\n" \
           f"{fault.name}: {fault.message}\n"


def _error_data(fault: faults.OdooFault, series: str = "17.0") -> dict[str, Any]:
    if series >= "19":
        return {"name": fault.name, "message": fault.message, "arguments": [fault.message], "context": {},
                "debug": _debug(fault, series)}
    return {"name": fault.name, "debug": _debug(fault), "message": fault.message, "arguments": [fault.message],
            "context": {}}


def _json(payload: Any, status: int = 200) -> web.Response:
    return web.Response(body=json.dumps(payload).encode("utf-8"), status=status, content_type="application/json",
                        charset="utf-8")


async def jsonrpc_endpoint(request: web.Request) -> web.Response:
    sb = request.app[SANDBOX_KEY]
    if "json" not in request.content_type:
        if sb.series >= "19":
            return web.Response(status=415, text=WRONG_JSON_TYPE_PAGE_19, content_type="text/html")
        return web.Response(status=400, text=WRONG_JSON_TYPE_PAGE, content_type="text/html")
    try:
        payload = json.loads(await request.read())
        params = payload["params"]
        service, method, args = params["service"], params["method"], list(params.get("args") or [])
    except (ValueError, KeyError, TypeError):
        return web.Response(status=400, text="<!doctype html>\n<title>400 Bad Request</title>\n"
                            "<h1>Bad Request</h1>\n<p>Invalid JSON-RPC request</p>\n", content_type="text/html")
    request_id = payload.get("id") if isinstance(payload, dict) else None
    answer: dict[str, Any] = {"jsonrpc": "2.0", "id": request_id}
    try:
        result = dispatch(sb, str(service), str(method), args)
    except faults.OdooFault as fault:
        # 19 says code 0 (up to 18: 200)
        answer["error"] = {"code": 0 if sb.series >= "19" else 200, "message": "Odoo Server Error",
                           "data": _error_data(fault, sb.series)}
        return _json(answer)
    if isinstance(result, Recordset):
        answer["result"] = repr(result)
    elif result is not None:
        answer["result"] = result
    return _json(answer)


# ---- JSON-2 -------------------------------------------------------------------------------------------

NOT_FOUND_PAGE = ("<!doctype html>\n<html lang=en>\n<title>404 Not Found</title>\n<h1>Not Found</h1>\n<p>The "
                  "requested URL was not found on the server. If you entered the URL manually please check your "
                  "spelling and try again.</p>\n")
NO_DATABASE_PAGE = ("<!DOCTYPE html>\n<title>404 Not Found</title>\n<h1>Not Found</h1>\n<p>No database is selected and "
                    "the requested URL was not found in the server-wide controllers.</p>\n<p>Please verify the "
                    "hostname, <a href=/web/login>login</a> and try again.</p>\n\n<!-- Alternatively, use the "
                    "X-Odoo-Database header. -->\n")
WERKZEUG_REASONS = {401: "Unauthorized", 404: "Not Found", 422: "Unprocessable Entity"}


def _json2_error(fault: faults.OdooFault, status: int | None = None) -> web.Response:
    """Odoo 19's JSON-2 error body: name, message, arguments, context, debug."""
    return _json(_error_data(fault, "19.0"), status=status or fault.json_status)


def _werkzeug_error(status: int, message: str) -> web.Response:
    """A werkzeug HTTPException raised by the JSON-2 controller: its arguments carry the status too."""
    name = "werkzeug.exceptions." + WERKZEUG_REASONS[status].replace(" ", "")
    debug = (f"{faults.TRACEBACK_HEAD}\n  File \"<sandbox>/odoo_double\", line 1, in web_json_2_rpc\n"
             f"{name}: {status} {WERKZEUG_REASONS[status]}: {message}\n")
    return _json({"name": name, "message": message, "arguments": [message, status], "context": {}, "debug": debug},
                 status=status)


MISSING_ARGUMENT = re.compile(r"missing \d+ required positional argument: '(?P<name>\w+)'")


async def json2_endpoint(request: web.Request) -> web.Response:
    """POST /json/2/<model>/<method>, as Odoo 19 answers it (statuses and error bodies as recorded)."""
    sb = request.app[SANDBOX_KEY]
    if sb.series < "19":  # Odoo 17 and 18 have no JSON-2: werkzeug's own page
        return web.Response(status=404, text=NOT_FOUND_PAGE, content_type="text/html")
    database = request.headers.get("X-Odoo-Database")
    # a real 19.0 gives the same page for a database its PostgreSQL refuses (measured: ALLOW_CONNECTIONS false)
    if (database and database != sb.db) or sb.database_down:
        return web.Response(status=404, text=NO_DATABASE_PAGE, content_type="text/html")
    scheme, _, key = request.headers.get("Authorization", "").partition(" ")
    uid = sb.uid_for_api_key(key.strip()) if scheme.lower() == "bearer" else None
    if uid is None:
        return _werkzeug_error(401, "Invalid apikey")
    try:
        body = json.loads(await request.read() or b"{}")
    except ValueError:
        body = None
    if not isinstance(body, dict):
        return _json2_error(faults.OdooFault(1, "the body must be a JSON object", name="werkzeug.exceptions.BadRequest",
                                             message="the body must be a JSON object"), 400)
    model, method = request.match_info["model"], request.match_info["method"]
    if model not in sb.store.models:
        return _werkzeug_error(404, f"the model '{model}' does not exist")
    if not method.startswith("_") and not sb.has_method(model, method):
        return _werkzeug_error(404, f"The method '{model}.{method}' does not exist")
    if not sb.is_record_method(model, method):
        body.pop("ids", None)
    try:
        result = sb.call(uid, model, method, [], body)
    except faults.OdooFault as fault:
        missing = MISSING_ARGUMENT.search(fault.message) if fault.name == "builtins.TypeError" else None
        if missing:
            return _werkzeug_error(422, f"missing a required argument: '{missing.group('name')}'")
        return _json2_error(fault)
    if isinstance(result, Recordset):
        result = list(result.ids)
    elif (method == "create" or method in RETURNS_RECORDS) and isinstance(result, int) \
            and not isinstance(result, bool):
        result = [result]
    return _json(result)


async def web_version(request: web.Request) -> web.Response:
    info = request.app[SANDBOX_KEY].version()
    return _json({"version_info": info["server_version_info"], "version": info["server_version"]})


def create_sandbox_app(sb: OdooSandbox) -> web.Application:
    app = web.Application(middlewares=[_odoo_front])
    app[SANDBOX_KEY] = sb
    app.router.add_post("/xmlrpc/2/{service}", xmlrpc_endpoint)
    app.router.add_post("/jsonrpc", jsonrpc_endpoint)
    app.router.add_post("/json/2/{model}/{method}", json2_endpoint)
    app.router.add_get("/web/version", web_version)
    return app
