"""Record the project's Odoo contract from real servers: tests/contract/odoo-<series>/.

    .venv/bin/python tools/record_contract.py 17.0 18.0 19.0     # default: the three
    .venv/bin/python tools/record_contract.py --source DIR 19.0  # replay the requests of another recording

For each series it starts a throwaway real Odoo (tools/real_odoo.py's cached venv and template databases, copied to
two fresh databases `contract_<kind>_<major>_<tag>`, no `setup-odoo`: the recording starts from the modules as
installed), replays every recorded request of the source recording (tests/contract/odoo-17.0 by default) in order,
translating ids, ticket numbers and datetimes as tests/odoo_contract.py's Replayer does (learned from the answers),
and writes what the server answered in the same format: requests as sent and answers as received, faults included.
Secrets are written as "<secret>" (`secret_placeholders` says which); the database names as the recording's
(`helpdesk`, `projects`). The written files are checked for the API key before they are kept.

Where a request cannot apply to a series (19: `res.users.groups_id`), what the series answers is recorded and then
the request the bot sends instead (19: `group_ids` to set groups, `all_group_ids` to read or search them), as an
extra entry `<id>__<series>`. On 19 the story's calls are also recorded over JSON-2 (json2.json). `xmlids.json`
holds the ids of the records the requests name by id without creating them (groups, subtypes, activity types,
ir.model), so a replay can map them to its own database. Differences from the source's answers are printed and
written to `tests/contract/odoo-<series>/differences.txt` (informational: the recording is what the series says).
"""

from __future__ import annotations

import argparse
import copy
import http.client
import json
import subprocess
import sys
import time
import xmlrpc.client
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tools"))

import real_odoo as ro  # noqa: E402

from bot.odoo.transport import json2_body  # noqa: E402
from tests.odoo_contract import Replayer  # noqa: E402

CONTRACT = ROOT / "tests" / "contract"
# replayed in this order, one database state per series (the same order tests/test_odoo_contract.py replays in)
FILES = ("common.json", "fields_get_helpdesk.json", "fields_get_base_mail.json", "fields_get_project.json",
         "ticket_story.json", "errors.json", "jsonrpc.json", "project_task.json", "reference_data.json")
COPIED = ("timing.json",)  # measured once on 17, not re-recorded
TEST_USER_PASSWORD = "test-user-password"
PASSWORD = "admin"
# recorded ids the requests use without having read them first: what they stand for
SEED_GROUPS = {1: "base.group_user", 10: "base.group_portal"}
SEED_MODELS = {346: "helpdesk.ticket", 85: "res.partner"}
IDS_MODELS = {  # the `ids` block of each file: key -> model
    "team": "helpdesk.ticket.team", "tags": "helpdesk.ticket.tag", "category": "helpdesk.ticket.category",
    "partner": "res.partner", "ticket": "helpdesk.ticket", "ticket2": "helpdesk.ticket",
    "portal_ticket": "helpdesk.ticket", "note_msg": "mail.message", "customer_msg": "mail.message",
    "internal_user_uid": "res.users", "portal_user_uid": "res.users", "project": "project.project",
    "stages": "project.task.type", "task": "project.task", "task2": "project.task",
}


class RealField:
    def __init__(self, name: str, info: dict[str, Any]) -> None:
        self.name = name
        self.type = info.get("type")
        self.relation = info.get("relation")


