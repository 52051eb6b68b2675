"""One frozen settings object, built from the environment at start-up and passed in.

A missing or wrong setting stops start-up with one line naming the setting and what is
expected (`SettingsError`). Secrets are kept out of `repr()` so they never reach a log.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from urllib.parse import parse_qs, unquote, urlparse
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.i18n import either
from bot.logs import SHORTEST_SECRET
from bot.numbers import whole_number


class Mode(StrEnum):
    PRODUCTION = "production"
    DEV = "dev"  # auth off, in-process Redis allowed, sandbox Odoo when ODOO_URL is unset
    DEMO = "demo"  # everything embedded: in-process Redis, sandbox Odoo seeded with the six scenarios


class SettingsError(ValueError):
    """A setting is missing or malformed; the message names it and says what is expected."""


ODOO_PROTOCOLS = ("xmlrpc", "jsonrpc", "json2")
ODOO_PROFILES = ("auto", "helpdesk", "helpdesk_mgmt", "project")
APP_TYPES = ("MultiTenant", "SingleTenant", "UserAssignedMSI")
ODOO_URL_FORMS = ("https://odoo.example.com", "http://localhost:8069")
REDIS_URL_FORMS = ("redis://localhost:6379/0", "rediss://:password@redis.example.com:6380/0",
                   "unix:///run/redis/redis.sock", "redis+cluster://redis-1:6379,redis-2:6379",
                   "redis+sentinel://sentinel-1:26379,sentinel-2:26379/mymaster")
GITLAB_URL_FORMS = ("https://gitlab.example.com", "http://gitlab.internal:8080")
GITLAB_SETTINGS = ("GITLAB_URL", "GITLAB_TOKEN", "GITLAB_PROJECT")  # all three, or none: GitLab is not used


@dataclass(frozen=True)
class OdooSettings:
    url: str | None  # None: use the built-in sandbox
    db: str
    login: str
    api_key: str = field(repr=False)
    protocol: str = "xmlrpc"
    profile: str = "auto"
    timeout: float = 10.0  # seconds per call: a turn that finds Odoo silent still answers within Teams' 15 s


@dataclass(frozen=True)
class GitLabSettings:
    """Where `/ticket gitlab` files and finds issues (bot.gitlab)."""

    url: str  # GitLab's address, e.g. https://gitlab.example.com (a path when GitLab is served under one)
    token: str = field(repr=False)  # an access token with the api scope
    project: str  # the project issues are filed in: its id (42) or its path (tmf/platform)
    bug_labels: tuple[str, ...] = ("bug",)  # what a bug report is labelled


@dataclass(frozen=True)
class Settings:
    mode: Mode
    odoo: OdooSettings
    port: int = 3978
    host: str = "127.0.0.1"  # HOST; load_settings: every interface in production (a container's port), else this
    app_id: str = ""
    app_password: str = field(default="", repr=False)
    app_tenant_id: str = ""
    app_type: str = "MultiTenant"
    allowed_tenant_ids: tuple[str, ...] = ()  # ALLOWED_TENANT_IDS; empty: MICROSOFT_APP_TENANT_ID's alone (`tenants`)
    redis_url: str | None = None  # None: in-process stand-in (dev/demo only)
    process_profile: str = "mindx"
    timezone: str = "Asia/Ho_Chi_Minh"
    background_tasks: bool = True  # the timer worker and the Odoo poller (tests drive them by hand)
    turn_lease: float = 10.0  # seconds a turn's claim on its activity outlives its process (then a re-delivery runs)
    poll_interval: float = 30.0  # seconds between two looks at what changed in Odoo
    redis_timeout: float = 2.0  # seconds a Redis command may take before it fails (the turn says Redis is down)
    timer_lease: float = 60.0  # seconds a replica holds a claimed timer; a dead replica's timers fire after it
    redis_max_connections: int = 50  # connections to Redis at most; past them a command waits for a free one
    message_deadline: float = 10.0  # seconds a message's turn runs before the sender is told it is still being done
    invoke_deadline: float = 4.0  # the same for a card action (Teams waits about 5 s for those)
    # Teams' limits for what the bot posts on its own (bot.notify), shared by every replica: per conversation (a chat,
    # a channel) in a second, in 30 s and in an hour, and per tenant (every conversation of an organisation) a second
    conversation_per_second: int = 7
    conversation_per_30s: int = 60
    conversation_per_hour: int = 1_800
    tenant_per_second: int = 50
    gitlab: GitLabSettings | None = None  # None: `/ticket gitlab` says GitLab is not configured

    @property
    def auth_enabled(self) -> bool:
        return bool(self.app_id)

    @property
    def tenants(self) -> frozenset[str]:
        """The Microsoft 365 tenants whose users may use the bot (lower case): ALLOWED_TENANT_IDS, else
        MICROSOFT_APP_TENANT_ID; empty (dev and demo only: production refuses to start) means any tenant."""
        named = self.allowed_tenant_ids or ((self.app_tenant_id,) if self.app_tenant_id else ())
        return frozenset(tenant.lower() for tenant in named)

    @property
    def named_secrets(self) -> tuple[tuple[str, str], ...]:
        """Each secret that is set, with the setting it came from: the Odoo API key, the app password, a
        password in REDIS_URL, the GitLab token."""
        redis_passwords = _url_passwords(self.redis_url) if self.redis_url else ()
        named = (("ODOO_API_KEY", self.odoo.api_key), ("MICROSOFT_APP_PASSWORD", self.app_password),
                 *(("REDIS_URL", password) for password in redis_passwords),
                 ("GITLAB_TOKEN", self.gitlab.token if self.gitlab else ""))
        return tuple((name, secret) for name, secret in named if secret)

    @property
    def secrets(self) -> tuple[str, ...]:
        """What must never appear in a log."""
        return tuple(secret for _, secret in self.named_secrets)

    @property
    def uses_sandbox_odoo(self) -> bool:
        return self.odoo.url is None


def _url_passwords(url: str) -> tuple[str, ...]:
    """The passwords a URL carries: `redis://:pw@host`, or `?password=pw` (the way of unix:// URLs)."""
    parsed = urlparse(url)
    return tuple(p for p in (parsed.password, *parse_qs(parsed.query).get("password", ())) if p)


def shown_url(url: str) -> str:
    """The URL as it may be printed or logged: any password in it (`user:password@`, `?password=`) replaced by
    `***`, in a malformed URL too."""
    return re.sub(r"([?&]password=)[^&#]*", r"\1***", re.sub(r":[^@/]*@", ":***@", url))


@dataclass(frozen=True)
class RedisNodes:
    """A Redis Cluster (`redis+cluster://`) or a Sentinel setup (`redis+sentinel://`) as REDIS_URL names it: the
    nodes to start from (any reachable one of a cluster finds the others; the sentinels are asked where the master
    is), and how to reach the Redis servers themselves (the user and password, TLS with `rediss+...`)."""

    kind: str  # "cluster" or "sentinel"
    nodes: tuple[tuple[str, int], ...]
    tls: bool = False
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    master: str = ""  # sentinel: the name the sentinels monitor the master by
    db: int = 0  # sentinel: the database number (a cluster has database 0 only)


REDIS_NODE_SCHEMES = {"redis+cluster": ("cluster", False), "rediss+cluster": ("cluster", True),
                      "redis+sentinel": ("sentinel", False), "rediss+sentinel": ("sentinel", True)}
_DEFAULT_PORTS = {"cluster": 6379, "sentinel": 26379}
_HOST_PORT = re.compile(r"(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]+)(?::([0-9]{1,5}))?")


def redis_nodes(url: str) -> RedisNodes | None:
    """The cluster or sentinels `url` names; None for one server's URL (redis://, rediss://, unix://). A wrong one
    raises ValueError saying what is expected (without the URL: the caller shows it, its password hidden)."""
    scheme, _, rest = url.partition("://")
    if scheme not in REDIS_NODE_SCHEMES:
        return None
    kind, tls = REDIS_NODE_SCHEMES[scheme]
    example = REDIS_URL_FORMS[3] if kind == "cluster" else REDIS_URL_FORMS[4]
    netloc, _, path = rest.partition("/")
    if "?" in rest or "#" in rest:
        raise ValueError(f"a {kind} URL takes no ?options, e.g. {example}")
    userinfo, at, hosts = netloc.rpartition("@")
    username, _, password = userinfo.partition(":")
    nodes = []
    for host in hosts.split(","):
        matched = _HOST_PORT.fullmatch(host)
        port = int(matched.group(2) or _DEFAULT_PORTS[kind]) if matched else 0
        if not matched or not 1 <= port <= 65535:
            raise ValueError(f"a {kind} URL names its nodes as host:port separated by commas, e.g. {example}")
        nodes.append((matched.group(1).strip("[]"), port))
    master, db = "", 0
    parts = path.split("/") if path else []
    if kind == "cluster" and parts not in ([], ["0"]):
        raise ValueError(f"a cluster has database 0 only: nothing after the nodes, e.g. {example}")
    if kind == "sentinel":
        if not 1 <= len(parts) <= 2 or not parts[0] or (len(parts) == 2 and not parts[1].isdigit()):
            raise ValueError(f"a sentinel URL names the master after the sentinels, and optionally a database "
                             f"number, e.g. {example} or {example}/0")
        master, db = unquote(parts[0]), int(parts[1]) if len(parts) == 2 else 0
    return RedisNodes(kind, tuple(nodes), tls, unquote(username) or None if at else None,
                      unquote(password) or None if at else None, master, db)


def _redis_url(env: Mapping[str, str]) -> str | None:
    """REDIS_URL: one server (redis://, rediss://, unix://), a cluster or a sentinel setup."""
    value = env.get("REDIS_URL", "").strip()
    try:
        nodes = redis_nodes(value)
    except ValueError as error:
        raise SettingsError(f"REDIS_URL: {error}, got {shown_url(value)!r}") from None
    return value.rstrip("/") if nodes else _url(env, "REDIS_URL", REDIS_URL_FORMS)


def _port(env: Mapping[str, str]) -> int:
    raw = env.get("PORT", "3978")
    port = whole_number(raw, maximum=65535)
    if not port:
        raise SettingsError(f"PORT: expected a port number between 1 and 65535, got {raw!r}")
    return port


def _choice(env: Mapping[str, str], name: str, choices: tuple[str, ...], default: str) -> str:
    value = env.get(name, "").strip() or default
    if value not in choices:
        raise SettingsError(f"{name}: expected one of {', '.join(choices)}, got {value!r}")
    return value


def _url(env: Mapping[str, str], name: str, examples: tuple[str, ...]) -> str | None:
    """The URL in `name`, with one of the schemes of `examples`; a unix:// one names a socket's absolute path
    (unix:///run/redis/redis.sock), the others a host."""
    value = env.get(name, "").strip()
    if not value:
        return None
    parsed = urlparse(value)
    schemes = {urlparse(example).scheme for example in examples}
    if parsed.scheme == "unix":
        fits = parsed.path.startswith("/") and not parsed.hostname
    else:
        fits = bool(parsed.netloc)
    if parsed.scheme not in schemes or not fits:
        raise SettingsError(f"{name}: expected a URL like {either(examples)}, got {shown_url(value)!r}")
    return value.rstrip("/")


def _odoo(env: Mapping[str, str], mode: Mode) -> OdooSettings:
    protocol = _choice(env, "ODOO_PROTOCOL", ODOO_PROTOCOLS, "xmlrpc")
    profile = _choice(env, "ODOO_PROFILE", ODOO_PROFILES, "auto")
    url = None if mode is Mode.DEMO else _url(env, "ODOO_URL", ODOO_URL_FORMS)
    if url is None:
        if mode is Mode.PRODUCTION:
            raise SettingsError("ODOO_URL: expected the address of your Odoo server, e.g. https://odoo.example.com")
        return OdooSettings(url=None, db="sandbox", login="bot@sandbox.local", api_key="sandbox-key",
                            protocol=protocol, profile=profile)
    for name in ("ODOO_DB", "ODOO_LOGIN", "ODOO_API_KEY"):
        if not env.get(name, "").strip():
            raise SettingsError(f"{name}: required when ODOO_URL is set ({_ODOO_HINTS[name]})")
    return OdooSettings(url=url, db=env["ODOO_DB"].strip(), login=env["ODOO_LOGIN"].strip(),
                        api_key=env["ODOO_API_KEY"].strip(), protocol=protocol, profile=profile,
                        timeout=_seconds(env, "ODOO_TIMEOUT_SECONDS", 10.0))


_ODOO_HINTS = {
    "ODOO_DB": "the database name shown on Odoo's login page",
    "ODOO_LOGIN": "the login of the bot's Odoo user",
    "ODOO_API_KEY": "an API key of the bot's Odoo user (Preferences > Account Security)",
}


_GITLAB_HINTS = {
    "GITLAB_URL": "GitLab's address, e.g. https://gitlab.example.com",
    "GITLAB_TOKEN": "an access token with the api scope, of a GitLab user who is at least Reporter in "
                    "GITLAB_PROJECT",
    "GITLAB_PROJECT": "the id or path of the project issues are filed in, e.g. tmf/platform",
}
_GITLAB_PROJECT = re.compile(r"[0-9]+|[A-Za-z0-9_.][A-Za-z0-9_.-]*(/[A-Za-z0-9_.][A-Za-z0-9_.-]*)+")
_GITLAB_LABEL = re.compile(r"[^,\s][^,]*")


def _gitlab(env: Mapping[str, str]) -> GitLabSettings | None:
    """GITLAB_URL, GITLAB_TOKEN and GITLAB_PROJECT together, or none of them (GitLab is optional); GITLAB_BUG_LABELS
    (comma-separated, `bug` when unset)."""
    given = {name: env.get(name, "").strip() for name in GITLAB_SETTINGS}
    raw_labels = env.get("GITLAB_BUG_LABELS", "").strip()
    if not any(given.values()):
        return None
    missing = [name for name in GITLAB_SETTINGS if not given[name]]
    if missing:
        named = next(name for name in GITLAB_SETTINGS if given[name])
        raise SettingsError(f"{missing[0]}: required when {named} is set ({_GITLAB_HINTS[missing[0]]}); "
                            f"leave all of {', '.join(GITLAB_SETTINGS)} unset to run without GitLab")
    url = _url(env, "GITLAB_URL", GITLAB_URL_FORMS)
    assert url is not None  # given, so a URL or refused by _url
    if not _GITLAB_PROJECT.fullmatch(given["GITLAB_PROJECT"]):
        raise SettingsError(f"GITLAB_PROJECT: expected the project's id or path, e.g. 42 or tmf/platform, got "
                            f"{given['GITLAB_PROJECT']!r}")
    labels = tuple(label.strip() for label in raw_labels.split(",")) if raw_labels else ("bug",)
    if not all(_GITLAB_LABEL.fullmatch(label) for label in labels):
        raise SettingsError(f"GITLAB_BUG_LABELS: expected label names separated by commas, e.g. bug or "
                            f"type::bug,support, got {raw_labels!r}")
    return GitLabSettings(url=url, token=given["GITLAB_TOKEN"], project=given["GITLAB_PROJECT"], bug_labels=labels)


def _seconds(env: Mapping[str, str], name: str, default: float, *, most: float = 3600, why: str = "") -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = -1
    if not 1 <= value <= most:
        raise SettingsError(f"{name}: expected a number of seconds between 1 and {most:g}{why}, got {raw!r}")
    return value


def _deadline(env: Mapping[str, str], name: str, default: float, *, most: float) -> float:
    """Seconds a turn may run before it is answered; under Teams' own limit (`most`), or Teams gives up first."""
    return _seconds(env, name, default, most=most, why=" (Teams waits no longer)")


def _count(env: Mapping[str, str], name: str, default: int, *, least: int, most: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    if not raw.isascii() or not raw.isdigit() or not least <= int(raw) <= most:
        raise SettingsError(f"{name}: expected a whole number between {least} and {most:,}, got {raw!r}")
    return int(raw)


def _timezone(env: Mapping[str, str]) -> str:
    name = env.get("TIMEZONE", "").strip() or "Asia/Ho_Chi_Minh"
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise SettingsError(f"TIMEZONE: expected an IANA time zone like Asia/Ho_Chi_Minh, got {name!r}") from None
    return name


_TENANT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.-]{0,99}$")  # a GUID, or a domain (tenant.onmicrosoft.com)


def _tenants(env: Mapping[str, str], app_type: str, app_tenant: str) -> tuple[str, ...]:
    """ALLOWED_TENANT_IDS: comma-separated tenant ids; a SingleTenant app serves its own tenant only."""
    raw = env.get("ALLOWED_TENANT_IDS", "").strip()
    tenants = tuple(part.strip() for part in raw.split(",") if part.strip()) if raw else ()
    bad = [tenant for tenant in tenants if not _TENANT_ID.match(tenant)]
    if bad:
        raise SettingsError(f"ALLOWED_TENANT_IDS: expected tenant ids separated by commas, e.g. "
                            f"72f988bf-86f1-41af-91ab-2d7cd011db47,0b2b6e3e-0a3c-4a8e-9d7e-5f1c2b3a4d5e, got {raw!r}")
    if app_type == "SingleTenant" and any(t.lower() != app_tenant.lower() for t in tenants):
        raise SettingsError("ALLOWED_TENANT_IDS: a SingleTenant app serves only its own tenant "
                            f"(MICROSOFT_APP_TENANT_ID {app_tenant!r}); leave it unset or use a MultiTenant app")
    return tenants


def load_odoo_settings(env: Mapping[str, str]) -> OdooSettings:
    """The Odoo settings alone, ODOO_URL required (`setup-odoo` needs neither Teams nor Redis)."""
    return _odoo(env, Mode.PRODUCTION)


def process_profile_name(env: Mapping[str, str]) -> str:
    """PROCESS_PROFILE: a shipped profile's name or a YAML file (mindx when unset)."""
    return env.get("PROCESS_PROFILE", "").strip() or "mindx"


def load_settings(env: Mapping[str, str], mode: Mode = Mode.PRODUCTION) -> Settings:
    """Build the settings for `mode` from `env`, or raise SettingsError naming the bad setting."""
    app_id = env.get("MICROSOFT_APP_ID", "").strip()
    if mode is Mode.PRODUCTION and not app_id:
        raise SettingsError("MICROSOFT_APP_ID: required in production (the bot's Azure app id); "
                            "use --dev to run without authentication")
    app_password = env.get("MICROSOFT_APP_PASSWORD", "").strip()
    app_type = _choice(env, "MICROSOFT_APP_TYPE", APP_TYPES, "MultiTenant")
    if app_id and app_type != "UserAssignedMSI" and not app_password:
        raise SettingsError("MICROSOFT_APP_PASSWORD: required with MICROSOFT_APP_ID (the app's client secret)")
    tenant = env.get("MICROSOFT_APP_TENANT_ID", "").strip()
    if app_type == "SingleTenant" and not tenant:
        raise SettingsError("MICROSOFT_APP_TENANT_ID: required when MICROSOFT_APP_TYPE is SingleTenant")
    allowed = _tenants(env, app_type, tenant)
    if mode is Mode.PRODUCTION and not (allowed or tenant):
        raise SettingsError("ALLOWED_TENANT_IDS: required in production when MICROSOFT_APP_TENANT_ID is not set: the "
                            "Microsoft 365 tenant id(s) whose users may use the bot, comma-separated (anyone else's "
                            "messages are refused)")
    redis_url = None if mode is Mode.DEMO else _redis_url(env)
    if redis_url is None and mode is Mode.PRODUCTION:
        raise SettingsError("REDIS_URL: required in production, e.g. redis://localhost:6379/0 "
                            "(use --dev or --demo for an in-process stand-in)")
    settings = Settings(
        mode=mode,
        odoo=_odoo(env, mode),
        port=_port(env),
        host=env.get("HOST", "").strip() or ("0.0.0.0" if mode is Mode.PRODUCTION else "127.0.0.1"),
        app_id=app_id if mode is not Mode.DEMO else "",
        app_password=app_password if mode is not Mode.DEMO else "",
        app_tenant_id=tenant,
        app_type=app_type,
        allowed_tenant_ids=allowed,
        redis_url=redis_url,
        process_profile=process_profile_name(env),
        timezone=_timezone(env),
        turn_lease=_seconds(env, "TURN_LEASE_SECONDS", 10.0),
        poll_interval=_seconds(env, "ODOO_POLL_SECONDS", 30.0),
        redis_timeout=_seconds(env, "REDIS_TIMEOUT_SECONDS", 2.0),
        timer_lease=_seconds(env, "TIMER_LEASE_SECONDS", 60.0),
        redis_max_connections=_count(env, "REDIS_MAX_CONNECTIONS", 50, least=2, most=10_000),
        message_deadline=_deadline(env, "MESSAGE_DEADLINE_SECONDS", 10.0, most=14.0),
        invoke_deadline=_deadline(env, "INVOKE_DEADLINE_SECONDS", 4.0, most=4.5),
        conversation_per_second=_count(env, "TEAMS_CONVERSATION_PER_SECOND", 7, least=1, most=1_000),
        conversation_per_30s=_count(env, "TEAMS_CONVERSATION_PER_30_SECONDS", 60, least=1, most=30_000),
        conversation_per_hour=_count(env, "TEAMS_CONVERSATION_PER_HOUR", 1_800, least=1, most=3_600_000),
        tenant_per_second=_count(env, "TEAMS_TENANT_PER_SECOND", 50, least=1, most=10_000),
        gitlab=_gitlab(env),
    )
    if mode is Mode.PRODUCTION:
        _long_secrets(settings)
    return settings


def _long_secrets(settings: Settings) -> None:
    """Production's secrets are at least SHORTEST_SECRET characters long: a short one is easy to guess, and the
    logs hide it only where it is a word of its own (bot.logs). Dev takes one, e.g. a local Odoo's password."""
    for name, secret in settings.named_secrets:
        if len(secret) < SHORTEST_SECRET:
            what = "the password in it" if name == "REDIS_URL" else "the secret"
            raise SettingsError(f"{name}: {what} is {len(secret)} characters long; production needs at least "
                                f"{SHORTEST_SECRET} characters (harder to guess, and hidden from every log line); "
                                "--dev takes a shorter one")
