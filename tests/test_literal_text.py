"""`bot.wording.literal`: what people or Odoo wrote shows on a card as typed, never as Markdown.

Checked with the readers of tests/support/markdown.py: markdown-it as Microsoft's `adaptivecards` library
uses it (desktop and web), with code spans on too, and the mobile parser's triggers.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.wording import WORD_JOINER, literal
from cards.elements import facts
from tests.support.markdown import HOSTILE, constructs, folded, mobile_constructs, plain, visible

ORDINARY = ("Cannot log in to LMS", "Máy chiếu phòng 302 không nhận tín hiệu HDMI", "srv_db01 down since 08:05",
            "Printer #3 jams on A3 (floor 2)", "[URGENT] payroll export fails", "C:\\Users\\lan\\Desktop",
            "2.5 GB left on /var/log", "Tom & Jerry's laptop: 50% battery", "a < b, b > c", "+84 28 3823 4567",
            "Nguyễn Thị Hồng Nhung", "RE: invoice 2025-01-30 09:00", "user@mindx.edu.vn")


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_text_renders_no_construct_and_reads_as_typed(name: str) -> None:
    shown = literal(HOSTILE[name])
    assert constructs(shown) == []
    assert constructs(shown, code_spans=True) == []
    assert mobile_constructs(shown) == []
    assert visible(shown) == folded(HOSTILE[name])
    assert visible(shown, code_spans=True) == folded(HOSTILE[name])


@pytest.mark.parametrize("name", sorted(set(HOSTILE) - {"html"}))
def test_the_checker_sees_what_the_raw_text_would_render(name: str) -> None:
    """Without `literal`, each hostile text does render something (or reads differently): the checks above
    could fail. (HTML is the exception: Teams and the library render none, so it was text already.)"""
    raw = HOSTILE[name]
    assert constructs(raw, code_spans=True) or mobile_constructs(raw) or visible(raw) != folded(raw)


def test_the_checker_names_links_emphasis_and_lists() -> None:
    assert "link_open" in constructs("[x](https://evil.example)")
    assert "strong_open" in constructs("**x**") and "em_open" in constructs("_x_")
    assert "ordered_list_open" in constructs("1. x") and "bullet_list_open" in constructs("- x")
    assert mobile_constructs("[x](y) a)- b *c*") == ["mobile link", "mobile list", "mobile emphasis",
                                                       "mobile emphasis"]


@pytest.mark.parametrize("text", ORDINARY)
def test_ordinary_text_is_left_as_typed(text: str) -> None:
    """Titles and names without Markdown in them copy and search exactly as typed."""
    assert literal(text) == text


def test_lines_keep_their_breaks_and_only_markers_get_a_joiner() -> None:
    assert literal("one\r\n- two\n3. three\rfour") == f"one\r\n{WORD_JOINER}- two\n{WORD_JOINER}3. three\rfour"
    assert literal("[click me](https://evil.example)") == f"[click me]{WORD_JOINER}(https://evil.example)"
    assert literal("**x** a_b _c_") == "\\*\\*x\\*\\* a_b \\_c\\_"


def test_the_bots_own_markdown_around_literal_text_still_renders() -> None:
    line = f"**HT00042** {literal('**URGENT** [x](https://evil.example)')}"
    assert constructs(line) == ["strong_open", "strong_close"]
    assert visible(line) == "HT00042 **URGENT** [x](https://evil.example)"
    ends_in_a_backslash = literal("Lan \\")
    assert constructs(f"**{ends_in_a_backslash}**") == ["strong_open", "strong_close"]


def test_fact_values_are_shown_literally_and_titles_are_the_bots() -> None:
    [fact] = facts([("**Customer**", "[Boss](https://evil.example)")])["facts"]
    assert fact["title"] == "**Customer**"
    assert constructs(fact["value"]) == [] and visible(fact["value"]) == "[Boss](https://evil.example)"
    assert facts([("Empty", "")])["facts"] == []


MARKDOWN_ALPHABET = st.sampled_from([*"ab1 \t\n\r*_~`#>-+=|:[]()!<&\\.;/@é", "\u00a0", "http://x", "&amp;", "0.", "1)"])


@given(st.lists(MARKDOWN_ALPHABET, max_size=40).map("".join))
def test_any_text_renders_nothing_and_reads_as_typed(text: str) -> None:
    shown = literal(text)
    assert constructs(shown, code_spans=True) == []
    assert mobile_constructs(shown) == []
    assert visible(shown, code_spans=True) == folded(text)


@given(st.text(st.characters(exclude_categories=("Cs", "Cc")), max_size=60))
def test_punctuation_free_text_is_unchanged(text: str) -> None:
    """(Except a line that starts indented, which gets a joiner: an indent can start a code block.)"""
    ordinary = re.sub(r"(^|[\r\n])[ \t]+", r"\1", plain(text))
    assert literal(ordinary) == ordinary
