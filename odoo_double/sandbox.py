"""`OdooSandbox`: one in-memory Odoo 17 database plus the services the wire protocols expose.

The HTTP app (server.py) and tests use the same entry points: `authenticate` for the common
service, `execute_kw` (credentials checked like Odoo) and `call` (already authenticated).
Each call is a transaction: a fault rolls the tables back, while id counters and sequences
keep moving, as in PostgreSQL.
"""

from __future__ import annotations

import copy
import logging
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any, Literal

from odoo_double import base_data, faults
from odoo_double.base_models import base_models, odoo19_users
from odoo_double.grouping import READ_GROUP
from odoo_double.helpdesk_models import helpdesk_models, helpdesk_series
from odoo_double.mail_models import mail_models
from odoo_double.methods import GENERIC_METHODS, READ_ONLY_METHODS, create_one, execute
from odoo_double.orm import Env, ModelDef, Row, Store
from odoo_double.project_models import project_models, project_series
from odoo_double.timesheet_models import timesheet_models, with_timesheets

logger = logging.getLogger(__name__)

Flavour = Literal["helpdesk_mgmt", "project"]
GROUP_KEYS = MappingProxyType({
    "internal": "base.group_user",
    "portal": "base.group_portal",
    "settings": "base.group_system",
    "helpdesk_user": "helpdesk_mgmt.group_helpdesk_user",
    "helpdesk_manager": "helpdesk_mgmt.group_helpdesk_manager",
    "project_user": "project.group_project_user",
    "project_manager": "project.group_project_manager",
})


def _models(flavour: str, series: str = "17.0") -> list[ModelDef]:
    if flavour not in ("helpdesk_mgmt", "project"):
        raise ValueError(f"unknown sandbox flavour {flavour!r}: use 'helpdesk_mgmt' or 'project'")
    definitions = base_models() + mail_models() + (helpdesk_models() if flavour == "helpdesk_mgmt"
                                                   else project_models() + timesheet_models())
    for definition in definitions:
        definition.methods.setdefault("read_group", READ_GROUP)
        if definition.name == "res.users" and major(series) >= 19:
            odoo19_users(definition)
    project_series(definitions, major(series))
    with_timesheets(definitions, major(series))
    helpdesk_series(definitions, major(series))
    return definitions


SERIES = tuple(base_data.VERSIONS)


def major(series: str) -> int:
    return int(series.split(".")[0])


