"""What the Markdown in a card's text becomes when Teams renders it, to check that people's text shows literally.

Two readers, because Teams has two:

- `constructs(text)`: markdown-it with the JavaScript library's defaults, which is what Microsoft's
  `adaptivecards` library renders TextBlocks and facts with (`markdownit().render(text)`: CommonMark,
  tables, strikethrough, no HTML). Code spans are off, as in Teams, which renders none (its documented
  subset is bold, italic, lists and links); `constructs(text, code_spans=True)` turns them on.
- `mobile_constructs(text)`: the triggers of the mobile clients' own parser (AdaptiveCards' shared
  `MarkDownBlockParser`): `[text](url)` with `](` adjacent, a list item (`- ` or `1. `) where a block
  starts (the start, a line break, `[`, `]` or `)`), an emphasis delimiter (`*` or `_`) not after a
  backslash, `_` between two ASCII letters or digits excepted.

Both give the names of the constructs found, so a card built from hostile text can be compared with the
same card built from plain text: the bot's own formatting is in both, anything more came from the text.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from typing import Any

from markdown_it import MarkdownIt

from bot.wording import WORD_JOINER

# Text people could write to make a card render something: one of each construct either reader knows.
HOSTILE = {
    "link": "[click me](https://evil.example)",
    "image": "![logo](https://evil.example/x.png)",
    "reference link": "[click me]\n\n[click me]: https://evil.example",
    "autolink": "<https://evil.example> <someone@evil.example>",
    "html": "<b>bold</b> <a href='https://evil.example'>x</a> <script>alert(1)</script>",
    "entities": "&amp; &lt;b&gt; &#42; &copy;",
    "bold": "**URGENT** __now__",
    "italic": "*please* _read_ me",
    "intraword emphasis": "2*3*4 and a*b*",
    "strikethrough": "~~not~~ this",
    "bullets": "- one\n+ two\n* three",
    "numbered": "1. first\n2) second\n10. tenth",
    "heading": "# Heading\n## Sub\n#",
    "setext heading": "Title\n===\nOther\n---",
    "quote": "> quoted\n>> nested",
    "indented code": "text\n\n    indented code",
    "code span": "`rm -rf /` and ``x``",
    "fence": "```\ncode\n```\n~~~\nmore\n~~~",
    "table": "| a | b |\n|---|---|\n| 1 | 2 |",
    "table without pipes": "a | b\n-|-\n1 | 2",
    "rule": "above\n\n***\n___\n- - -",
    "backslashes": "C:\\temp\\*x*\\ and \\[not a link\\](x) \\",
    "mobile list after a bracket": "(room 3)- 2. floor [x]- y [1. z",
    "mixed": "**[URGENT](https://evil.example)** _1. x_ `- y`",
}

_TEAMS = MarkdownIt("js-default").disable("backticks")
_WITH_CODE_SPANS = MarkdownIt("js-default")
_LAYOUT = {"inline", "text", "softbreak", "hardbreak", "paragraph_open", "paragraph_close"}
_MOBILE = {
    "mobile link": re.compile(r"\]\("),
    "mobile list": re.compile(r"(?:^|(?<=[\r\n\[\])]))(?:-|\d+\.) "),
    "mobile emphasis": re.compile(r"(?<!\\)\*|(?<![\\A-Za-z0-9])_|(?<!\\)_(?![A-Za-z0-9])"),
}


def _tokens(text: str, code_spans: bool) -> Iterator[Any]:
    for token in (_WITH_CODE_SPANS if code_spans else _TEAMS).parse(text):
        yield token
        yield from token.children or ()


def constructs(text: str, *, code_spans: bool = False) -> list[str]:
    """The Markdown constructs (link_open, em_open, bullet_list_open, heading_open...) rendered from `text`;
    paragraphs and line breaks are layout, not constructs."""
    return [token.type for token in _tokens(text, code_spans) if token.type not in _LAYOUT]


def visible(text: str, *, code_spans: bool = False) -> str:
    """What a reader sees of `text` once rendered, whitespace folded as a card folds it, joiners dropped."""
    parts = [token.content if token.type in ("text", "code_inline") else " " for token in _tokens(text, code_spans)
             if token.type in ("text", "code_inline", "softbreak", "hardbreak", "paragraph_close")]
    return folded("".join(parts))


def folded(text: str) -> str:
    return " ".join(text.replace(WORD_JOINER, "").split())


def mobile_constructs(text: str) -> list[str]:
    return [name for name, pattern in _MOBILE.items() for _ in pattern.finditer(text)]


def card_texts(card: dict[str, Any]) -> list[str]:
    """Every text of the card that Teams renders as Markdown: TextBlocks, fact titles and values (in the
    card, its actions' cards and select actions). Input values, placeholders and button titles are not."""
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "TextBlock":
                found.append(node["text"])
            if node.get("type") == "FactSet":
                found.extend(part for fact in node["facts"] for part in (fact["title"], fact["value"]))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(card)
    return found


def card_constructs(card: dict[str, Any]) -> Counter[str]:
    return Counter(name for text in card_texts(card) for name in (*constructs(text), *mobile_constructs(text)))


def card_visible(card: dict[str, Any]) -> str:
    return "\n".join(visible(text) for text in card_texts(card))


def plain(text: str) -> str:
    """`text` with its punctuation made letters: the same lines and lengths, nothing Markdown could read."""
    return re.sub(r"[^\w\s]|_", "x", text)
