"""Start-up configuration: one clear line naming the bad setting."""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from bot.settings import Mode, SettingsError, load_settings, redis_nodes
from tests.support.redis_server import free_port

ROOT = Path(__file__).resolve().parents[1]
PRODUCTION = {
    "MICROSOFT_APP_ID": "00000000-0000-0000-0000-000000000001",
    "MICROSOFT_APP_PASSWORD": "app-secret-value",
    "ODOO_URL": "https://odoo.example.com",
    "ODOO_DB": "prod",
    "ODOO_LOGIN": "bot@example.com",
    "ODOO_API_KEY": "odoo-secret-key",
    "REDIS_URL": "redis://localhost:6379/0",
    "ALLOWED_TENANT_IDS": "72f988bf-86f1-41af-91ab-2d7cd011db47",
}

GITLAB = {"GITLAB_URL": "https://gitlab.example.com/", "GITLAB_TOKEN": "gitlab-secret-token",
          "GITLAB_PROJECT": "tmf/platform"}


def test_production_settings_from_the_environment() -> None:
    settings = load_settings(PRODUCTION, Mode.PRODUCTION)
    assert settings.auth_enabled and settings.port == 3978 and settings.odoo.protocol == "xmlrpc"
    assert settings.process_profile == "mindx" and settings.odoo.profile == "auto"


def test_the_tenants_served_are_the_allow_list_else_the_apps_tenant_and_any_only_in_dev_and_demo() -> None:
    listed = {**PRODUCTION, "ALLOWED_TENANT_IDS": " 72F988BF-86f1-41af-91ab-2d7cd011db47, contoso.onmicrosoft.com ",
              "MICROSOFT_APP_TENANT_ID": "0b2b6e3e-0a3c-4a8e-9d7e-5f1c2b3a4d5e"}
    assert load_settings(listed, Mode.PRODUCTION).tenants == {"72f988bf-86f1-41af-91ab-2d7cd011db47",
                                                              "contoso.onmicrosoft.com"}
    single = {**PRODUCTION, "ALLOWED_TENANT_IDS": "", "MICROSOFT_APP_TYPE": "SingleTenant",
              "MICROSOFT_APP_TENANT_ID": "0b2b6e3e-0a3c-4a8e-9d7e-5f1c2b3a4d5e"}
    assert load_settings(single, Mode.PRODUCTION).tenants == {"0b2b6e3e-0a3c-4a8e-9d7e-5f1c2b3a4d5e"}
    with pytest.raises(SettingsError, match=r"^ALLOWED_TENANT_IDS: required in production when "
                                            r"MICROSOFT_APP_TENANT_ID is not set"):
        load_settings({**PRODUCTION, "ALLOWED_TENANT_IDS": ""}, Mode.PRODUCTION)
    assert load_settings({**PRODUCTION, "ALLOWED_TENANT_IDS": ""}, Mode.DEV).tenants == frozenset()  # any tenant
    assert load_settings({}, Mode.DEMO).tenants == frozenset()


def test_a_choice_may_have_spaces_around_it() -> None:
    settings = load_settings({**PRODUCTION, "ODOO_PROFILE": " project ", "ODOO_PROTOCOL": "json2 "}, Mode.PRODUCTION)
    assert settings.odoo.profile == "project" and settings.odoo.protocol == "json2"


def test_secrets_stay_out_of_repr() -> None:
    text = repr(load_settings({**PRODUCTION, **GITLAB}, Mode.PRODUCTION))
    assert "app-secret-value" not in text and "odoo-secret-key" not in text and "gitlab-secret-token" not in text


def test_gitlab_is_optional_and_its_token_a_secret_like_the_others() -> None:
    """All three GitLab settings, or none: then `/ticket gitlab` says GitLab is not configured."""
    assert load_settings(PRODUCTION, Mode.PRODUCTION).gitlab is None
    settings = load_settings({**PRODUCTION, **GITLAB, "GITLAB_BUG_LABELS": "type::bug, support"}, Mode.PRODUCTION)
    assert settings.gitlab is not None
    assert (settings.gitlab.url, settings.gitlab.project) == ("https://gitlab.example.com", "tmf/platform")
    assert settings.gitlab.bug_labels == ("type::bug", "support")
    assert ("GITLAB_TOKEN", "gitlab-secret-token") in settings.named_secrets
    assert load_settings({**GITLAB, "GITLAB_PROJECT": "42"}, Mode.DEMO).gitlab is not None  # the tests' demo too