class OdooSandbox:
    """An Odoo 17, 18 or 19 stand-in (`series`): `flavour` 'helpdesk_mgmt' (OCA helpdesk) or 'project'
    (Community project with hr_timesheet, as the real projects database has it)."""

    def __init__(self, flavour: Flavour = "helpdesk_mgmt", db: str = "helpdesk", login: str = "admin",
                 password: str = "admin", api_key: str = "sandbox-key",
                 clock: Callable[[], datetime] | None = None, series: str = "17.0") -> None:
        if series not in base_data.VERSIONS:
            raise ValueError(f"unknown Odoo series {series!r}: use one of {', '.join(base_data.VERSIONS)}")
        self.series = series  # the Odoo series it speaks (17.0, 18.0 or 19.0)
        self.flavour = flavour
        self.db = db
        self.login = login
        self.store = Store(clock or (lambda: datetime.now(UTC)))
        self.store.major = major(series)
        self.calls: Counter[tuple[str, str]] = Counter()
        self.down = False  # every request answered 503 with a proxy page
        self.failing_status: int | None = None  # every request answered with this HTTP error and its page
        self.database_down = False  # Odoo is up, its PostgreSQL is not: every call faults as Odoo then answers
        self.latency = 0.0  # seconds added to every request
        self.requests = 0  # HTTP requests received, answered or not
        self._api_keys: dict[str, int] = {}
        self.groups_field = "group_ids" if major(series) >= 19 else "groups_id"
        for definition in _models(flavour, series):
            self.store.register(definition)
        base_data.install(self.env(base_data.ADMIN_UID), flavour, login=login, password=password,
                          groups_field=self.groups_field)
        self.add_api_key(base_data.ADMIN_UID, api_key)

    # ---- setup helpers ------------------------------------------------------------------------------
    def env(self, uid: int = base_data.ADMIN_UID, context: dict[str, Any] | None = None) -> Env:
        return Env(self.store, uid, context)

    @property
    def admin_uid(self) -> int:
        return base_data.ADMIN_UID

    def add_api_key(self, uid: int, key: str) -> None:
        if key:
            self._api_keys[key] = uid

    def add_user(self, name: str, login: str, email: str, *, groups: Iterable[str] = ("helpdesk_user",),
                 password: str | None = None, api_key: str | None = None) -> int:
        """An Odoo user; groups are keys of GROUP_KEYS or xmlids. Internal unless 'portal' is given."""
        env = self.env()
        xmlids = [GROUP_KEYS.get(g, g) for g in groups]
        if "base.group_portal" not in xmlids and "base.group_user" not in xmlids:
            xmlids.insert(0, "base.group_user")
        unknown = [x for x in xmlids if x not in self.store.xmlids]
        if unknown:
            raise ValueError(f"unknown group(s) {', '.join(unknown)} for flavour {self.flavour!r}")
        uid = create_one(env, "res.users", {"name": name, "login": login, "email": email,
                                            "password": password or login,
                                            self.groups_field: [[6, 0, [env.ref(x) for x in xmlids]]]})
        if api_key:
            self.add_api_key(uid, api_key)
        return uid

    def add_group(self, xmlid: str, name: str, *, category: str) -> int:
        """A group of the company's own (MindX's support managers), made as an administrator makes one: the
        res.groups record, then its external id (ir.model.data), so it is found by xml id like Odoo's groups."""
        env = self.env()
        module, _, external_name = xmlid.partition(".")
        found = [row["id"] for row in env.rows("ir.module.category") if row["name"] == category]
        category_id = found[0] if found else create_one(env, "ir.module.category", {"name": category})
        group = create_one(env, "res.groups", {"name": name, "category_id": category_id})
        create_one(env, "ir.model.data", {"module": module, "name": external_name, "model": "res.groups",
                                          "res_id": group})
        return group

    def now(self) -> datetime:
        """The sandbox clock's "now", in UTC: what Odoo stamps a record written now with."""
        return self.store.clock().astimezone(UTC)

    @contextmanager
    def at(self, moment: datetime) -> Iterator[None]:
        """Runs the calls inside as if the sandbox clock said `moment` (a database with a past: records created and
        changed back then)."""
        clock = self.store.clock
        self.store.clock = lambda: moment
        try:
            yield
        finally:
            self.store.clock = clock

    def records(self, model: str) -> list[Row]:
        """Raw stored rows (copies), for assertions."""
        return [copy.deepcopy(row) for row in self.env().rows(model)]

    def version(self) -> dict[str, Any]:
        version, info = base_data.VERSIONS[self.series]
        return {"server_version": version, "server_version_info": list(info), "server_serie": self.series,
                "protocol_version": 1}

    def has_method(self, model: str, method: str) -> bool:
        definition = self.store.models.get(model)
        return bool(definition and (method in definition.methods or method in GENERIC_METHODS))

    def is_record_method(self, model: str, method: str) -> bool:
        definition = self.store.models.get(model)
        entry = (definition.methods.get(method) if definition else None) or GENERIC_METHODS.get(method)
        return bool(entry and entry.on_records)

    # ---- authentication -----------------------------------------------------------------------------
    def _check_db(self, db: str) -> None:
        if db != self.db:
            raise faults.unknown_database(db)

    def _secret_matches(self, uid: int, secret: Any) -> bool:
        user = self.store.tables["res.users"].get(uid)
        if user is None or not user.get("active", True) or not isinstance(secret, str) or not secret:
            return False
        return secret == user.get("password") or self._api_keys.get(secret) == uid

    def authenticate(self, db: str, login: str, secret: Any) -> int | bool:
        """common.authenticate / login: the uid, or False for bad credentials (never a fault)."""
        self._check_db(db)
        if self.database_down:
            raise faults.database_unreachable()
        for user in self.store.tables["res.users"].values():
            if user["login"] == login and self._secret_matches(user["id"], secret):
                return int(user["id"])
        return False

    def uid_for_api_key(self, key: str) -> int | None:
        uid = self._api_keys.get(key)
        user = self.store.tables["res.users"].get(uid or 0)
        return uid if user is not None and user.get("active", True) else None

    def execute_kw(self, db: str, uid: Any, secret: Any, model: str, method: str, args: Any = (),
                   kwargs: Any = None) -> Any:
        """object.execute_kw with Odoo's credential checks (missing uid: fault 2; wrong secret: 3)."""
        self._check_db(db)
        if not isinstance(uid, int) or isinstance(uid, bool) or uid not in self.store.tables["res.users"]:
            raise faults.missing("res.users", [uid], uid if isinstance(uid, int) else 0)
        if not self._secret_matches(uid, secret):
            raise faults.access_denied()
        return self.call(uid, model, method, list(args or []), dict(kwargs or {}))

    # ---- the ORM entry point --------------------------------------------------------------------------
    def call(self, uid: int, model: str, method: str, args: list[Any] | tuple[Any, ...] = (),
             kwargs: dict[str, Any] | None = None) -> Any:
        """Run one execute_kw as user `uid` (a transaction: a fault rolls the data back)."""
        self.calls[(model, method)] += 1
        if self.database_down:
            raise faults.database_unreachable()
        keywords = dict(kwargs or {})
        context = keywords.pop("context", None)
        env = Env(self.store, uid, context if isinstance(context, dict) else None)
        snapshot = None if method in READ_ONLY_METHODS else self.store.snapshot()
        try:
            with faults.speaking(self.series):
                return execute(env, model, method, list(args), keywords)
        except faults.OdooFault:
            if snapshot is not None:
                self.store.restore(snapshot)
            raise
        except Exception as error:  # a sandbox bug or an argument Odoo would also choke on
            if snapshot is not None:
                self.store.restore(snapshot)
            logger.warning("sandbox %s.%s failed: %r", model, method, error)
            raise faults.python_error(type(error).__name__, str(error)) from error
