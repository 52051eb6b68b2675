"""Helpers for the Odoo tests: serve a sandbox over real HTTP, load the recorded contract."""

from __future__ import annotations

import asyncio
import json
import os
import re
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer

from odoo_double import OdooSandbox, create_sandbox_app

# the recorded contracts, kept with the tests (tests/contract/odoo-<series>/, each README says how it was recorded);
# ODOO_CONTRACT_DIR names the default one (17.0)
CONTRACTS = Path(__file__).resolve().parent / "contract"
SERIES = ("17.0", "18.0", "19.0")
CONTRACT_DIR = Path(os.environ.get("ODOO_CONTRACT_DIR") or CONTRACTS / "odoo-17.0")


def contract_dir(series: str | None = None) -> Path:
    """The recording of `series` (None: CONTRACT_DIR)."""
    return CONTRACTS / f"odoo-{series}" if series else CONTRACT_DIR
ADMIN_UID = 2
API_KEY = "sandbox-key"
PASSWORD = "admin"


class StepClock:
    """A clock that moves by a fixed step (with microseconds) each time it is read."""

    def __init__(self, start: datetime | None = None, step: timedelta = timedelta(milliseconds=137)) -> None:
        self.current = start or datetime(2026, 11, 22, 22, 56, 20, 123456, tzinfo=UTC)
        self.step = step

    def __call__(self) -> datetime:
        self.current += self.step
        return self.current


@asynccontextmanager
async def serve(sb: OdooSandbox) -> AsyncIterator[str]:
    """Run the sandbox's aiohttp app on 127.0.0.1 and a free port; yields the base URL."""
    server = TestServer(create_sandbox_app(sb), host="127.0.0.1")
    await server.start_server()
    try:
        yield str(server.make_url("")).rstrip("/")
    finally:
        await server.close()


def load(name: str, series: str | None = None) -> dict[str, Any]:
    return json.loads((contract_dir(series) / name).read_text(encoding="utf-8"))


def entries(name: str, series: str | None = None) -> list[dict[str, Any]]:
    return list(load(name, series)["entries"])


class ThreadedSandbox:
    """The sandbox app served from a background thread with its own event loop (for blocking clients)."""

    def __init__(self, sb: OdooSandbox) -> None:
        self.sb = sb
        self.url = ""
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread = threading.Thread(target=self._run, name=f"sandbox-{sb.db}", daemon=True)

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        runner = web.AppRunner(create_sandbox_app(self.sb), access_log=None)
        loop.run_until_complete(runner.setup())
        site = web.TCPSite(runner, "127.0.0.1", 0)
        loop.run_until_complete(site.start())
        host, port = runner.addresses[0][:2]
        self.url = f"http://{host}:{port}"
        self._ready.set()
        loop.run_forever()
        loop.run_until_complete(runner.cleanup())
        loop.close()

    def __enter__(self) -> ThreadedSandbox:
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the sandbox server did not start")
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._loop is not None
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)


# ---- replaying the recorded contract -------------------------------------------------------------------

TEST_USER_PASSWORD = "test-user-password"
SECRETS = {"api_key": API_KEY, "password": PASSWORD, "test_user_password": TEST_USER_PASSWORD}
NUMBER = re.compile(r"HT\d{5}")
ODOO_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")
# ids inside Odoo's texts: "helpdesk.ticket(999999,)", "User: 2", "(id=6)", "Records: [59]"
TEXT_IDS = (
    (re.compile(r"(?P<model>[a-z][a-z0-9_]*(?:\.[a-z0-9_]+)+)\((?P<id>\d+),\)"), None),
    (re.compile(r"User: (?P<id>\d+)"), "res.users"),
    (re.compile(r"\(id=(?P<id>\d+)\)"), "res.users"),
    (re.compile(r"Records: \[(?P<id>\d+)\]"), "mail.message"),
    (re.compile(r"Records: (?P<id>\d+), User"), "mail.message"),  # 19
    (re.compile(r"^/my/ticket/(?P<id>\d+)$"), "helpdesk.ticket"),
    (re.compile(r"^/my/tasks/(?P<id>\d+)$"), "project.task"),
)
SENTINEL_ID = 1000  # recorded ids this large were made up to be missing (999, 99999, 999999)
MODEL_METHODS = frozenset({"create", "search", "search_read", "search_count", "name_search", "name_create",
                           "find_or_create", "fields_get", "read_group"})
