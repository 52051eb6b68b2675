"""HTML the way Odoo stores it: sanitized html fields and plain-text chatter bodies turned into HTML.

Recorded behaviour: a plain-text `message_post` body `x` is stored as `<p>x</p>`; an HTML body
sent without `body_is_html=True` is escaped (`<p>&lt;p&gt;Not ...</p>`); safe HTML is kept as sent.
"""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

VOID_TAGS = frozenset({"br", "img", "hr", "input", "meta", "link", "col", "area", "base", "wbr", "source"})
DROP_WITH_CONTENT = frozenset({"script", "style", "iframe", "object", "embed", "applet", "frame", "frameset"})
DROP_TAG_ONLY = frozenset({"html", "body", "head", "form", "button", "textarea", "select", "option", "title"})
_PARAGRAPH_BREAK = re.compile(r"\n\s*\n+")


def escape_text(text: str) -> str:
    """Escape like markupsafe: & < > " ' (quotes as numeric entities)."""
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&#34;").replace("'", "&#39;"))


def plaintext_to_html(text: str) -> str:
    """A plain-text body as Odoo stores it: escaped, paragraphs in <p>, single newlines as <br>."""
    paragraphs = _PARAGRAPH_BREAK.split(text.strip("\n"))
    return "".join(f"<p>{escape_text(p).replace(chr(10), '<br>')}</p>" for p in paragraphs)


class _Sanitizer(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self._dropping: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self._dropping or tag in DROP_WITH_CONTENT:
            if tag in DROP_WITH_CONTENT and tag not in VOID_TAGS:
                self._dropping.append(tag)
            return
        if tag in DROP_TAG_ONLY:
            return
        kept = "".join(f' {name}="{html.escape(value or "", quote=True)}"' for name, value in attrs
                       if not name.startswith("on") and not (value or "").strip().lower().startswith("javascript:"))
        self.out.append(f"<{tag}{kept}>")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in VOID_TAGS and not self._dropping and tag not in DROP_TAG_ONLY | DROP_WITH_CONTENT:
            self.out.append(f"</{tag}>")

    def handle_endtag(self, tag: str) -> None:
        if self._dropping:
            if tag == self._dropping[-1]:
                self._dropping.pop()
            return
        if tag in VOID_TAGS or tag in DROP_TAG_ONLY or tag in DROP_WITH_CONTENT:
            return
        self.out.append(f"</{tag}>")

    def handle_data(self, data: str) -> None:
        if not self._dropping:
            self.out.append(html.escape(data, quote=False))

    def handle_comment(self, data: str) -> None:
        if not self._dropping:
            self.out.append(f"<!--{data}-->")


def sanitize_html(text: str) -> str:
    """Keep safe markup, drop scripts/styles/event handlers; bare text gets a <p> like Odoo does."""
    if not text:
        return text
    parser = _Sanitizer()
    parser.feed(text)
    parser.close()
    result = "".join(parser.out)
    stripped = result.strip()
    if stripped and not stripped.startswith("<"):
        return f"<p>{stripped}</p>"
    return result
