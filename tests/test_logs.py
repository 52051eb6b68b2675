"""Logs: one JSON object a line in production, the turn's correlation id as a field on every line
logged during a turn, and no secret or customer's personal data in any of them, whatever logged it.

The scenario test runs the bot over HTTP with the production log handler (`bot.logs.log_handler`, as
`configure_logging` installs it) on the root logger at DEBUG: the seeds' first scenario, Odoo down and
back (a kept command replayed by the outbox relay), a refused command, and a handler failing with a
traceback whose message carries the secrets and a customer's contact details.
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from redis.asyncio import Redis

from bot.demo.seed import CUSTOMERS
from bot.logs import SECRET_HIDDEN, correlation, log_handler
from bot.server import RUNTIME, Runtime, create_app
from bot.settings import GitLabSettings, Settings
from tests.conftest import AGENT, FakeClock, RunningSandbox, bot_settings
from tests.support.connector import ConnectorStub
from tests.support.odoo_view import OdooView
from tests.support.teams import TeamsClient, card_text

APP_PASSWORD = "app-password-Qx7~not.real"
PHONES = ("0912 345 678", "+84 28 3823 4567", "0987654321")
CUSTOMER_EMAILS = tuple(email for _, email in CUSTOMERS)


@pytest.fixture
def settings(redis_url: str, sandbox: RunningSandbox) -> Settings:
    return bot_settings(redis_url, sandbox.url, app_password=APP_PASSWORD)


@pytest.fixture
def production_logs(settings: Settings) -> Iterator[io.StringIO]:
    """What production would write to stderr, at DEBUG, for everything logged meanwhile."""
    out = io.StringIO()
    handler = log_handler(out, json_logs=True, secrets=settings.secrets)
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield out
    root.removeHandler(handler)
    root.setLevel(level)


@dataclass
class Bot:
    teams: TeamsClient
    runtime: Runtime


@pytest.fixture
async def bot(redis: Redis, settings: Settings, connector: tuple[ConnectorStub, str], clock: FakeClock,
              production_logs: io.StringIO) -> AsyncIterator[Bot]:
    stub, connector_url = connector
    app = create_app(settings, clock=clock.now)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    async with aiohttp.ClientSession() as session:
        yield Bot(TeamsClient(str(server.make_url("/api/messages")), connector_url, stub, session, AGENT),
                  app[RUNTIME])
    await server.close()


def lines(out: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.getvalue().splitlines()]


def reference(card: dict[str, Any]) -> str:
    found = re.search(r"Reference: (\w+)", card_text(card))
    assert found, card_text(card)
    return found.group(1)


# ---- the handler ------------------------------------------------------------------------------------------
def test_a_line_is_one_json_object_with_the_turns_correlation_id() -> None:
    out = io.StringIO()
    logger = logging.getLogger("tests.logs.shape")
    logger.addHandler(log_handler(out, json_logs=True))
    logger.setLevel(logging.DEBUG)
    logger.info("before the turn")
    with correlation("3f2a9c01b7d4"):
        logger.debug("odoo %s %s in %.1f ms", "helpdesk.ticket", "read", 3.25)
    logger.warning("after it")
    before, during, after = lines(out)
    assert during["message"] == "odoo helpdesk.ticket read in 3.2 ms" and during["correlation_id"] == "3f2a9c01b7d4"
    assert during["level"] == "DEBUG" and during["logger"] == "tests.logs.shape" and during["time"]
    assert "correlation_id" not in before and "correlation_id" not in after


async def test_the_id_follows_the_turn_into_the_tasks_it_starts() -> None:
    out = io.StringIO()
    logger = logging.getLogger("tests.logs.tasks")
    logger.addHandler(log_handler(out, json_logs=True))
    logger.setLevel(logging.INFO)

    async def later() -> None:
        await asyncio.sleep(0)
        logger.info("finished after the card was answered")

    with correlation("turn-a"):
        task = asyncio.ensure_future(later())
    with correlation("turn-b"):
        logger.info("another turn meanwhile")
    await task
    assert {line["message"]: line["correlation_id"] for line in lines(out)} == {
        "another turn meanwhile": "turn-b", "finished after the card was answered": "turn-a"}


@pytest.mark.parametrize("json_logs", [True, False])
def test_secrets_and_personal_data_are_taken_out_of_messages_and_tracebacks(json_logs: bool) -> None:
    out = io.StringIO()
    logger = logging.getLogger(f"tests.logs.redact.{json_logs}")
    logger.addHandler(log_handler(out, json_logs=json_logs, secrets=("odoo-key-123", APP_PASSWORD, "")))
    try:
        raise RuntimeError(f"login with odoo-key-123 for teacher01@mindx.edu.vn failed, call {PHONES[0]}")
    except RuntimeError:
        logger.exception("calling %s (%s) with %s", "director@mindx.edu.vn", PHONES[1], APP_PASSWORD)
    written = out.getvalue()
    for leak in ("odoo-key-123", APP_PASSWORD, "teacher01@mindx.edu.vn", "director@mindx.edu.vn", *PHONES[:2]):
        assert leak not in written
    assert "calling [e-mail hidden] ([phone hidden]) with [secret]" in written
    assert "RuntimeError: login with [secret] for [e-mail hidden] failed, call [phone hidden]" in written  # traceback


def test_a_short_secret_is_hidden_only_where_it_is_a_word_of_its_own() -> None:
    """`mgmt` as ODOO_API_KEY (dev only: production refuses a secret that short) does not eat into helpdesk_mgmt."""
    out = io.StringIO()
    logger = logging.getLogger("tests.logs.short")
    logger.addHandler(log_handler(out, json_logs=False, secrets=("mgmt", "odoo-key-123")))
    logger.warning("profile helpdesk_mgmt (module helpdesk-mgmt2), key mgmt; key=mgmt, 'mgmt'")
    logger.warning("GET /web?key%3Dodoo-key-123x&db=1")  # a long secret is hidden wherever it is
    assert out.getvalue().splitlines()[0].endswith(
        "profile helpdesk_mgmt (module helpdesk-mgmt2), key [secret]; key=[secret], '[secret]'")
    assert out.getvalue().splitlines()[1].endswith("GET /web?key%3D[secret]x&db=1")


def _one_line(message: str) -> str:
    out = io.StringIO()
    log_handler(out, json_logs=True).handle(logging.LogRecord("x", logging.INFO, __file__, 1, message, None, None))
    return str(json.loads(out.getvalue())["message"])


def test_what_is_not_personal_data_is_left_alone() -> None:
    for message in ("ticket HT00042 updated in 12.5 ms at 2025-01-29 08:33:01",
                    "cannot reach Odoo at http://127.0.0.1:8069: ClientConnectorError",
                    "timer ack|42 (due 2025-01-29T09:03:00+00:00) failed, attempt 2 of 5",
                    "turn 3f2a9c01b7d4: message in personal conversation"):
        assert _one_line(message) == message


def test_the_secrets_to_hide_come_from_the_settings() -> None:
    settings = bot_settings("redis://:r3dis-pw@redis.internal:6379/0", "http://odoo.internal:8069",
                            app_password=APP_PASSWORD)
    assert settings.secrets == (settings.odoo.api_key, APP_PASSWORD, "r3dis-pw")
    assert bot_settings("redis://127.0.0.1:6379/0", "http://odoo:8069").secrets == (settings.odoo.api_key,)
    unix = bot_settings("unix:///run/redis/redis.sock?db=0&password=r3dis-pw", "http://odoo:8069")  # redis-py's form
    assert unix.secrets == (settings.odoo.api_key, "r3dis-pw")
    gitlab = GitLabSettings("https://gitlab.internal", "glpat-s3cret-token", "tmf/platform")
    assert bot_settings("redis://127.0.0.1:6379/0", "http://odoo:8069", gitlab=gitlab).secrets == (
        settings.odoo.api_key, "glpat-s3cret-token")  # GITLAB_TOKEN, hidden like the others


# ---- whole scenarios ---------------------------------------------------------------------------------------
async def test_no_secret_or_customer_contact_in_the_logs_of_whole_scenarios(
        bot: Bot, production_logs: io.StringIO, sandbox: RunningSandbox, settings: Settings,
        monkeypatch: pytest.MonkeyPatch) -> None:
    teams, runtime, odoo = bot.teams, bot.runtime, OdooView(sandbox.odoo)
    # the seeds' scenario 1, with the customer's contact details in what the agent types
    await teams.card("/ticket new Không thể đăng nhập vào LMS users:1 customer:nguyen.van.a@mindx.edu.vn\n"
                     f"Teacher gets \"Invalid username or password\"; she asks to be called on {PHONES[0]}")
    tid = int(odoo.newest_ticket()["id"])
    await teams.card(f"/ticket ack {tid}")
    await teams.card(f"/ticket diag {tid} Account locked after 5 attempts; teacher01@mindx.edu.vn same issue, "
                     f"{PHONES[1]}")
    await teams.card(f"/ticket resolve {tid} Reset the password; sent to nguyen.van.a@mindx.edu.vn")
    await teams.card("/ticket new Broken customer:not-an-email")  # refused
    # Odoo down: a change is kept, a read fails fast; back up, the relay applies the kept change
    sandbox.odoo.down = True
    kept = card_text(await teams.card(f"/ticket note {tid} Called director@mindx.edu.vn on {PHONES[0]}"))
    assert "Your command is saved" in kept
    unavailable = await teams.card(f"/ticket show {tid}")
    sandbox.odoo.down = False
    runtime.services.odoo._rpc.breaker.succeeded()  # type: ignore[attr-defined]  # no cooldown wait in a test
    await runtime.relay.run_once()
    assert "Called director" in odoo.messages(tid, subtype="Note")[-1]["body"]
    await teams.card(f"/ticket confirm {tid} Logged in, thanks (called {PHONES[2]})")
    # a handler fails with a traceback whose message carries the secrets and a customer's contact details
    api_key = settings.odoo.api_key

    async def broken_note(*args: Any, **kwargs: Any) -> int:
        raise RuntimeError(f"posting with key {api_key} / {APP_PASSWORD} for student01@example.com ({PHONES[0]})")

    monkeypatch.setattr(runtime.services.odoo, "note", broken_note)
    failed = await teams.card("/ticket note 1 Still fine")
    assert "Sorry, something went wrong on my side." in card_text(failed)

    written = production_logs.getvalue()
    entries = lines(production_logs)
    for leak in (api_key, APP_PASSWORD, *CUSTOMER_EMAILS, *PHONES):
        assert leak not in written, leak
    [crash] = [e for e in entries if e["message"].endswith("failed") and "exception" in e]
    assert crash["correlation_id"] == reference(failed)  # the reference on the card finds the line
    assert f"RuntimeError: posting with key {SECRET_HIDDEN} / {SECRET_HIDDEN} for [e-mail hidden]" in \
        crash["exception"]
    assert any(e.get("correlation_id") == reference(unavailable) and "Odoo unavailable" in e["message"]
               for e in entries)
    # every line a turn logs carries its id as a field, whichever module logged it
    turns = [e for e in entries if re.match(r"turn \w+:", e["message"])]
    assert len(turns) >= 10
    for entry in turns:
        assert entry["message"].startswith(f"turn {entry['correlation_id']}:"), entry
    first_turn = entries.index(turns[0])  # before it: the start-up, which is no turn
    odoo_calls = [e for e in entries[first_turn:] if e["logger"] == "bot.odoo.transport"]  # its DEBUG lines
    assert len(odoo_calls) >= 10 and all(e.get("correlation_id") for e in odoo_calls)
    assert not any(e.get("correlation_id") for e in entries[:first_turn])