@pytest.mark.parametrize(("change", "named"), [
    ({"MICROSOFT_APP_ID": ""}, "MICROSOFT_APP_ID"),
    ({"MICROSOFT_APP_PASSWORD": ""}, "MICROSOFT_APP_PASSWORD"),
    ({"REDIS_URL": ""}, "REDIS_URL"),
    ({"REDIS_URL": "localhost:6379"}, "REDIS_URL"),
    ({"ODOO_URL": ""}, "ODOO_URL"),
    ({"ODOO_URL": "odoo.example.com"}, "ODOO_URL"),
    ({"ODOO_API_KEY": ""}, "ODOO_API_KEY"),
    ({"ODOO_PROTOCOL": "soap"}, "ODOO_PROTOCOL"),
    ({"ODOO_PROFILE": "zendesk"}, "ODOO_PROFILE"),
    ({"PORT": "http"}, "PORT"),
    ({"PORT": "70000"}, "PORT"),
    ({"MICROSOFT_APP_TYPE": "Single"}, "MICROSOFT_APP_TYPE"),
    ({"MICROSOFT_APP_TYPE": "SingleTenant"}, "MICROSOFT_APP_TENANT_ID"),
    ({"ALLOWED_TENANT_IDS": ""}, "ALLOWED_TENANT_IDS"),
    ({"ALLOWED_TENANT_IDS": "tenant one, tenant two"}, "ALLOWED_TENANT_IDS"),
    ({"MICROSOFT_APP_TYPE": "SingleTenant", "MICROSOFT_APP_TENANT_ID": "72f988bf-86f1-41af-91ab-2d7cd011db47",
      "ALLOWED_TENANT_IDS": "0b2b6e3e-0a3c-4a8e-9d7e-5f1c2b3a4d5e"}, "ALLOWED_TENANT_IDS"),
    ({"TIMEZONE": "Mars/Olympus"}, "TIMEZONE"),
    ({"GITLAB_URL": "https://gitlab.example.com"}, "GITLAB_TOKEN"),
    ({"GITLAB_TOKEN": "gitlab-secret-token", "GITLAB_PROJECT": "tmf/platform"}, "GITLAB_URL"),
    ({"GITLAB_URL": "gitlab.example.com", "GITLAB_TOKEN": "gitlab-secret-token", "GITLAB_PROJECT": "7"}, "GITLAB_URL"),
    ({**GITLAB, "GITLAB_PROJECT": "tmf platform"}, "GITLAB_PROJECT"),
    ({**GITLAB, "GITLAB_BUG_LABELS": "bug,,support"}, "GITLAB_BUG_LABELS"),
    ({**GITLAB, "GITLAB_TOKEN": "glpat"}, "GITLAB_TOKEN"),  # shorter than 8 characters
])
def test_a_bad_setting_is_named(change: dict[str, str], named: str) -> None:
    with pytest.raises(SettingsError) as error:
        load_settings({**PRODUCTION, **change}, Mode.PRODUCTION)
    assert str(error.value).startswith(named + ":")
    assert "\n" not in str(error.value)


@pytest.mark.parametrize("url", ["unix:///run/redis/redis.sock", "unix:///run/redis/redis.sock?db=2",
                                 "rediss://:long-password@redis.example.com:6380/0", "redis://localhost:6379/0"])
def test_redis_url_forms(url: str) -> None:
    assert load_settings({**PRODUCTION, "REDIS_URL": url}, Mode.PRODUCTION).redis_url == url


@pytest.mark.parametrize(("url", "kind", "nodes", "master", "db"), [
    ("redis+cluster://redis-1:6379,redis-2:6380", "cluster", (("redis-1", 6379), ("redis-2", 6380)), "", 0),
    ("rediss+cluster://bot:long-password@10.0.0.5", "cluster", (("10.0.0.5", 6379),), "", 0),
    ("redis+sentinel://s1:26379,[::1]:26380,s3/tickets", "sentinel",
     (("s1", 26379), ("::1", 26380), ("s3", 26379)), "tickets", 0),
    ("rediss+sentinel://:long-password@s1:26379/tickets/2", "sentinel", (("s1", 26379),), "tickets", 2),
])
def test_a_cluster_or_sentinels_in_redis_url(url: str, kind: str, nodes: tuple[tuple[str, int], ...], master: str,
                                             db: int) -> None:
    settings = load_settings({**PRODUCTION, "REDIS_URL": url}, Mode.PRODUCTION)
    assert settings.redis_url == url
    named = redis_nodes(url)
    assert named is not None and (named.kind, named.nodes, named.master, named.db) == (kind, nodes, master, db)
    assert named.tls == url.startswith("rediss")
    assert (("REDIS_URL", "long-password") in settings.named_secrets) == ("long-password" in url)  # kept out of logs