class Server:
    """A throwaway real Odoo of one series with two fresh databases."""

    def __init__(self, series: str) -> None:
        self.series = series
        self.major = int(ro.short(series))
        self.pg = ro.postgres()
        src = ro.source(series)
        env_path = ro.venv(src)
        self.here = ro.state_dir(series) / "contract"
        self.here.mkdir(parents=True, exist_ok=True)
        tag = ro.sha(str(ROOT).encode(), 6)
        self.dbs = {kind: f"contract_{kind}_{ro.short(series)}_{tag}" for kind in ro.MODULES}
        with ro.locked(ro.CACHE / f"{series}.lock"):
            tmpl = ro.template(src, env_path, self.pg, {})
            self.pg.drop(*self.dbs.values())
            for kind, db in self.dbs.items():
                self.pg.copy(tmpl.dbs[kind], db)
                ro.copy_filestore(tmpl.data_dir / "filestore" / tmpl.dbs[kind],
                                  self.here / "data" / "filestore" / db)
        self.api_key = tmpl.api_key
        port = ro.free_port()
        conf = self.here / "odoo.conf"
        conf.write_text(ro.odoo_conf(src, env_path, self.pg, list(self.dbs.values()), self.here / "data", port=port,
                                     logfile=self.here / "odoo.log"))
        self.process = subprocess.Popen([*ro.odoo_bin(src, env_path), "-c", str(conf)], stdin=subprocess.DEVNULL,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                        start_new_session=True)
        self.url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120
        while not ro.answers(self.url, series):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"record-contract: {series}: the server did not start; see {self.here / 'odoo.log'}")
            time.sleep(0.3)
        ro.log(f"{series}: recording server at {self.url} (pid {self.process.pid})")

    def stop(self) -> None:
        ro.stop(self.process.pid)
        self.pg.drop(*self.dbs.values())

    def db(self, logical: str) -> str:
        return self.dbs["projects" if logical == "projects" else "helpdesk"] if logical in ("helpdesk", "projects") \
            else logical

    def logical(self, text: str) -> str:
        for kind, db in self.dbs.items():
            text = text.replace(db, kind)
        return text

    def secrets(self) -> dict[str, str]:
        return {"api_key": self.api_key, "password": PASSWORD, "test_user_password": TEST_USER_PASSWORD}

    def rpc(self, db: str, model: str, method: str, args: list[Any], kwargs: dict[str, Any] | None = None) -> Any:
        with xmlrpc.client.ServerProxy(f"{self.url}/xmlrpc/2/object", allow_none=True) as proxy:
            return proxy.execute_kw(self.db(db), 2, self.api_key, model, method, args, kwargs or {})


def post(url: str, path: str, body: bytes, headers: dict[str, str]) -> tuple[http.client.HTTPResponse, bytes]:
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=60)
    try:
        connection.request("POST", path, body, headers)
        response = connection.getresponse()
        return response, response.read()
    finally:
        connection.close()


class RealReplayer(Replayer):
    """The Replayer's id translation, with the real server's metadata (fields_get, ir.model, ir.model.fields)."""

    def __init__(self, server: Server, db: str) -> None:
        super().__init__(None, server.url)  # type: ignore[arg-type]
        self.server = server
        self.dbname = db
        self._fields: dict[str, dict[str, Any]] = {}

    def field(self, model: str, name: str) -> Any:
        if model not in self._fields:
            try:
                self._fields[model] = self.server.rpc(self.dbname, model, "fields_get", [],
                                                      {"attributes": ["type", "relation"]})
            except xmlrpc.client.Fault:
                self._fields[model] = {}
        info = self._fields[model].get(name)
        return RealField(name, info) if info else None

    def ir_model_name(self, actual_id: int) -> str | None:
        rows = self.server.rpc(self.dbname, "ir.model", "read", [[actual_id], ["model"]])
        return rows[0]["model"] if rows else None

    def ir_field(self, actual_id: int) -> tuple[str, str] | None:
        rows = self.server.rpc(self.dbname, "ir.model.fields", "read", [[actual_id], ["model", "name"]])
        return (rows[0]["model"], rows[0]["name"]) if rows else None

    def compare_result(self, model: str, method: str, recorded: Any, actual: Any, where: str,
                       loose: Any = None) -> None:
        # 19 answers message_post and find_or_create with [id] where 17 answered id: learn the id all the same
        if (method in ("message_post", "action_feedback", "find_or_create") and isinstance(recorded, int)
                and isinstance(actual, list) and len(actual) == 1):
            actual = actual[0]
        super().compare_result(model, method, recorded, actual, where, loose)


