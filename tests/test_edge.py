"""What arrives at /api/messages is checked at the edge, before the token and before any turn: a body that is
not an activity the bot can read (not JSON, not an object, null, wrong types for the fields it reads, card data
nested too deep or too big, no conversation or serviceUrl) is a 400, logged in one line, and nothing runs.

Through the production path (authenticated, tests/support/auth.py signs the tokens), over real HTTP."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest

from bot.edge import MAX_CARD_DATA, MAX_DEPTH
from tests.test_auth import APP_ID, SecureBot, _activity, secure  # noqa: F401  (the fixture)


def _token(bot: SecureBot) -> dict[str, str]:
    return {"Authorization": "Bearer " + bot.key.token(app_id=APP_ID, service_url=bot.connector_url)}


async def _post(bot: SecureBot, body: bytes | str, headers: dict[str, str] | None = None) -> tuple[int, str]:
    async with bot.teams.session.post(bot.teams.bot_url, data=body,
                                      headers={"Content-Type": "application/json", **(headers or {})}) as response:
        return response.status, await response.text()


def _one_line(caplog: pytest.LogCaptureFixture) -> str:
    """The one line the refusal was logged in (no traceback)."""
    records = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(records) == 1, [r.getMessage() for r in records]
    [record] = records
    assert record.exc_info is None and "\n" not in record.getMessage()
    assert len(record.getMessage()) < 300
    return record.getMessage()


def _nested(depth: int) -> Any:
    data: Any = "x"
    for _ in range(depth):
        data = {"a": data}
    return data


NOT_ACTIVITIES = {
    "not json": "{not json",
    "null": "null",
    "a number": "42",
    "a string": '"message"',
    "a list": "[1, 2, 3]",
    "no type": json.dumps({"text": "no type"}),
    "type not text": json.dumps({"type": 5}),
}


@pytest.mark.parametrize("case", list(NOT_ACTIVITIES))
async def test_a_body_that_is_not_an_activity_is_400_before_the_token(secure: SecureBot, case: str,  # noqa: F811
                                                                      caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    status, text = await _post(secure, NOT_ACTIVITIES[case])  # no token at all: the body is refused first
    assert status == 400, text
    assert "Traceback" not in text and len(text) < 200
    assert "malformed activity" in _one_line(caplog)
    assert secure.teams.connector.posted == []


def _with(bot: SecureBot, path: str, value: Any) -> dict[str, Any]:
    """A valid `/ticket help` message with one field (a dotted path) replaced; `...` removes it."""
    activity = json.loads(json.dumps(_activity(bot)))
    *parents, last = path.split(".")
    node = activity
    for part in parents:
        node = node[part]
    if value is ...:
        del node[last]
    else:
        node[last] = value
    return activity


WRONG_FIELDS = {  # the fields the bot reads, each with a type it cannot read, or missing where it needs them
    "conversation missing": ("conversation", ...),
    "conversation null": ("conversation", None),
    "conversation a string": ("conversation", "19:abc"),
    "conversation without id": ("conversation.id", ...),
    "conversation id a number": ("conversation.id", 7),
    "serviceUrl missing": ("serviceUrl", ...),
    "serviceUrl a list": ("serviceUrl", ["http://x"]),
    "from a string": ("from", "29:agent"),
    "from id a dict": ("from.id", {"id": "x"}),
    "from name a number": ("from.name", 5),
    "recipient a list": ("recipient", []),
    "text a dict": ("text", {"a": 1}),
    "text a number": ("text", 12),
    "locale a list": ("locale", ["en-US"]),
    "id a number": ("id", 3),
    "entities a dict": ("entities", {"type": "mention"}),
    "entity a string": ("entities", ["mention"]),
    "mention target a string": ("entities", [{"type": "mention", "text": "<at>x</at>", "mentioned": "x"}]),
    "channelData a list": ("channelData", [1]),
    "tenant a string": ("channelData.tenant", "t"),
    "tenant id a number": ("channelData.tenant.id", 1),
    "replyToId a dict": ("replyToId", {}),
}


@pytest.mark.parametrize("case", list(WRONG_FIELDS))
async def test_fields_of_the_wrong_type_are_400_and_nothing_runs(secure: SecureBot, case: str,  # noqa: F811
                                                                 caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    path, value = WRONG_FIELDS[case]
    status, text = await _post(secure, json.dumps(_with(secure, path, value)), _token(secure))
    assert status == 400, text
    assert path.split(".")[0] in _one_line(caplog)
    assert secure.teams.connector.posted == []


async def test_a_message_without_conversation_or_service_url_with_a_valid_token_is_400_at_once(
        secure: SecureBot) -> None:  # noqa: F811
    for path in ("conversation", "serviceUrl"):
        status, _ = await _post(secure, json.dumps(_with(secure, path, ...)), _token(secure))
        assert status == 400
    assert secure.teams.connector.posted == []


def _card_action(bot: SecureBot, data: Any) -> dict[str, Any]:
    return {**_activity(bot), "type": "invoke", "name": "adaptiveCard/action", "text": None,
            "value": {"action": {"type": "Action.Execute", "verb": "draft.post", "data": data}}}


async def test_card_data_nested_600_deep_is_400_in_one_line(secure: SecureBot,  # noqa: F811
                                                           caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    body = json.dumps(_card_action(secure, _nested(600)))
    assert len(body) < 5000  # 4 KB of JSON
    status, text = await _post(secure, body, _token(secure))
    assert status == 400 and len(text) < 200
    assert "deep" in _one_line(caplog)
    caplog.clear()
    status, _ = await _post(secure, json.dumps({**_activity(secure), "value": _nested(600)}), _token(secure))
    assert status == 400  # an Action.Submit's data, in a message
    assert "deep" in _one_line(caplog)


async def test_card_data_just_within_the_bounds_is_served(secure: SecureBot) -> None:  # noqa: F811
    secure.teams.headers = _token(secure)
    deep = _card_action(secure, _nested(MAX_DEPTH - 4))  # the activity, value, action and data are 4 levels
    status, _ = await secure.teams.invoke("x", {})  # the shape the tests send is served
    assert status == 200
    status, _ = await _post(secure, json.dumps(deep), _token(secure))
    assert status == 200


async def test_card_data_too_big_is_400_in_one_line(secure: SecureBot,  # noqa: F811
                                                    caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    wide = {f"field{n}": "x" * 100 for n in range(MAX_CARD_DATA // 100)}
    status, _ = await _post(secure, json.dumps(_card_action(secure, wide)), _token(secure))
    assert status == 400
    assert "card data" in _one_line(caplog)
    assert secure.teams.connector.posted == []


def test_clean_data_refuses_what_is_nested_too_deep_instead_of_overflowing() -> None:
    from bot.untrusted import clean_data

    assert clean_data(_nested(MAX_DEPTH - 1)) == _nested(MAX_DEPTH - 1)
    with pytest.raises(ValueError, match="nested more than"):
        clean_data(_nested(600))
