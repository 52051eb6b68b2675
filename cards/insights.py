"""Step 7 cards: the trend of a period (with its charts) and a ticket's post-mortem (with its Markdown).

Pure functions. Teams caps a bot message at about 28 KB, so long lists are cut with a count of
what is left out, and the Markdown shown on the card is cut too (the Odoo note has all of it).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.i18n import N_, tr
from bot.insights.postmortem import PostMortem, event_line, stamps
from bot.insights.service_levels import rounded
from bot.insights.timeline import Event
from bot.insights.trends import KB_CANDIDATE, ClassTimes, Counts, Pattern, Spread, Trend
from bot.process import ClassOfService
from bot.wording import MONTHS, day, literal
from cards.charts import BLUE, LIGHT_BLUE, MARIGOLD, PURPLE, RED, Number, Series, grouped_bars, table
from cards.elements import Element, card, facts, open_url, text

LIST_SHOWN = 8
TIMELINE_SHOWN = 30
MARKDOWN_SHOWN = 8000
PATTERN_KINDS = {"category": N_("Category"), "error": N_("Error"), "root cause": N_("Root cause")}
CLASS_COLOURS = {ClassOfService.STANDARD: BLUE, ClassOfService.PRIORITY: MARIGOLD, ClassOfService.EXPEDITE: RED,
                 ClassOfService.FIXED_DEADLINE: PURPLE}
WEEK_DAYS = 8  # a week's chart names each day in full; a month's, 31 bars, shortly


def trend_card(trend: Trend, *, tz: ZoneInfo) -> dict[str, Any]:
    """The counts, and under the headline two charts Teams draws (`cards.charts`), each under its heading:
    tickets logged per day by class, and minutes to acknowledge (median, p90) against each class's target;
    tables of the same numbers where they are not drawn."""
    start, end = stamps([trend.period.start, trend.period.end], tz)
    body = [text(tr("Trends: the {period}", period=trend.period.label), size="Large", weight="Bolder"),
            text(f"{start} – {end} ({tz.key})", subtle=True, spacing="None"),
            text(_headline(trend), weight="Bolder")]
    if trend.capped:
        body.append(text(tr("Only the newest tickets were read: the counts are a lower bound."), color="warning"))
    if not trend.logged:
        return card(body)
    body += _section(tr("Tickets logged per day"), [_per_day_chart(trend)])
    if acknowledged := _acknowledge_chart(trend):
        body += _section(tr("Minutes to acknowledge"), [acknowledged])
    body += _section(tr("Counts"), [facts([(tr("Class of service"), _joined(trend.by_class)),
                                           (tr("Category"), _joined(trend.by_category)),
                                           (tr("Type"), _joined(trend.by_type)),
                                           (tr("Tags"), _joined(trend.by_tag)),
                                           (tr("Root cause"), _joined(trend.by_root_cause))])])
    body += _section(tr("Response times"), [facts([_times_fact(t) for t in trend.times])])
    body += _section(tr("Breaches ({count})", count=len(trend.breaches)),
                     [_bullets([f"{b.ticket}: {b.text}" for b in trend.breaches], none=tr("None: every target met."))])
    candidates = trend.kb_candidates
    body += _section(tr("Knowledge-base candidates (seen {count} times or more)", count=KB_CANDIDATE),
                     [_bullets([_pattern_line(p) for p in candidates], none=tr("None yet."))])
    body += _section(tr("Other recurring patterns"),
                     [_bullets([_pattern_line(p) for p in trend.patterns if p not in candidates],
                               none=tr("None: no other category, error text or root cause came back."))])
    return card(body)


def _per_day_chart(trend: Trend) -> Element:
    """Stacked bars: a bar per day, a colour per class of service that had tickets (its total in the legend).
    Where not drawn, a row per day that had tickets, with each class's count: a month's 31 rows of a column
    per class would be most of the 28 KB Teams allows a message, and a screen reader would read every zero."""
    days = [logged_on for logged_on, _ in trend.per_day]
    names = [day(d) if len(days) <= WEEK_DAYS else _short_day(d) for d in days]
    series = []
    for column, (cos, label) in enumerate(zip(trend.classes, trend.class_labels, strict=True)):
        counts = tuple(per_class[column] for _, per_class in trend.per_day)
        if any(counts):
            series.append(Series(f"{label} ({sum(counts)})", counts, CLASS_COLOURS[cos]))
    title = tr("Tickets logged per day")
    rows = [[day(logged_on), " · ".join(f"{label} {n}" for label, n in zip(trend.class_labels, per_class, strict=True)
                                         if n)]
            for logged_on, per_class in trend.per_day if any(per_class)]
    return grouped_bars(title, names, series, stacked=True, y_title=tr("Tickets"),
                        fallback=table([tr("Day"), tr("Tickets")], rows, widths=(1, 2)))


def _acknowledge_chart(trend: Trend) -> Element | None:
    """Bars per class of service: the median and p90 minutes to acknowledge, and the class's target next to them.
    None when no ticket of the period was acknowledged yet."""
    rows = [t for t in trend.times if t.acknowledge.count]
    if not rows:
        return None
    series = [Series(tr("median"), tuple(_minutes(t.acknowledge.median) for t in rows), BLUE),
              Series("p90", tuple(_minutes(t.acknowledge.p90) for t in rows), LIGHT_BLUE),
              Series(tr("target"), tuple(_minutes(t.acknowledge_target) for t in rows), MARIGOLD)]
    return grouped_bars(tr("Minutes to acknowledge"), [t.label for t in rows], series, y_title=tr("Minutes"),
                        first_column=tr("Class of service"))


def _minutes(value: timedelta | None) -> Number:
    """Minutes to one decimal (`12.5`), whole ones as such (`30`)."""
    minutes = round((value or timedelta()).total_seconds() / 60, 1)
    return int(minutes) if minutes.is_integer() else minutes


def _short_day(value: date) -> str:
    """`30 Jan` (`30 thg 1`): a month's days, where a bar is narrow."""
    return tr("{day} {month}", day=value.strftime("%d"), month=tr(MONTHS[value.month - 1]))


