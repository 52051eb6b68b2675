"""Step 7 cards: the trend of a period (with its chart) and a ticket's post-mortem (with its Markdown).

Pure functions. Teams caps a bot message at about 28 KB, so long lists are cut with a count of
what is left out, and the Markdown shown on the card is cut too (the Odoo note has all of it).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from zoneinfo import ZoneInfo

from bot.i18n import N_, tr
from bot.insights.postmortem import PostMortem, event_line, stamps
from bot.insights.service_levels import rounded
from bot.insights.timeline import Event
from bot.insights.trends import KB_CANDIDATE, ClassTimes, Counts, Pattern, Spread, Trend
from bot.wording import literal
from cards.elements import Element, card, facts, open_url, text

LIST_SHOWN = 8
TIMELINE_SHOWN = 30
MARKDOWN_SHOWN = 8000
PATTERN_KINDS = {"category": N_("Category"), "error": N_("Error"), "root cause": N_("Root cause")}


def trend_card(trend: Trend, *, tz: ZoneInfo, chart: str | None = None) -> dict[str, Any]:
    """`chart`: the picture as a data URI (`bot.insights.chart`), shown under the headline."""
    start, end = stamps([trend.period.start, trend.period.end], tz)
    body = [text(tr("Trends: the {period}", period=trend.period.label), size="Large", weight="Bolder"),
            text(f"{start} – {end} ({tz.key})", subtle=True, spacing="None"),
            text(_headline(trend), weight="Bolder")]
    if trend.capped:
        body.append(text(tr("Only the newest tickets were read: the counts are a lower bound."), color="warning"))
    if not trend.logged:
        return card(body)
    if chart:
        body.append({"type": "Image", "url": chart, "size": "Stretch",
                     "altText": tr("Tickets logged per day by class of service, and minutes to acknowledge (median "
                                   "and p90) against the target")})
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
    kind = PATTERN_KINDS.get(pattern.kind, pattern.kind)
    return tr("{kind} \u201c{text}\u201d: {count} tickets ({tickets})", kind=tr(kind), text=pattern.text,
              count=len(pattern.tickets), tickets=", ".join(pattern.tickets))


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
