"""The edge of /api/messages: the body is read once, and refused (HTTP 400, one log line) before the token is
checked and before any turn runs, unless it is an activity the bot can read.

Anyone can send anything to the bot's public endpoint, a token or not, so nothing behind this module meets a
body that is not a JSON object, a field the bot reads holding another type than Teams sends (a list where a
name goes, a number for a conversation's id), an activity without the conversation or the serviceUrl every
answer goes to, or a structure nested deeper than anything Teams sends (Python's recursion stops at about a
thousand levels, and 4 KB of JSON reach 600). Card data (`value`: the inputs of a card, any shape the client
likes) is bounded in size as well: the router refuses, with an answer, a command longer than
MAX_COMMAND_LENGTH; what is far past that is not a command.

`parse` answers the body as a dict whose fields the adapter may read as Teams documents them.
"""

from __future__ import annotations

import json
from typing import Any

MAX_DEPTH = 32  # levels of nesting in a whole activity (Teams' own have fewer than 10)
MAX_CARD_DATA = 64_000  # characters of card data as JSON (eight times the longest command the bot takes)


class Malformed(ValueError):
    """Not an activity the bot can read; the message says why in a few words (never the body's own text)."""


_ID = {"id": str}
# The fields the bot (and botbuilder on its behalf) reads, and their JSON types: a dict is an object whose own
# fields are checked, a list `[spec]` an array of such. Absent or null is fine unless REQUIRED says otherwise.
_ACTIVITY: dict[str, Any] = {
    "type": str, "id": str, "name": str, "serviceUrl": str, "channelId": str, "text": str, "replyToId": str,
    "locale": str, "textFormat": str, "action": str,
    "conversation": {"id": str, "conversationType": str, "tenantId": str, "isGroup": bool, "name": str},
    "from": {"id": str, "name": str, "aadObjectId": str, "role": str},
    "recipient": {"id": str, "name": str, "aadObjectId": str, "role": str},
    "channelData": {"tenant": _ID, "team": {"id": str, "name": str}, "channel": {"id": str, "name": str},
                    "teamsTeamId": str, "teamsChannelId": str, "eventType": str},
    "entities": [{"type": str, "text": str, "mentioned": {"id": str, "name": str}, "timezone": str, "locale": str}],
    "membersAdded": [{"id": str, "name": str, "aadObjectId": str}],
    "membersRemoved": [{"id": str, "name": str, "aadObjectId": str}],
}
# Every answer goes to the activity's conversation through its serviceUrl, from the bot (recipient) to the sender.
REQUIRED = {("type",), ("serviceUrl",), ("conversation",), ("conversation", "id"), ("from",), ("from", "id"),
            ("recipient",), ("recipient", "id")}
_JSON_TYPES = {str: "text", bool: "true or false", dict: "an object", list: "a list"}


def parse(raw: bytes) -> dict[str, Any]:
    """The activity in `raw`, checked; raises Malformed."""
    try:
        body = json.loads(raw)
    except (ValueError, RecursionError):  # not JSON, not UTF-8, or nested past what the decoder can
        raise Malformed("not JSON") from None
    if not isinstance(body, dict):
        raise Malformed(f"the body is {_what(body)}, not an object")
    depth = _depth(body)
    if depth > MAX_DEPTH:
        raise Malformed(f"nested too deep (more than {MAX_DEPTH} levels)")
    _check(body, _ACTIVITY, ())
    if body.get("value") is not None and len(json.dumps(body["value"], ensure_ascii=False)) > MAX_CARD_DATA:
        raise Malformed(f"card data (value) longer than {MAX_CARD_DATA:,} characters")
    if not body["type"]:
        raise Malformed("type is empty")
    return body


def _check(node: dict[str, Any], spec: dict[str, Any], path: tuple[str, ...]) -> None:
    for name, expected in spec.items():
        where = (*path, name)
        value = node.get(name)
        if value is None:
            if where in REQUIRED:
                raise Malformed(f"{'.'.join(where)} is missing")
            continue
        if isinstance(expected, dict):
            if not isinstance(value, dict):
                raise Malformed(f"{'.'.join(where)} is {_what(value)}, not an object")
            _check(value, expected, where)
        elif isinstance(expected, list):
            if not isinstance(value, list):
                raise Malformed(f"{'.'.join(where)} is {_what(value)}, not a list")
            for item in value:
                if not isinstance(item, dict):
                    raise Malformed(f"{'.'.join(where)} holds {_what(item)}, not objects")
                _check(item, expected[0], where)
        elif not isinstance(value, expected) or (expected is not bool and isinstance(value, bool)):
            raise Malformed(f"{'.'.join(where)} is {_what(value)}, not {_JSON_TYPES[expected]}")


def _what(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, int | float):
        return "a number"
    return _JSON_TYPES.get(type(value), "something else")


def _depth(body: Any) -> int:
    """How deeply `body` nests (a scalar is 0, `{}` 1), without recursion, stopping past MAX_DEPTH."""
    deepest = 0
    stack = [(body, 1)]
    while stack:
        node, level = stack.pop()
        if isinstance(node, dict | list):
            deepest = max(deepest, level)
            if level > MAX_DEPTH:
                return level
            stack.extend((item, level + 1) for item in (node.values() if isinstance(node, dict) else node))
    return deepest