def _headline(trend: Trend) -> str:
    if not trend.logged:
        return tr("No tickets were logged in the {period}.", period=trend.period.label)
    logged = tr("{count} ticket logged", count=1) if trend.logged == 1 else \
        tr("{count} tickets logged", count=trend.logged)
    if trend.cancelled:
        logged = tr("{logged} ({count} more cancelled)", logged=logged, count=trend.cancelled)
    return tr("{logged}, {open} still open.", logged=logged, open=trend.still_open)


def _joined(counts: Counts) -> str:
    return " · ".join(f"{name} {count}" for name, count in counts)


def _spread(what: str, values: Spread) -> str:
    if values.median is None or values.p90 is None:
        return tr("{what}: none yet", what=what)
    return tr("{what} median {median}, p90 {p90}", what=what, median=rounded(values.median), p90=rounded(values.p90))


def _times_fact(times: ClassTimes) -> tuple[str, str]:
    acknowledge = tr("{spread} (target {target})", spread=_spread(tr("acknowledge"), times.acknowledge),
                     target=rounded(times.acknowledge_target))
    return f"{times.label} ({times.tickets})", f"{acknowledge} · {_spread(tr('resolve'), times.resolve)}"


def _pattern_line(pattern: Pattern) -> str:
    """The pattern and its first tickets: a failure seen on hundreds of tickets would name them all otherwise,
    past what Teams allows a message."""
    kind = PATTERN_KINDS.get(pattern.kind, pattern.kind)
    tickets = list(pattern.tickets[:LIST_SHOWN])
    if len(pattern.tickets) > LIST_SHOWN:
        tickets.append(tr("… and {count} more", count=len(pattern.tickets) - LIST_SHOWN))
    return tr("{kind} \u201c{text}\u201d: {count} tickets ({tickets})", kind=tr(kind), text=pattern.text,
              count=len(pattern.tickets), tickets=", ".join(tickets))