def seed(rp: RealReplayer, server: Server, db: str, source: Path) -> dict[str, dict[str, int]]:
    """Learn the recorded ids of records the requests name without creating them; the real ids by xmlid."""
    found: dict[str, dict[str, int]] = {"res.groups": {}, "ir.model": {}, "mail.message.subtype": {},
                                        "mail.activity.type": {}}

    def ref(xmlid: str) -> int | None:
        module, name = xmlid.split(".", 1)
        rows = server.rpc(db, "ir.model.data", "search_read", [[["module", "=", module], ["name", "=", name]]],
                          {"fields": ["res_id"]})
        return int(rows[0]["res_id"]) if rows else None

    for recorded, xmlid in SEED_GROUPS.items():
        real = ref(xmlid)
        if real:
            rp.learn("res.groups", recorded, real, "seed")
            found["res.groups"][xmlid] = real
    for recorded, name in SEED_MODELS.items():
        rows = server.rpc(db, "ir.model", "search", [[["model", "=", name]]])
        if rows:
            rp.learn("ir.model", recorded, rows[0], "seed")
            found["ir.model"][name] = rows[0]
    reference = json.loads((source / "reference_data.json").read_text())
    for entry in reference["entries"]:
        if entry["id"] in ("subtype_xmlids", "activity_type_xmlids") and entry["args"][0] == "helpdesk":
            model = "mail.message.subtype" if entry["id"] == "subtype_xmlids" else "mail.activity.type"
            for row in entry["result"]:
                xmlid = f"{row['module']}.{row['name']}"
                real = ref(xmlid)
                if real:
                    rp.learn(model, row["res_id"], real, "seed")
                    found[model][xmlid] = real
    return found


def bot_request(args: list[Any]) -> list[Any]:
    """execute_kw args on res.users as the bot sends them to 19: group_ids to set groups, all_group_ids to read or
    search them (groups_id is gone)."""
    name = '"group_ids"' if args[4] in ("create", "write") else '"all_group_ids"'
    return list(json.loads(json.dumps(args).replace('"groups_id"', name)))


def fault_record(fault: xmlrpc.client.Fault) -> dict[str, Any]:
    lines = fault.faultString.splitlines()
    nonempty = [line for line in lines if line.strip()]
    return {"faultCode": fault.faultCode, "faultString": "\n".join(lines[:30]) + ("\n" if len(lines) <= 30 else ""),
            "faultString_total_lines": len(lines), "faultString_truncated_to_first_30_lines": len(lines) > 30,
            "faultString_first_line": lines[0] if lines else "",
            "faultString_last_nonempty_line": nonempty[-1].strip() if nonempty else ""}


def result_type(value: Any) -> str:
    if isinstance(value, list):
        kinds = sorted({type(v).__name__ for v in value})
        return f"list[{'|'.join(kinds)}]" if kinds else "list"
    return type(value).__name__


