"""The production path validates every inbound request: a bad token is 401, never 500."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import aiohttp
import jwt
import pytest
from aiohttp.test_utils import TestServer
from redis.asyncio import Redis

from bot.server import create_app
from bot.settings import Mode
from tests.conftest import AGENT, FakeClock, RunningSandbox, bot_settings
from tests.support.auth import OUTBOUND_TOKEN, SigningKey, trusted_keys
from tests.support.connector import ConnectorStub
from tests.support.teams import TeamsClient

APP_ID = "11111111-2222-3333-4444-555555555555"


@dataclass
class SecureBot:
    teams: TeamsClient
    key: SigningKey
    connector_url: str


@pytest.fixture
async def secure(redis: Redis, redis_url: str, sandbox: RunningSandbox, connector: tuple[ConnectorStub, str],
                 clock: FakeClock) -> AsyncIterator[SecureBot]:
    stub, connector_url = connector
    settings = bot_settings(redis_url, sandbox.url, app_id=APP_ID, app_password="not-a-real-secret",
                            mode=Mode.PRODUCTION)
    key = SigningKey("test-key-1")
    with trusted_keys(key):
        server = TestServer(create_app(settings, clock=clock.now), host="127.0.0.1")
        await server.start_server()
        async with aiohttp.ClientSession() as session:
            yield SecureBot(TeamsClient(str(server.make_url("/api/messages")), connector_url, stub, session, AGENT),
                            key, connector_url)
        await server.close()


def _activity(bot: SecureBot) -> dict[str, object]:
    return {**bot.teams._base(bot.teams.personal()), "type": "message", "text": "/ticket help"}


async def test_a_valid_token_is_served(secure: SecureBot) -> None:
    secure.teams.headers = {"Authorization": "Bearer " + secure.key.token(app_id=APP_ID,
                                                                         service_url=secure.connector_url)}
    replies = await secure.teams.send(_activity(secure))
    assert len(replies) == 1 and replies[0].card is not None


@pytest.mark.parametrize("case", ["missing", "malformed", "expired", "wrong audience", "wrong issuer",
                                  "foreign key", "wrong service url", "not bearer", "unsigned"])
async def test_bad_tokens_are_401_and_nothing_runs(secure: SecureBot, case: str) -> None:
    key, url = secure.key, secure.connector_url
    tokens = {
        "missing": None,
        "malformed": "Bearer not.a.jwt",
        "expired": "Bearer " + key.token(app_id=APP_ID, service_url=url, lifetime=-3600),
        "wrong audience": "Bearer " + key.token(app_id="someone-else", service_url=url),
        "wrong issuer": "Bearer " + key.token(app_id=APP_ID, service_url=url, issuer="https://evil.example"),
        "foreign key": "Bearer " + SigningKey("test-key-1").token(app_id=APP_ID, service_url=url),
        "wrong service url": "Bearer " + key.token(app_id=APP_ID, service_url="https://elsewhere.example"),
        "not bearer": "Basic " + key.token(app_id=APP_ID, service_url=url),
        "unsigned": "Bearer " + jwt.encode(  # valid claims, the trusted key's id, `alg: none` and no signature
            jwt.decode(key.token(app_id=APP_ID, service_url=url), options={"verify_signature": False}), None,
            algorithm="none", headers={"kid": key.kid}),
    }
    header = tokens[case]
    secure.teams.headers = {"Authorization": header} if header else {}
    posted_before = len(secure.teams.connector.posted)
    response = await secure.teams.post(_activity(secure))
    assert response.status == 401
    assert len(secure.teams.connector.posted) == posted_before


async def test_replies_carry_the_bots_outbound_token(secure: SecureBot) -> None:
    secure.teams.headers = {"Authorization": "Bearer " + secure.key.token(app_id=APP_ID,
                                                                         service_url=secure.connector_url)}
    await secure.teams.send(_activity(secure))
    assert secure.teams.connector.auth_headers[-1] == f"Bearer {OUTBOUND_TOKEN}"