def postmortem_card(review: PostMortem, markdown: str, *, tz: ZoneInfo) -> dict[str, Any]:
    """The review, and its Markdown (as posted to Odoo) behind a "Markdown" button."""
    ticket, moments = review.ticket, review.moments
    body = [text(tr("Post-mortem"), weight="Bolder", color="accent"),
            text(f"{ticket.label} · {literal(ticket.title)}", size="Large", weight="Bolder", spacing="None")]
    if review.draft:
        body.append(text(tr("Draft: the ticket is still open ({stage}).", stage=literal(ticket.stage)), color="warning",
                         weight="Bolder"))
    body.append(text(literal(review.impact), color="attention", weight="Bolder"))
    reported, *resolved = stamps([moments.reported, *([moments.resolved] if moments.resolved else [])], tz)
    body.append(facts([
        (tr("Customer"), ticket.customer.name if ticket.customer else ""),
        (tr("Owner"), ticket.owner.name if ticket.owner else ""),
        (tr("Reported"), reported),
        (tr("Resolved"), resolved[0] if resolved else tr("not yet")),
        (tr("Time to acknowledge"), rounded(moments.to_acknowledge) if moments.to_acknowledge is not None else "—"),
        (tr("Time to resolve"), rounded(moments.to_resolve) if moments.to_resolve is not None else "—"),
        (tr("Status"), ticket.stage),
    ]))
    body += _section(tr("Timeline ({zone})", zone=tz.key), [_timeline(review, tz)])
    body += _section(tr("Root cause"),
                     [text(literal(review.root_cause) or tr("Not recorded: add it with `/ticket diag`."))])
    body += _section(tr("What went well"), [_bullets(review.went_well, none=tr("Nothing recorded."))])
    body += _section(tr("What to improve"), [_bullets(review.to_improve, none=tr("Nothing recorded."))])
    body += _section(tr("Action items"), [_bullets([tr("{item} (owner, due date: to fill in)", item=item)
                                                   for item in review.action_items], none=tr("Nothing to follow up."))])
    body.append(text(tr("Posted to the ticket's chatter as an internal note."), subtle=True, spacing="Large"))
    shown = markdown if len(markdown) <= MARKDOWN_SHOWN else \
        markdown[:MARKDOWN_SHOWN].rstrip() + "\n" + tr("… (cut here: the whole text is in the ticket's note in Odoo)")
    markdown_card = card([{**text(literal(shown)), "fontType": "Monospace", "size": "Small"}])  # its source, as is
    actions = [{"type": "Action.ShowCard", "title": tr("Markdown"), "card": markdown_card}]
    if ticket.url:
        actions.append(open_url(tr("Open in Odoo"), ticket.url))
    return card(body, actions)


def _timeline(review: PostMortem, tz: ZoneInfo) -> Element:
    events = review.timeline
    if len(events) <= TIMELINE_SHOWN:
        return facts(_rows(events, tz))
    half = TIMELINE_SHOWN // 2
    left_out = ("…", tr("{count} more in the Markdown", count=len(events) - 2 * half))
    return facts([*_rows(events[:half], tz), left_out, *_rows(events[-half:], tz)])


def _rows(events: Sequence[Event], tz: ZoneInfo) -> list[tuple[str, str]]:
    return [(at, event_line(e)) for at, e in zip(stamps([e.at for e in events], tz), events, strict=True)]


def _section(title: str, content: list[Element]) -> list[Element]:
    return [text(title, weight="Bolder", spacing="Medium"), *content]


def _bullets(items: Sequence[str], *, none: str) -> Element:
    """The bot's list of `items`, each shown `literal`: they are sentences with names, causes and error texts
    in them (Teams renders no code spans, so the bot's own backticks in one of them read the same)."""
    shown = [f"- {literal(item)}" for item in items[:LIST_SHOWN]]
    if len(items) > LIST_SHOWN:
        shown.append("- " + tr("… and {count} more", count=len(items) - LIST_SHOWN))
    return text("\n".join(shown) if shown else none, spacing="None")