class Recorder:
    def __init__(self, server: Server, source: Path) -> None:
        self.server = server
        self.source = source
        self.replayers = {db: RealReplayer(server, db) for db in ("helpdesk", "projects")}
        self.differences: list[str] = []
        self.xmlids = seed(self.replayers["helpdesk"], server, "helpdesk", source)
        self.json_id = 0

    # ---- XML-RPC --------------------------------------------------------------------------------------------------
    def xmlrpc(self, entry: dict[str, Any], rp: RealReplayer, args: list[Any]) -> dict[str, Any]:
        """Send `args` (translated, with placeholders) as the entry's call; the recorded entry."""
        kinds = list(entry.get("secret_placeholders") or [])
        pending = iter(kinds)
        secrets = self.server.secrets()

        def fill(item: Any) -> Any:
            if item == "<secret>":
                return secrets[next(pending)]
            if isinstance(item, list):
                return [fill(i) for i in item]
            if isinstance(item, dict):
                return {k: fill(v) for k, v in item.items()}
            return item
        sent = fill(args)
        if entry["service"] in ("object", "common") and sent and isinstance(sent[0], str):
            sent[0] = self.server.db(sent[0])
        body = xmlrpc.client.dumps(tuple(sent), entry["method"], allow_none=True)
        started = time.monotonic()
        response, raw = post(self.server.url, entry["endpoint"], body.encode("utf-8"), {"Content-Type": "text/xml"})
        elapsed = round((time.monotonic() - started) * 1000, 1)
        out = {k: v for k, v in entry.items() if k not in ("result", "result_type", "fault", "raw_http", "elapsed_ms")}
        out["args"] = args
        try:
            (value,), _ = xmlrpc.client.loads(raw, use_builtin_types=True)
            out["result"] = value
            out["result_type"] = result_type(value)
        except xmlrpc.client.Fault as fault:
            out["fault"] = fault_record(fault)
        out["elapsed_ms"] = elapsed
        if "raw_http" in entry:
            shown = xmlrpc.client.dumps(tuple(args), entry["method"], allow_none=True)
            out["raw_http"] = {"request_line": f"POST {entry['endpoint']} HTTP/1.1", "request_content_type": "text/xml",
                               "request_body": shown, "response_status": response.status,
                               "response_headers": {"Content-Type": response.getheader("Content-Type"),
                                                    "Content-Length": response.getheader("Content-Length")},
                               "response_body": raw.decode("utf-8")}
        return out

    def play_xmlrpc(self, name: str, entry: dict[str, Any]) -> list[dict[str, Any]]:
        args = entry["args"]
        db = args[0] if entry["service"] == "object" else (args[0] if args else "helpdesk")
        rp = self.replayers["projects" if db == "projects" else "helpdesk"]
        rp.problems = []
        if entry["service"] == "object":
            model, method = args[3], args[4]
            translated = rp.execute_kw_params(args)
        else:
            model, method = "common", entry["method"]
            translated = list(args)
        recorded = self.xmlrpc(entry, rp, translated)
        written = [recorded]
        self.learn(name, entry, recorded, rp, model, method)
        adapted = self.adapt(entry, translated, recorded)
        if adapted is not None:
            extra = self.xmlrpc({**entry, "id": f"{entry['id']}__{self.server.series}",
                                 "title": f"{entry['title']} (as the bot asks on {self.server.series}: "
                                          "group_ids to set, all_group_ids to read or search)"}, rp, adapted)
            rp.problems = []
            as_before = json.loads(json.dumps(extra).replace('"all_group_ids"', '"groups_id"')
                                   .replace('"group_ids"', '"groups_id"'))
            self.learn(name, entry, as_before, rp, model, method)
            written.append(extra)
        return written

    def learn(self, name: str, entry: dict[str, Any], recorded: dict[str, Any], rp: RealReplayer, model: str,
              method: str) -> None:
        where = f"{name}:{recorded['id']}"
        if "fault" in entry and "fault" in recorded:
            before, now = entry["fault"], recorded["fault"]
            if before["faultCode"] != now["faultCode"] or not rp.matches_text(
                    before["faultString_last_nonempty_line"], now["faultString_last_nonempty_line"]):
                last, source_last = now["faultString_last_nonempty_line"], before["faultString_last_nonempty_line"]
                self.differences.append(f"{where}: fault {now['faultCode']} {last!r} "
                                        f"(source: {before['faultCode']} {source_last!r})")
        elif "fault" in entry:
            self.differences.append(f"{where}: no fault (source: {entry['fault']['faultString_last_nonempty_line']!r})"
                                    f", answers {json.dumps(recorded.get('result'))[:200]}")
        elif "fault" in recorded:
            self.differences.append(f"{where}: fault {recorded['fault']['faultCode']} "
                                    f"{recorded['fault']['faultString_last_nonempty_line']!r}")
        else:
            try:
                rp.compare_result(model, method, entry["result"], recorded["result"], entry["id"])
            except Exception as error:  # a difference to report, not a crash
                rp.problems.append(f"{entry['id']}: {type(error).__name__}: {error}")
            self.differences.extend(f"{name}: {p}" for p in rp.problems)
        rp.problems = []

    def adapt(self, entry: dict[str, Any], args: list[Any], recorded: dict[str, Any]) -> list[Any] | None:
        """The request the bot sends instead on this series, where the recorded one cannot apply."""
        if self.server.major < 19 or entry["service"] != "object" or args[3] != "res.users":
            return None
        text = json.dumps(args)
        if '"groups_id"' not in text or "fault" not in recorded:
            return None
        return bot_request(args)

    # ---- JSON-RPC and HTTP --------------------------------------------------------------------------------------
    def play_jsonrpc(self, name: str, entry: dict[str, Any]) -> dict[str, Any]:
        rp = self.replayers["helpdesk"]
        rp.problems = []
        request = entry["http_request"]
        payload = json.loads(request["body"])
        params = payload["params"]
        model, method = "common", params.get("method")
        if params.get("service") == "object" and params.get("method") == "execute_kw":
            model, method = params["args"][3], params["args"][4]
            params["args"] = rp.execute_kw_params(params["args"])
        shown = json.dumps(payload)
        if params.get("args") and isinstance(params["args"][0], str):
            params["args"][0] = self.server.db(params["args"][0])
        sent = json.dumps(payload).replace("<secret>", self.server.api_key)
        response, raw = post(self.server.url, request["path"], sent.encode("utf-8"),
                             {"Content-Type": request["content_type"]})
        body = self.server.logical(raw.decode("utf-8"))
        out = copy.deepcopy(entry)
        out["http_request"] = {**request, "body": shown}
        out["http_response"] = {"status": response.status, "content_type": response.getheader("Content-Type"),
                                "content_length": response.getheader("Content-Length"), "body": body}
        if request["content_type"].startswith("application/json") and response.status == 200:
            recorded_body = json.loads(entry["http_response"]["body"])
            actual = json.loads(body)
            if "result" in recorded_body and "result" in actual:
                rp.compare_result(model, str(method), recorded_body["result"], actual["result"], entry["id"])
            elif set(recorded_body) != set(actual):
                rp.problems.append(f"{entry['id']}: members {sorted(actual)} (source {sorted(recorded_body)})")
            elif "error" in actual and actual["error"]["data"]["name"] != recorded_body["error"]["data"]["name"]:
                rp.problems.append(f"{entry['id']}: error {actual['error']['data']['name']} "
                                   f"(source {recorded_body['error']['data']['name']})")
        elif response.status != entry["http_response"]["status"]:
            rp.problems.append(f"{entry['id']}: HTTP {response.status} (source {entry['http_response']['status']})")
        self.differences.extend(f"{name}: {p}" for p in rp.problems)
        return out

    def play_http(self, entry: dict[str, Any]) -> dict[str, Any]:
        out = copy.deepcopy(entry)
        for exchange in out["exchanges"]:
            response, raw = post(self.server.url, exchange["path"], exchange["request_body"].encode("utf-8"),
                                 {"Content-Type": exchange["request_content_type"]})
            exchange["response_http_version"] = "HTTP/1.1" if response.version == 11 else "HTTP/1.0"
            exchange["response_status"], exchange["response_reason"] = response.status, response.reason
            exchange["response_headers_in_order"] = [list(h) for h in response.getheaders()]
            exchange["response_body"] = raw.decode("utf-8")
        return out

    # ---- JSON-2 (19+) ------------------------------------------------------------------------------------------
    def play_json2(self, entry: dict[str, Any], rp: RealReplayer) -> dict[str, Any] | None:
        args = entry["args"]
        if entry["service"] != "object" or "api_key" not in (entry.get("secret_placeholders") or []):
            return None
        if len(entry.get("secret_placeholders") or []) != 1 or args[1] != 2:
            return None  # JSON-2 calls carry the key of the user they run as: only admin's key is recorded
        translated = rp.execute_kw_params(args)
        if translated[3] == "res.users":
            return None  # the users errors.json makes exist already
        model, method = translated[3], translated[4]
        call_args = translated[5] if len(translated) > 5 else []
        kwargs = translated[6] if len(translated) > 6 else {}
        try:
            body = json2_body(method, call_args, kwargs)
        except Exception:  # positional arguments JSON-2 cannot name: the bot never sends them
            return None
        path = f"/json/2/{model}/{method}"
        text = json.dumps(body)
        headers = {"Content-Type": "application/json", "Authorization": "bearer <secret>", "X-Odoo-Database": args[0]}
        started = time.monotonic()
        response, raw = post(self.server.url, path, text.encode("utf-8"),
                             {**headers, "Authorization": f"bearer {self.server.api_key}",
                              "X-Odoo-Database": self.server.db(args[0])})
        elapsed = round((time.monotonic() - started) * 1000, 1)
        answer = self.server.logical(raw.decode("utf-8"))
        out = {"id": entry["id"], "title": entry["title"], "protocol": "json-2",
               "call": {"db": args[0], "model": model, "method": method, "args": call_args, "kwargs": kwargs},
               "http_request": {"method": "POST", "path": path, "headers": headers, "body": text},
               "secret_placeholders": ["api_key"],
               "http_response": {"status": response.status, "content_type": response.getheader("Content-Type"),
                                 "body": answer}, "elapsed_ms": elapsed}
        if "result" in entry and response.status == 200:
            rp.problems = []
            value = json.loads(answer)
            if method == "create" and not isinstance(entry["result"], list) and isinstance(value, list) \
                    and len(value) == 1:
                value = value[0]
            rp.compare_result(model, method, entry["result"], value, entry["id"])
            self.differences.extend(f"json2: {p}" for p in rp.problems)
            rp.problems = []
        return out

    def json2_file(self) -> dict[str, Any]:
        """The story's calls (and the errors made as admin) over JSON-2, on fresh records (ids learned anew)."""
        rp = RealReplayer(self.server, "helpdesk")
        seed(rp, self.server, "helpdesk", self.source)
        recorded: list[dict[str, Any]] = []
        for name in ("ticket_story.json", "errors.json"):
            for entry in json.loads((self.source / name).read_text())["entries"]:
                if entry.get("protocol") != "xml-rpc" or entry["id"].endswith("__19.0"):
                    continue
                out = self.play_json2(entry, rp)
                if out is not None:
                    out["id"] = f"{name.removesuffix('.json')}:{entry['id']}"
                    recorded.append(out)
        for extra in self.json2_edges():
            recorded.append(extra)
        return {"topic": "json2", "description": "The calls of ticket_story.json and errors.json (those made as "
                "admin with the API key) over JSON-2: POST /json/2/<model>/<method>, named arguments as the bot's "
                "Json2Transport sends them (bot/odoo/transport.py json2_body), `Authorization: bearer <key>`, "
                "`X-Odoo-Database`. Replayed on the database the other files left; `call` is the execute_kw form.",
                "entries": recorded}

    def json2_edges(self) -> list[dict[str, Any]]:
        """What the bot meets besides its calls: a wrong key, an unknown database, /web/version."""
        out = []
        for ident, headers in (("wrong_key", {"Authorization": "bearer not-a-key", "X-Odoo-Database": "helpdesk"}),
                               ("unknown_database", {"Authorization": "bearer <secret>",
                                                     "X-Odoo-Database": "no_such_db"})):
            sent = {**headers, "Content-Type": "application/json",
                    "Authorization": headers["Authorization"].replace("<secret>", self.server.api_key),
                    "X-Odoo-Database": self.server.db(headers["X-Odoo-Database"])}
            body = json.dumps({"domain": [], "limit": 1})
            response, raw = post(self.server.url, "/json/2/res.users/search", body.encode(), sent)
            out.append({"id": f"edge:{ident}", "title": f"res.users search with {ident.replace('_', ' ')}",
                        "protocol": "json-2", "call": None,
                        "http_request": {"method": "POST", "path": "/json/2/res.users/search",
                                         "headers": {**headers, "Content-Type": "application/json"}, "body": body},
                        "secret_placeholders": ["api_key"] if "<secret>" in headers["Authorization"] else [],
                        "http_response": {"status": response.status,
                                          "content_type": response.getheader("Content-Type"),
                                          "body": self.server.logical(raw.decode("utf-8"))}})
        connection = http.client.HTTPConnection("127.0.0.1", urlsplit(self.server.url).port, timeout=30)
        connection.request("GET", "/web/version")
        response = connection.getresponse()
        out.append({"id": "edge:web_version", "title": "GET /web/version (the bot's version() over JSON-2)",
                    "protocol": "http-get", "call": None, "http_request": {"method": "GET", "path": "/web/version"},
                    "http_response": {"status": response.status, "content_type": response.getheader("Content-Type"),
                                      "body": response.read().decode("utf-8")}})
        connection.close()
        return out

    # ---- files ---------------------------------------------------------------------------------------------------
    def prepare_projects(self) -> None:
        """The recorded `projects` db had no project and admin's 7 personal stages: make this one the same (the
        template's projects (Support, hr_timesheet's
        Internal), their tasks and shared stages are archived)."""
        first = json.loads((self.source / "project_task.json").read_text())["entries"][0]
        projects = self.server.rpc("projects", "project.project", "search", [[]])
        if projects:
            tasks = self.server.rpc("projects", "project.task", "search", [[["project_id", "in", projects]]])
            if tasks:  # they may have timesheet lines, which forbid unlinking: archived
                self.server.rpc("projects", "project.task", "write", [tasks, {"active": False}])
            self.server.rpc("projects", "project.project", "write", [projects, {"active": False}])
        shared = self.server.rpc("projects", "project.task.type", "search", [[["user_id", "=", False]]])
        if shared:  # hr_timesheet's "Internal" project stage
            self.server.rpc("projects", "project.task.type", "write", [shared, {"active": False}])
        existing = self.server.rpc("projects", "project.task.type", "search_read", [[]], {"fields": ["name"]})
        if not existing and first["id"] == "existing_stages":
            for sequence, row in enumerate(first["result"], start=1):
                self.server.rpc("projects", "project.task.type", "create",
                                [{"name": row["name"], "sequence": sequence, "user_id": 2,
                                  "fold": row["name"] in ("Done", "Canceled")}])

    def record_file(self, name: str) -> dict[str, Any]:
        data = json.loads((self.source / name).read_text())
        out = {k: v for k, v in data.items() if k != "entries"}
        out["recorded_at_utc"] = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")
        version = xmlrpc.client.ServerProxy(f"{self.server.url}/xmlrpc/2/common").version()
        out["server"] = {"url": "http://127.0.0.1:<port>", "server_version": version["server_version"],
                         "edition": "Community", "helpdesk_mgmt": ro.HELPDESK_MGMT[self.server.series]}
        entries: list[dict[str, Any]] = []
        for entry in data["entries"]:
            if entry["id"].endswith(("__17.0", "__18.0", "__19.0")):
                continue  # the source's own adapted requests: made again from the original ones
            if entry.get("protocol") == "json-rpc":
                entries.append(self.play_jsonrpc(name, entry))
            elif entry.get("protocol") == "http":
                entries.append(self.play_http(entry))
            else:
                entries.extend(self.play_xmlrpc(name.removesuffix(".json"), entry))
        out["entries"] = entries
        if isinstance(data.get("ids"), dict):
            rp = self.replayers["projects" if name == "project_task.json" else "helpdesk"]
            out["ids"] = {key: self.translate_ids(rp, IDS_MODELS.get(key), value) for key, value in data["ids"].items()}
        return out

    @staticmethod
    def translate_ids(rp: RealReplayer, model: str | None, value: Any) -> Any:
        if model is None:
            return value
        if isinstance(value, dict):
            return {k: rp.actual_id(model, v) for k, v in value.items()}
        return rp.ids_of(model, value)

    def record(self, target: Path) -> None:
        self.prepare_projects()
        files = {name: self.record_file(name) for name in FILES}
        if self.server.major >= 19:
            files["json2.json"] = self.json2_file()
        files["xmlids.json"] = {"topic": "xmlids", "description": "ids, in the recorded databases, of the records "
                                "the requests name without creating them (by xmlid; ir.model by model name)",
                                "helpdesk": self.xmlids}
        texts = {name: self.server.logical(json.dumps(data, indent=1, ensure_ascii=False)) + "\n"
                 for name, data in files.items()}
        for name, text in texts.items():
            if self.server.api_key in text or TEST_USER_PASSWORD in text:
                raise SystemExit(f"record-contract: a secret is in {name}: nothing written")
        target.mkdir(parents=True, exist_ok=True)
        for name, text in texts.items():
            (target / name).write_text(text, encoding="utf-8")
        for name in COPIED:
            if (self.source / name).exists() and self.server.series == "17.0" and target != self.source:
                (target / name).write_text((self.source / name).read_text())
        (target / "differences.txt").write_text(
            f"# answers of Odoo {self.server.series} that differ from the source recording ({self.source.name}),\n"
            "# written by tools/record_contract.py (informational)\n" + "".join(f"{d}\n" for d in self.differences))


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("series", nargs="*", default=list(ro.ALL_SERIES))
    parser.add_argument("--source", type=Path, default=CONTRACT / "odoo-17.0",
                        help="the recording whose requests are replayed (default: tests/contract/odoo-17.0)")
    parser.add_argument("--out", type=Path, default=CONTRACT, help="where odoo-<series>/ is written")
    args = parser.parse_args(argv)
    source = args.source.resolve()
    staged = {}
    for series in args.series:
        server = Server(series)
        try:
            recorder = Recorder(server, source)
            target = args.out / f"odoo-{series}"
            stage = target.with_name(target.name + ".new")
            recorder.record(stage)
            staged[target] = stage
            ro.log(f"{series}: {len(recorder.differences)} answers differ from {source.name} "
                   f"(see {target / 'differences.txt'})")
        finally:
            server.stop()
    for target, stage in staged.items():  # the source is read until every series is recorded
        for path in stage.iterdir():
            target.mkdir(parents=True, exist_ok=True)
            path.replace(target / path.name)
        stage.rmdir()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
