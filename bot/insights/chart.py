"""The trend as a picture: tickets per day by class, and time to acknowledge against the target.

A small PNG (6 x 3 inches at 80 dpi, reduced to a 32-colour palette: a few KB) returned as a
data URI, which a card's Image element shows as is; Teams limits a bot message to about 28 KB.
Drawn with matplotlib's Agg canvas on a Figure of its own (no pyplot, no display, no global
state), so several charts can be drawn at once in worker threads.
"""

from __future__ import annotations

import base64
import io
from typing import Any

from bot.i18n import tr
from bot.insights.trends import Trend
from bot.process import ClassOfService

SIZE_INCHES = (6, 3)
DPI = 80
PALETTE_COLOURS = 32
CLASS_COLOURS = {
    ClassOfService.STANDARD: "#8a8886",
    ClassOfService.PRIORITY: "#e3a21a",
    ClassOfService.EXPEDITE: "#c4314b",
    ClassOfService.FIXED_DEADLINE: "#6264a7",
}
TARGET_COLOUR = "#c4314b"
MEDIAN_COLOUR = "#6264a7"
DATA_URI_PREFIX = "data:image/png;base64,"


def trend_chart(trend: Trend) -> str:
    """The chart as a `data:image/png;base64,...` URI."""
    # Imported here: matplotlib costs ~0.5 s and ~20 MB, which only a trend command should pay.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=SIZE_INCHES, dpi=DPI)
    FigureCanvasAgg(figure)
    per_day, acknowledge = figure.subplots(1, 2, gridspec_kw={"width_ratios": [3, 2]})
    _tickets_per_day(per_day, trend)
    _time_to_acknowledge(acknowledge, trend)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return DATA_URI_PREFIX + base64.b64encode(_with_palette(buffer.getvalue())).decode("ascii")


def _tickets_per_day(axes: Any, trend: Trend) -> None:
    days = [day for day, _ in trend.per_day]
    every = 1 if len(days) <= 8 else 5
    names = [day.strftime("%a\n%d" if every == 1 else "%d %b") for day in days]
    bottom = [0] * len(days)
    for column, (cos, label) in enumerate(zip(trend.classes, trend.class_labels, strict=True)):
        counts = [per_class[column] for _, per_class in trend.per_day]
        if any(counts):
            axes.bar(range(len(days)), counts, bottom=bottom, color=CLASS_COLOURS[cos],
                     label=f"{label} ({sum(counts)})")
            bottom = [b + c for b, c in zip(bottom, counts, strict=True)]
    axes.set_xticks(range(len(days))[::every], names[::every])
    axes.yaxis.get_major_locator().set_params(integer=True)
    axes.set_title(tr("Tickets logged per day"), fontsize=9)
    axes.tick_params(labelsize=7)
    if any(bottom):
        axes.legend(fontsize=6, frameon=False)


def _time_to_acknowledge(axes: Any, trend: Trend) -> None:
    rows = [t for t in trend.times if t.acknowledge.count]
    names = [t.label for t in rows]
    medians = [_minutes(t.acknowledge.median) for t in rows]
    p90s = [_minutes(t.acknowledge.p90) for t in rows]
    axes.barh(names, p90s, color=MEDIAN_COLOUR, alpha=0.35, label="p90")
    axes.barh(names, medians, color=MEDIAN_COLOUR, label=tr("median"))
    for row, times in enumerate(rows):
        target = times.acknowledge_target.total_seconds() / 60
        axes.plot([target, target], [row - 0.4, row + 0.4], color=TARGET_COLOUR, linewidth=2,
                  label=tr("target") if row == 0 else None)
    axes.set_title(tr("Minutes to acknowledge"), fontsize=9)
    axes.tick_params(labelsize=7)
    if rows:
        axes.legend(fontsize=6, frameon=False, ncol=3, loc="upper center", bbox_to_anchor=(0.5, -0.1))


def _minutes(value: Any) -> float:
    return value.total_seconds() / 60 if value is not None else 0.0


def _with_palette(png: bytes) -> bytes:
    """The same picture with a 32-colour palette: about a quarter of the bytes, no visible change."""
    from PIL import Image  # matplotlib's own dependency: deferred with it (only a trend command pays for it)

    image = Image.open(io.BytesIO(png)).convert("RGB").quantize(colors=PALETTE_COLOURS)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()
