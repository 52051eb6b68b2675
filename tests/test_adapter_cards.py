"""A card goes out through botbuilder as the JSON it is (bot/adapter.py's `_Card`): msrest's serializer and
botbuilder's deep copy take it as is, and what is sent is what msrest made of it before."""

from __future__ import annotations

import copy
from typing import Any

import botbuilder.schema as schema
from botbuilder.schema import Activity
from msrest.serialization import Serializer

from bot.adapter import to_activity
from bot.turn import Reply

CARD: dict[str, Any] = {
    "type": "AdaptiveCard", "version": "1.5", "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
    "body": [{"type": "TextBlock", "text": "**#12** Máy chiếu không lên", "wrap": True, "size": "Medium"},
             {"type": "FactSet", "facts": [{"title": "Users", "value": "3"}, {"title": "Due", "value": None}]},
             {"type": "ColumnSet", "columns": [{"width": 1, "items": []}, {"width": 2.5, "items": [True, False]}]}],
    "actions": [{"type": "Action.Execute", "verb": "ticket.take", "data": {"ticket": 12, "nested": [[1, 2], {}]}}],
}


def test_a_card_is_sent_as_the_json_msrest_made_of_it_before() -> None:
    serializer = Serializer({name: model for name, model in vars(schema).items() if isinstance(model, type)})
    sent = serializer.body(to_activity(Reply(text="x", card=CARD)), "Activity")
    plain = Activity(type="message", text="x", text_format="markdown", attachments=[
        {"contentType": "application/vnd.microsoft.card.adaptive", "content": copy.deepcopy(CARD)}])
    assert sent == serializer.body(plain, "Activity")
    assert sent["attachments"][0]["content"] == CARD


def test_botbuilders_copy_of_an_activity_shares_its_card() -> None:
    activity = to_activity(Reply(card=CARD))
    copied = copy.deepcopy(activity)
    assert copied is not activity and copied.attachments is not activity.attachments
    assert copied.attachments[0].content is activity.attachments[0].content == CARD