RETURNS_MESSAGE = frozenset({"message_post", "action_feedback"})
Loose = dict[str, Callable[[dict[str, Any]], bool]]  # field -> "compare loosely in this recorded record?"


def with_secrets(value: Any, kinds: list[str]) -> Any:
    """Put real secrets where the recorder wrote "<secret>", in the order `secret_placeholders` lists."""
    pending = iter(kinds or ["api_key"] * 8)

    def walk(item: Any) -> Any:
        if item == "<secret>":
            return SECRETS[next(pending)]
        if isinstance(item, list):
            return [walk(i) for i in item]
        if isinstance(item, dict):
            return {k: walk(v) for k, v in item.items()}
        return item
    return walk(value)


class Replayer:
    """Replays recorded calls against a sandbox and compares the answers with the recording.

    Ids differ between the recorded database and the sandbox: recorded ids are translated through
    a map learned from results (create/search/read answers), per model; so are ticket numbers
    (HT000NN) and datetimes used as arguments (the poller sends back the write_date it read).
    """

    def __init__(self, sb: OdooSandbox, url: str) -> None:
        self.sb = sb
        self.url = url
        self.ids: dict[tuple[str, int], int] = {}
        self.reverse: dict[tuple[str, int], int] = {}
        self.numbers: dict[str, str] = {}
        self.times: dict[str, str] = {}
        self.problems: list[str] = []

    # ---- metadata ----------------------------------------------------------------------------------
    def field(self, model: str, name: str) -> Any:
        definition = self.sb.store.models.get(model)
        return definition.fields.get(name) if definition else None

    # ---- id maps -----------------------------------------------------------------------------------
    def actual_id(self, model: str, recorded: Any) -> Any:
        if isinstance(recorded, bool) or not isinstance(recorded, int):
            return recorded
        return self.ids.get((model, recorded), recorded)

    def learn(self, model: str, recorded: Any, actual: Any, where: str) -> None:
        if isinstance(recorded, bool) or not isinstance(recorded, int):
            self.problems.append(f"{where}: recorded id {recorded!r} is not an int")
            return
        if isinstance(actual, bool) or not isinstance(actual, int):
            self.problems.append(f"{where}: expected an int id, got {actual!r}")
            return
        known = self.ids.get((model, recorded))
        if known is None:
            owner = self.reverse.get((model, actual))
            if owner is not None and owner != recorded:
                self.problems.append(f"{where}: {model} id {actual} already stands for recorded id {owner}, "
                                     f"not {recorded}")
                return
            self.ids[(model, recorded)] = actual
            self.reverse[(model, actual)] = recorded
        elif known != actual:
            self.problems.append(f"{where}: {model} recorded id {recorded} is {known} here, got {actual}")

    # ---- translating arguments -----------------------------------------------------------------------
    def text(self, value: str) -> str:
        return NUMBER.sub(lambda m: self.numbers.get(m.group(0), m.group(0)), value)

    def scalar(self, model: str, name: str, value: Any, siblings: dict[str, Any] | None = None) -> Any:
        field = self.field(model, name)
        if name == "id":
            return self.ids_of(model, value)
        if field is None:
            return self.text(value) if isinstance(value, str) else value
        if field.type in ("many2one", "one2many", "many2many") and field.relation:
            return self.ids_of(field.relation, value)
        if field.type == "many2one_reference" and siblings is not None:
            target = self.reference_model(siblings)
            return self.ids_of(target, value) if target else value
        if field.type in ("datetime", "date") and isinstance(value, str):
            return self.times.get(value, value)
        if isinstance(value, str):
            return self.text(value)
        return value

    def ids_of(self, model: str, value: Any) -> Any:
        if isinstance(value, list):
            return [self.ids_of(model, v) for v in value]
        return self.actual_id(model, value)

    def reference_model(self, values: dict[str, Any]) -> str | None:
        for key in ("model", "res_model"):
            if isinstance(values.get(key), str):
                return str(values[key])
        model_id = values.get("res_model_id")
        if isinstance(model_id, int):
            return self.ir_model_name(self.actual_id("ir.model", model_id))
        return None

    def ir_model_name(self, actual_id: int) -> str | None:
        """The model name of an ir.model record of the database played against."""
        row = self.sb.store.tables["ir.model"].get(actual_id)
        return row["model"] if row else None

    def ir_field(self, actual_id: int) -> tuple[str, str] | None:
        """(model, field name) of an ir.model.fields record of the database played against."""
        row = self.sb.store.tables["ir.model.fields"].get(actual_id)
        return (row["model"], row["name"]) if row else None

    def vals(self, model: str, vals: Any) -> Any:
        if not isinstance(vals, dict):
            return vals
        result: dict[str, Any] = {}
        for name, value in vals.items():
            field = self.field(model, name)
            if field is not None and field.type in ("one2many", "many2many") and isinstance(value, list):
                result[name] = [self.command(field.relation, c) for c in value]
            else:
                result[name] = self.scalar(model, name, value, vals)
        return result

    def command(self, model: str, command: Any) -> Any:
        if isinstance(command, list) and command:
            if command[0] == 6:
                return [6, 0, self.ids_of(model, command[2])]
            if command[0] in (1, 2, 3, 4):
                return [command[0], self.actual_id(model, command[1]), *command[2:]]
            return command
        return self.actual_id(model, command)

    def domain(self, model: str, domain: Any) -> Any:
        if not isinstance(domain, list):
            return domain
        siblings = {leaf[0]: leaf[2] for leaf in domain if isinstance(leaf, list) and len(leaf) == 3
                    and leaf[1] == "=" and isinstance(leaf[0], str)}
        result: list[Any] = []
        for leaf in domain:
            if isinstance(leaf, list) and len(leaf) == 3 and isinstance(leaf[0], str):
                path = leaf[0].split(".")
                target = model
                for step in path[:-1]:
                    field = self.field(target, step)
                    target = field.relation if field is not None and field.relation else target
                result.append([leaf[0], leaf[1], self.scalar(target, path[-1], leaf[2], siblings)])
            else:
                result.append(leaf)
        return result

    def call_args(self, model: str, method: str, args: list[Any], kwargs: dict[str, Any]) -> tuple[list[Any],
                                                                                                   dict[str, Any]]:
        args = list(args)
        kwargs = dict(kwargs)
        if method not in MODEL_METHODS and args:
            args[0] = self.ids_of(model, args[0])
        if method == "create" and args:
            args[0] = [self.vals(model, v) for v in args[0]] if isinstance(args[0], list) else self.vals(model, args[0])
        if method == "write" and len(args) > 1:
            args[1] = self.vals(model, args[1])
        if method in ("search", "search_read", "search_count", "read_group") and args:
            args[0] = self.domain(model, args[0])
        if method == "name_search" and len(args) > 1:
            args[1] = self.domain(model, args[1])
        for key in ("domain", "args"):
            if key in kwargs:
                kwargs[key] = self.domain(model, kwargs[key])
        if "partner_ids" in kwargs:
            kwargs["partner_ids"] = self.ids_of("res.partner", kwargs["partner_ids"])
        if "user_id" in kwargs:
            kwargs["user_id"] = self.actual_id("res.users", kwargs["user_id"])
        return args, kwargs

    def execute_kw_params(self, params: list[Any]) -> list[Any]:
        db, uid, secret, model, method, *rest = params
        args = rest[0] if rest else []
        kwargs = rest[1] if len(rest) > 1 else {}
        args, kwargs = self.call_args(model, method, args, kwargs)
        result = [db, self.actual_id("res.users", uid), secret, model, method, args]
        return [*result, kwargs] if len(rest) > 1 else result

    # ---- comparing answers ----------------------------------------------------------------------------
    def matches_text(self, recorded: str, actual: str) -> bool:
        """Equal once numbers and ids inside the text are translated (unknown ids match any id)."""
        pattern = self._text_pattern(recorded)
        return re.fullmatch(pattern, actual, re.DOTALL) is not None

    def _text_pattern(self, text: str) -> str:
        spans: list[tuple[int, int, str]] = []
        for regex, model in TEXT_IDS:
            for match in regex.finditer(text):
                target = model or match.group("model")
                start, end = match.span("id")
                recorded = int(match.group("id"))
                known = self.ids.get((target, recorded))
                if known is None and (target == "res.users" or recorded >= SENTINEL_ID):
                    known = recorded  # a uid, or an id the test made up to be missing (999999)
                spans.append((start, end, re.escape(str(known)) if known is not None else r"\d+"))
        for match in NUMBER.finditer(text):
            known_number = self.numbers.get(match.group(0))
            spans.append((match.start(), match.end(), re.escape(known_number) if known_number else r"HT\d{5}"))
        spans.sort()
        pattern, position = [], 0
        for start, end, replacement in spans:
            if start < position:
                continue
            pattern.append(re.escape(text[position:start]))
            pattern.append(replacement)
            position = end
        pattern.append(re.escape(text[position:]))
        return "".join(pattern)

    def compare(self, recorded: Any, actual: Any, where: str, *, model: str | None = None,
                field: Any = None, record: dict[str, Any] | None = None) -> None:
        if isinstance(recorded, bool) or recorded is None:
            if actual is not recorded:
                self.problems.append(f"{where}: expected {recorded!r}, got {actual!r}")
            return
        kind = field.type if field is not None else None
        if kind == "many2one":
            if not (isinstance(actual, list) and len(actual) == 2 and isinstance(actual[0], int)):
                self.problems.append(f"{where}: expected a many2one [id, name], got {actual!r}")
                return
            self.learn(field.relation, recorded[0], actual[0], where)
            if isinstance(recorded[1], str) and isinstance(actual[1], str):
                if not self.matches_text(recorded[1], actual[1]):
                    self.problems.append(f"{where}: name {recorded[1]!r} != {actual[1]!r}")
            elif recorded[1] != actual[1]:
                self.problems.append(f"{where}: name {recorded[1]!r} != {actual[1]!r}")
            return
        if kind in ("one2many", "many2many"):
            if not isinstance(actual, list) or len(actual) != len(recorded):
                self.problems.append(f"{where}: expected {len(recorded)} ids, got {actual!r}")
                return
            for index, (rec, act) in enumerate(zip(recorded, actual, strict=True)):
                self.learn(field.relation, rec, act, f"{where}[{index}]")
            return
        if kind == "many2one_reference" or (model is not None and field is None and where.endswith(".id")):
            target = self.reference_model(record or {}) if kind == "many2one_reference" else model
            if target:
                self.learn(target, recorded, actual, where)
            return
        if kind == "datetime":
            if not (isinstance(actual, str) and ODOO_DATETIME.match(actual)):
                self.problems.append(f"{where}: expected an Odoo datetime string, got {actual!r}")
                return
            self.times[recorded] = actual
            return
        if field is not None and field.name == "number" and isinstance(recorded, str):
            if not (isinstance(actual, str) and NUMBER.fullmatch(actual)):
                self.problems.append(f"{where}: expected a ticket number, got {actual!r}")
                return
            known = self.numbers.setdefault(recorded, actual)
            if known != actual:
                self.problems.append(f"{where}: number {recorded} is {known} here, got {actual}")
            return
        if isinstance(recorded, dict):
            if not isinstance(actual, dict) or set(recorded) != set(actual):
                self.problems.append(f"{where}: keys {sorted(recorded)} != {sorted(actual or {})}")
                return
            for key in recorded:
                self.compare(recorded[key], actual[key], f"{where}.{key}")
            return
        if isinstance(recorded, list):
            if not isinstance(actual, list) or len(actual) != len(recorded):
                self.problems.append(f"{where}: expected {recorded!r}, got {actual!r}")
                return
            for index, (rec, act) in enumerate(zip(recorded, actual, strict=True)):
                self.compare(rec, act, f"{where}[{index}]")
            return
        if isinstance(recorded, str):
            if not isinstance(actual, str) or not self.matches_text(recorded, actual):
                self.problems.append(f"{where}: expected {recorded!r}, got {actual!r}")
            return
        if type(actual) is not type(recorded) or actual != recorded:
            self.problems.append(f"{where}: expected {recorded!r}, got {actual!r}")

    def compare_records(self, model: str, recorded: Any, actual: Any, where: str,
                        loose: Loose | None = None) -> None:
        if not isinstance(actual, list) or len(actual) != len(recorded):
            self.problems.append(f"{where}: expected {len(recorded)} records, got {actual!r}")
            return
        for index, (rec, act) in enumerate(zip(recorded, actual, strict=True)):
            here = f"{where}[{index}]"
            if not isinstance(act, dict) or set(rec) != set(act):
                missing = sorted(set(rec) - set(act or {}))
                extra = sorted(set(act or {}) - set(rec))
                self.problems.append(f"{here}: keys differ: missing {missing}, extra {extra}")
                continue
            if next(iter(act)) != "id":
                self.problems.append(f"{here}: 'id' is not the first key")
            self.learn(model, rec["id"], act["id"], f"{here}.id")
            for key, value in rec.items():
                if key == "id":
                    continue
                if loose and key in loose and loose[key](rec):
                    self.loose_value(value, act[key], f"{here}.{key}")
                    continue
                if model == "mail.tracking.value" and key.endswith("_value_integer") and value:
                    self.learn(self.tracked_relation(rec) or model, value, act[key], f"{here}.{key}")
                    continue
                self.compare(value, act[key], f"{here}.{key}", model=model, field=self.field(model, key), record=rec)

    def tracked_relation(self, recorded: dict[str, Any]) -> str | None:
        """The comodel of a tracked many2one (its tracking values hold ids of that model)."""
        field_id = recorded.get("field_id")
        found = self.ir_field(self.actual_id("ir.model.fields", field_id[0])) if isinstance(field_id, list) else None
        field = self.field(*found) if found else None
        return field.relation if field is not None and field.type == "many2one" else None

    def loose_value(self, recorded: Any, actual: Any, where: str) -> None:
        """Same JSON type and, for strings, both empty or both non-empty (documented exceptions)."""
        if type(recorded) is not type(actual) or (isinstance(recorded, str) and bool(recorded) != bool(actual)):
            self.problems.append(f"{where}: expected a value like {recorded!r}, got {actual!r}")
        if isinstance(recorded, list) and not all(isinstance(v, int) for v in actual):
            self.problems.append(f"{where}: expected a list of ids, got {actual!r}")

    def compare_result(self, model: str, method: str, recorded: Any, actual: Any, where: str,
                       loose: Loose | None = None) -> None:
        if method == "create":
            if isinstance(recorded, list):
                if not isinstance(actual, list) or len(actual) != len(recorded):
                    self.problems.append(f"{where}: expected {len(recorded)} ids, got {actual!r}")
                    return
                for rec, act in zip(recorded, actual, strict=True):
                    self.learn(model, rec, act, where)
            else:
                self.learn(model, recorded, actual, where)
        elif method == "search":
            self.compare(recorded, actual, where, field=_IdsField(model))
        elif method in RETURNS_MESSAGE or method == "find_or_create":
            target = "mail.message" if method in RETURNS_MESSAGE else model
            if isinstance(recorded, list):  # 19 marshals the recordset: [id]
                self.compare(recorded, actual, where, field=_IdsField(target))
            else:
                self.learn(target, recorded, actual, where)
        elif method in ("read", "search_read") and isinstance(recorded, list):
            self.compare_records(model, recorded, actual, where, loose)
        elif method in ("name_search", "name_create"):
            pairs = recorded if method == "name_search" else [recorded]
            got = actual if method == "name_search" else [actual]
            if not isinstance(got, list) or len(got) != len(pairs):
                self.problems.append(f"{where}: expected {recorded!r}, got {actual!r}")
                return
            for rec, act in zip(pairs, got, strict=True):
                self.compare(rec, act, where, field=_Many2one(model))
        elif method == "authenticate" and isinstance(recorded, int) and not isinstance(recorded, bool):
            self.learn("res.users", recorded, actual, where)
        else:
            self.compare(recorded, actual, where)


class _IdsField:
    type = "many2many"

    def __init__(self, relation: str) -> None:
        self.relation = relation
        self.name = "ids"


class _Many2one:
    type = "many2one"

    def __init__(self, relation: str) -> None:
        self.relation = relation
        self.name = "name_search"
