"""How the bot writes what it says in Teams, wherever it is said (a card, a refusal, a reminder's reason): what
people or Odoo wrote shown as typed (`literal`), and moments said in the reader's time zone and language (`when`,
`day_and_time`, `day`). Plain text in, plain text out: no card, no I/O."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.i18n import N_, tr

WEEKDAYS = (N_("Mon"), N_("Tue"), N_("Wed"), N_("Thu"), N_("Fri"), N_("Sat"), N_("Sun"))
MONTHS = (N_("Jan"), N_("Feb"), N_("Mar"), N_("Apr"), N_("May"), N_("Jun"), N_("Jul"), N_("Aug"), N_("Sep"),
          N_("Oct"), N_("Nov"), N_("Dec"))

WORD_JOINER = "\u2060"
_LINE_BREAK = re.compile(r"(\r\n|\r|\n)")
# What starts a block at the start of a line (emphasis characters are escaped anyway): an indent, a quote, a
# setext underline or table row, a list item or rule, a heading, a reference definition `[x]: url`.
_BLOCK_MARKER = re.compile(r"[ \t>=|:-]|\+(?:[ \t]|$)|#{1,6}(?:[ \t]|$)|\d+[.)](?:[ \t]|$)|\[[^\]]*(?:$|\]:)")
# What the mobile clients' parser reads as a list item after `[`, `]` or `)`, anywhere in a line.
_MOBILE_LIST_ITEM = re.compile(r"(?:-|\d+\.) ")
_PUNCTUATION = frozenset("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")


def literal(value: str) -> str:
    """`value` (a title, a name, a note: anything a person or Odoo wrote) as it will read on a card, every
    character shown as typed, none of it Markdown. For TextBlock text; `facts` applies it to every value.

    Teams renders a subset of Markdown in TextBlocks and facts (bold, italic, lists, links): an attacker's
    ticket titled `[Reset your password](https://evil.example)` would be a link in the dev channel.
    No one escape works everywhere: desktop and web follow CommonMark (markdown-it) and honour backslash
    escapes; the mobile clients' own parser has shown the backslash itself (AdaptiveCards#5590,
    msteams-docs#5793; iOS fixed in Teams-AdaptiveCards-Mobile#83) and HTML entities are not decoded
    everywhere. So the least is changed, where it is needed:

    - constructs made of adjacent characters are broken by an invisible WORD JOINER (U+2060) that no
      parser can read through: between `]` and `(` (links, images), in front of a line that starts with a
      block marker (`- ` `1. ` `# ` `> ` indent, table rows, reference definitions `[x]: url`), after a
      `<` that is not before a space (autolinks, tags), after `&` before a letter or `#` (entities), and
      between `[`, `]` or `)` and a `- ` or `1. `, where the mobile parser starts a list;
    - emphasis delimiters cannot be broken by an invisible character (CommonMark's flanking rules see
      through it), so `*`, `` ` ``, `~~` and `_` get a backslash, except `_` between two ASCII letters or
      digits (`srv_db01`), which no parser reads as emphasis; a backslash before punctuation, a line
      break or the end gets one too, so it cannot escape what follows.

    Text without these characters is returned unchanged, so ordinary titles and names copy and search as
    typed; the price elsewhere is an invisible joiner in a copy, or a backslash on an older mobile client.
    Bare URLs stay text here; clients that turn them into links show the address itself, so nothing is
    hidden behind them. Input values (Input.Text `value`) are not rendered: never pass them through this.
    """
    return "".join(_literal_line(part) if index % 2 == 0 else part
                   for index, part in enumerate(_LINE_BREAK.split(value)))


def _literal_line(line: str) -> str:
    out = [WORD_JOINER] if _BLOCK_MARKER.match(line) else []
    for index, char in enumerate(line):
        before = line[index - 1] if index else ""
        after = line[index + 1] if index + 1 < len(line) else ""
        if char in "*`" or (char == "~" and "~" in (before, after)) or (char == "_" and not (
                _word_character(before) and _word_character(after))):
            out.append("\\" + char)
        elif char == "\\" and (after in _PUNCTUATION or not after):
            out.append("\\\\")
        elif (char == "<" and after.strip()) or (char == "&" and (_word_character(after) or after == "#")) or \
                (char == "]" and after == "(") or (char in "[])" and _MOBILE_LIST_ITEM.match(line, index + 1)):
            out += [char, WORD_JOINER]
        else:
            out.append(char)
    return "".join(out)


def _word_character(char: str) -> bool:
    return char.isascii() and char.isalnum()


def when(moment: datetime | None, tz: ZoneInfo, now: datetime | None = None) -> str:
    """`16:50 (in 25 min)`, `Thu 30 Jan 09:00 (in 14 h)`, `15:20 (10 min ago)` in the reader's zone and language."""
    if moment is None:
        return ""
    local = moment.astimezone(tz)
    same_day = now is not None and now.astimezone(tz).date() == local.date()
    label = local.strftime("%H:%M") if same_day else day_and_time(local)
    if now is None:
        return label
    delta = moment - now
    return f"{label} ({_relative(delta)})"


def day_and_time(local: datetime) -> str:
    """`Thu 30 Jan 09:00` (`T5, 30 thg 1 09:00`)."""
    return tr("{weekday} {day} {month} {time}", weekday=tr(WEEKDAYS[local.weekday()]), day=local.strftime("%d"),
              month=tr(MONTHS[local.month - 1]), time=local.strftime("%H:%M"))


def day(value: date) -> str:
    """`Thu 30 Jan` (`T5, 30 thg 1`)."""
    return tr("{weekday} {day} {month}", weekday=tr(WEEKDAYS[value.weekday()]), day=value.strftime("%d"),
              month=tr(MONTHS[value.month - 1]))


def _relative(delta: timedelta) -> str:
    seconds = int(abs(delta.total_seconds()))
    if seconds < 90:
        return tr("now")
    if seconds < 90 * 60:
        amount = tr("{count} min", count=round(seconds / 60))
    elif seconds < 48 * 3600:
        amount = tr("{count} h", count=round(seconds / 3600))
    else:
        amount = tr("{count} days", count=round(seconds / 86400))
    return tr("in {amount}", amount=amount) if delta.total_seconds() > 0 else tr("{amount} ago", amount=amount)
