"""Charts Teams draws itself, each with a table for the hosts that cannot. Pure: dicts in, dicts out.

Teams renders the `Chart.*` elements of an Adaptive Card (1.5) natively: in the client's theme (dark
and high contrast included), at the card's width, and readable by screen readers, where a picture is
a few fixed pixels with one alt text. A host that does not know them (the Agents Playground, Outlook,
an older client) renders the element's `fallback` instead: here always a `Table` of the same numbers, never
`drop`, so nothing is lost where nothing is drawn. The chart's `title` is what a screen reader announces
first; it is not drawn (`showTitle` is off, and not every renderer honours it), so the card puts the same
words in a heading above the chart, which every host shows.

The JSON follows Teams' chart schema (learn.microsoft.com, "Charts in Adaptive Cards"): `title`,
`data`, `x`/`y` points, `legend`/`values` series, `color` from Teams' own palette of names (not RGB: the
client picks the shade for its theme), `xAxisTitle`/`yAxisTitle`, `stacked` on grouped bars.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from cards.elements import Element, text

# Some of Teams' chart colours (ChartColor): names, which each theme draws in its own shade.
GOOD, WARNING, ATTENTION, NEUTRAL = "good", "warning", "attention", "neutral"
BLUE, LIGHT_BLUE, PURPLE, MARIGOLD, RED = ("categoricalBlue", "categoricalLightBlue", "categoricalPurple",
                                          "categoricalMarigold", "categoricalRed")

Number = int | float


MAX_SERIES = 4  # a grouped chart draws at most 4 series (Microsoft's chart renderer refuses more)


@dataclass(frozen=True)
class Series:
    """One coloured series of a grouped chart: its name in the legend and a value per category."""

    legend: str
    values: tuple[Number, ...]  # one per category, in the chart's order
    color: str


def grouped_bars(title: str, categories: Sequence[str], series: Sequence[Series], *, stacked: bool = False,
                 x_title: str = "", y_title: str = "", first_column: str = "",
                 fallback: Element | None = None) -> Element:
    """`Chart.VerticalBar.Grouped`: a bar per series in each category (on top of each other when `stacked`).
    Its fallback is `fallback` if given, else a table of a row per category and a column per series, whose
    categories' column `first_column` heads (`x_title` when not given)."""
    if not 0 < len(series) <= MAX_SERIES:
        raise ValueError(f"a grouped bar chart draws 1 to {MAX_SERIES} series, not {len(series)}")
    chart: Element = {
        "type": "Chart.VerticalBar.Grouped", "title": title,
        "data": [{"legend": s.legend, "color": s.color,
                  "values": [{"x": category, "y": value} for category, value in zip(categories, s.values, strict=True)]}
                 for s in series],
    }
    if stacked:
        chart["stacked"] = True
    if x_title:
        chart["xAxisTitle"] = x_title
    if y_title:
        chart["yAxisTitle"] = y_title
    if fallback is None:
        header = [first_column or x_title, *(s.legend for s in series)]
        rows = [[category, *(number(s.values[row]) for s in series)] for row, category in enumerate(categories)]
        fallback = table(header, rows)
    chart["fallback"] = fallback
    return chart


def table(header: Sequence[str], rows: Sequence[Sequence[str]], widths: Sequence[int] = ()) -> Element:
    """A `Table` of text cells; the columns' relative `widths`, by default the first (names) twice as wide as
    each of the others (numbers)."""
    widths = widths or [2, *[1] * (len(header) - 1)]
    return {
        "type": "Table", "firstRowAsHeader": True, "showGridLines": False,
        "columns": [{"width": width} for width in widths],
        "rows": [_row(header), *(_row(cells) for cells in rows)],
    }


def _row(cells: Sequence[str]) -> Element:
    return {"type": "TableRow", "cells": [{"type": "TableCell", "items": [text(cell)]} for cell in cells]}


def number(value: Number) -> str:
    """`3`, `12.5`: as the chart would label it (no trailing `.0`)."""
    return f"{value:g}" if isinstance(value, float) else str(value)