@pytest.mark.parametrize(("url", "says"), [
    ("redis+cluster://redis-1:6379/2", "a cluster has database 0 only"),
    ("redis+cluster://redis-1:99999", "host:port separated by commas"),
    ("redis+cluster://redis-1:6379?ssl=yes", "takes no ?options"),
    ("redis+sentinel://:s3cret-pw@s1:26379", "names the master after the sentinels"),
    ("redis+sentinel://s1:26379/tickets/zero", "names the master after the sentinels"),
])
def test_a_wrong_cluster_or_sentinel_url_is_one_line(url: str, says: str) -> None:
    with pytest.raises(SettingsError) as error:
        load_settings({**PRODUCTION, "REDIS_URL": url}, Mode.PRODUCTION)
    message = str(error.value)
    assert message.startswith("REDIS_URL: ") and says in message and "\n" not in message
    assert "s3cret-pw" not in message


def test_a_malformed_redis_url_is_shown_without_its_password() -> None:
    for url in ("unix://redis.sock", "redis:/:s3cret-pw@localhost:6379"):
        with pytest.raises(SettingsError) as error:
            load_settings({**PRODUCTION, "REDIS_URL": url}, Mode.PRODUCTION)
        assert str(error.value).startswith("REDIS_URL: expected a URL like redis://localhost:6379/0, ")
        assert "unix:///run/redis/redis.sock" in str(error.value) and "s3cret-pw" not in str(error.value)


@pytest.mark.parametrize(("change", "named"), [
    ({"ODOO_API_KEY": "mgmt"}, "ODOO_API_KEY"),
    ({"MICROSOFT_APP_PASSWORD": "1234567"}, "MICROSOFT_APP_PASSWORD"),
    ({"REDIS_URL": "redis://:pw@localhost:6379/0"}, "REDIS_URL"),
    ({"REDIS_URL": "unix:///run/redis/redis.sock?password=pw"}, "REDIS_URL"),
])
def test_production_refuses_a_secret_shorter_than_8_characters(change: dict[str, str], named: str) -> None:
    with pytest.raises(SettingsError) as error:
        load_settings({**PRODUCTION, **change}, Mode.PRODUCTION)
    assert str(error.value).startswith(named + ":") and "at least 8 characters" in str(error.value)
    assert "mgmt" not in str(error.value) and ":pw@" not in str(error.value)


def test_dev_takes_a_short_secret_such_as_a_local_odoos_password() -> None:
    settings = load_settings({**PRODUCTION, "ODOO_API_KEY": "admin"}, Mode.DEV)
    assert settings.odoo.api_key == "admin"


def test_dev_and_demo_listen_on_the_loopback_unless_host_says_otherwise() -> None:
    """Authentication is off in dev and demo: only this machine may talk to the bot. Production listens on every
    interface, as a container must."""
    assert load_settings({}, Mode.DEV).host == "127.0.0.1" and load_settings({}, Mode.DEMO).host == "127.0.0.1"
    assert load_settings({"HOST": "0.0.0.0"}, Mode.DEV).host == "0.0.0.0"
    assert load_settings({"HOST": " "}, Mode.DEMO).host == "127.0.0.1"
    assert load_settings(PRODUCTION, Mode.PRODUCTION).host == "0.0.0.0"
    assert load_settings({**PRODUCTION, "HOST": "10.0.0.5"}, Mode.PRODUCTION).host == "10.0.0.5"


def test_dev_mode_needs_no_app_id_nor_redis_and_uses_the_sandbox() -> None:
    settings = load_settings({}, Mode.DEV)
    assert not settings.auth_enabled and settings.redis_url is None and settings.uses_sandbox_odoo


def test_demo_ignores_real_endpoints() -> None:
    settings = load_settings(PRODUCTION, Mode.DEMO)
    assert not settings.auth_enabled and settings.redis_url is None and settings.uses_sandbox_odoo


def _run_app(env: dict[str, str], *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """app.py run in `cwd`, by default an empty folder: a developer's .env (read from the current folder) stays
    out of the test."""
    with tempfile.TemporaryDirectory() as empty:
        return subprocess.run([sys.executable, str(ROOT / "app.py"), *args], cwd=cwd or empty,
                              env={"PATH": "/usr/bin:/bin", **env}, capture_output=True, text=True, timeout=60)


def test_app_refuses_to_start_without_app_id_and_says_why() -> None:
    result = _run_app({})
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "configuration error: MICROSOFT_APP_ID: required in production (the bot's Azure app id); "
        "use --dev to run without authentication"]


