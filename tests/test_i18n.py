"""The translation seam: the reader's language per turn, English as the fallback."""

from __future__ import annotations

import asyncio

from bot.i18n import ENGLISH, catalogue, current, language_of, speaking, tr


def test_teams_locales_map_to_shipped_languages() -> None:
    assert language_of("vi-VN") == "vi"
    assert language_of("vi") == "vi"
    assert language_of("en-GB") == ENGLISH
    assert language_of("fr-FR") == ENGLISH  # not shipped: English
    assert language_of("") == ENGLISH
    assert language_of(None) == ENGLISH


def test_a_sentence_is_said_in_the_language_being_spoken() -> None:
    sentence = "I only understand ticket commands. Try `/ticket help`."
    assert tr(sentence) == sentence
    with speaking("vi-VN"):
        assert current() == "vi"
        assert tr(sentence) == catalogue("vi")[sentence]
        assert tr(sentence) != sentence
    assert current() == ENGLISH


def test_an_untranslated_sentence_falls_back_to_english_with_its_values() -> None:
    with speaking("vi-VN"):
        assert tr("No translation for ticket {number} yet", number=7) == "No translation for ticket 7 yet"


async def test_two_turns_at_once_each_keep_their_language() -> None:
    async def turn(locale: str) -> str:
        with speaking(locale):
            await asyncio.sleep(0.01)
            return current()

    assert await asyncio.gather(turn("vi-VN"), turn("en-US")) == ["vi", ENGLISH]