def test_app_refuses_a_bad_process_profile_with_its_line(tmp_path: Path) -> None:
    bad = tmp_path / "team.yaml"
    bad.write_text("name: team\ntitle: [unclosed\n")
    result = _run_app({"PROCESS_PROFILE": str(bad)}, "--dev")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1].startswith(f"configuration error: PROCESS_PROFILE: {bad}:")


def test_app_names_process_profile_when_no_profile_has_that_name() -> None:
    for name in ("foo", "MindX"):
        result = _run_app({"PROCESS_PROFILE": name}, "--dev")
        assert result.returncode == 2
        assert result.stderr.strip().splitlines()[-1] == (
            f"configuration error: PROCESS_PROFILE: no profile {name!r} "
            "(choose mindx, odoo-ps, tmf or a path to a YAML file)")


def test_app_names_odoo_profile_when_it_does_not_fit_the_process() -> None:
    """The built-in sandbox has helpdesk_mgmt; the mindx process works on helpdesk.ticket, project on tasks."""
    result = _run_app({"ODOO_PROFILE": "project", "PORT": str(free_port())}, "--dev")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1].startswith(
        "configuration error: ODOO_PROFILE: 'project' works on project.task, but the process profile")


def test_app_reads_dot_env_from_the_current_folder_and_the_environment_wins(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("# copied from .env.example\nTIMEZONE=Mars/Olympus\n"
                                   "PROCESS_PROFILE=team-${NOT_EXPANDED}.yaml\n")
    from_file = _run_app({}, "--dev", cwd=tmp_path)
    assert from_file.returncode == 2
    assert from_file.stderr.strip().splitlines()[-1] == (
        "configuration error: TIMEZONE: expected an IANA time zone like Asia/Ho_Chi_Minh, got 'Mars/Olympus'")
    environment = _run_app({"TIMEZONE": "Europe/Paris"}, "--dev", cwd=tmp_path)
    assert environment.returncode == 2
    assert environment.stderr.strip().splitlines()[-1].startswith(
        "configuration error: PROCESS_PROFILE: team-${NOT_EXPANDED}.yaml: cannot read the profile")


class _Reading(dict[str, str]):
    """An environment that notes every name looked up in it."""

    def __init__(self, values: Mapping[str, str]) -> None:
        super().__init__(values)
        self.read: set[str] = set()

    def get(self, key: str, default: object = None) -> Any:
        self.read.add(key)
        return super().get(key, default)

    def __getitem__(self, key: str) -> str:
        self.read.add(key)
        return super().__getitem__(key)


def test_env_example_lists_every_setting_the_bot_reads_and_nothing_else() -> None:
    example = (ROOT / ".env.example").read_text()
    listed = {line.partition("=")[0] for line in example.splitlines() if line and not line.startswith("#")}
    read: set[str] = set()
    for env, mode in ((PRODUCTION, Mode.PRODUCTION), ({**PRODUCTION, "MICROSOFT_APP_TYPE": "SingleTenant",
                                                      "MICROSOFT_APP_TENANT_ID": "tenant", "ALLOWED_TENANT_IDS": ""},
                                                     Mode.PRODUCTION),
                      ({}, Mode.DEV), ({}, Mode.DEMO)):
        reading = _Reading(env)
        load_settings(reading, mode)
        read |= reading.read
    assert listed == read
    assert "(soon)" not in example
    assert load_settings(_env_file(example), Mode.DEV).uses_sandbox_odoo  # a copy not filled in yet runs --dev


def test_the_settings_table_names_every_setting_in_env_example() -> None:
    """docs/install.md's table (the README's link for the settings) and .env.example say the same settings."""
    example = (ROOT / ".env.example").read_text()
    listed = {line.partition("=")[0] for line in example.splitlines() if line and not line.startswith("#")}
    install = (ROOT / "docs" / "install.md").read_text()
    table = install[install.index("## Settings"):install.index("## The Teams app package")]
    rows = [line.split("|")[1] for line in table.splitlines() if line.startswith("| `")]
    named = {name for row in rows for name in re.findall(r"`([A-Z][A-Z0-9_]+)`", row)}
    assert named == listed


def _env_file(text: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in text.splitlines() if line and not line.startswith("#"))
