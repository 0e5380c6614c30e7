"""The picture in the managers' daily digest: tickets opened and resolved per day, and how many were on time.

The chart carries no words at all, only numbers and dates, because the server is not guaranteed a
Chinese font and managers read Chinese. The caption explains the key with coloured squares, so the
colours below are the Twemoji colours of 🟦 🟩 🟧 and must stay in step with that caption.

Everything is built on a bare Figure and rendered by the Agg canvas, never through pyplot, so no global
figure state is touched and rendering is safe in a worker thread (asyncio.to_thread).
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matplotlib.axes import Axes

# matplotlib itself is imported only when a chart is drawn (once a day): it is half the memory the bot
# would otherwise hold from its start (`guanjia bench`, peak memory).

NEW_COLOUR = "#55ACEE"  # 🟦 bars: tickets opened that day
RESOLVED_COLOUR = "#78B159"  # 🟩 bars: tickets resolved that day
ON_TIME_COLOUR = "#F4900C"  # 🟧 line with dots, right axis: share of repairs resolved within the commitment
TARGET_COLOUR = "#707070"  # dashed grey line, right axis: the on-time target

# About 1200×750 px: wide enough to read on a phone without zooming into a huge file.
FIGURE_SIZE_INCHES = (8.0, 5.0)
DPI = 150

# Only matplotlib's bundled font, so no font lookup can wander off or warn.
_FONT = "DejaVu Sans"
_TICK_FONT_SIZE = 14
_INK = "#333333"
_GRID = "#DDDDDD"
_BAR_WIDTH = 0.38
_MOST_DATE_LABELS = 8  # "11-08" at 14 pt: more than this many across the chart would collide
_FEWEST_DAY_SLOTS = 5  # a short series keeps bars of a sensible width instead of filling the chart
_MOST_BIG_DOTS = 14  # past a fortnight the dots shrink so a month's line stays a line
_GRID_STEPS = 5  # 0 %, 20 %, … 100 % on the right; the counts on the left are cut into as many steps
_HEADROOM = 1.05  # the tallest bar stops short of the top edge


@dataclass(frozen=True)
class TrendDay:
    day: date
    new: int  # tickets opened that local day
    resolved: int  # tickets resolved that local day
    on_time_rate: (
        float | None
    )  # share (0..1) of that day's resolutions within their commitment; None if none resolved


def render_trend(days: Sequence[TrendDay], on_time_target: float) -> bytes:
    """The trend over `days` (oldest first) as PNG bytes."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MultipleLocator, PercentFormatter, StrMethodFormatter

    if not days:
        raise ValueError("a trend needs at least one day")
    if not 0.0 <= on_time_target <= 1.0:
        raise ValueError(f"on-time target must be a share between 0 and 1, not {on_time_target}")

    figure = Figure(figsize=FIGURE_SIZE_INCHES, dpi=DPI, layout="tight", facecolor="white")
    canvas = FigureCanvasAgg(figure)
    counts = figure.add_subplot()
    rates = counts.twinx()

    positions = list(range(len(days)))
    counts.bar(
        [x - _BAR_WIDTH / 2 for x in positions],
        [day.new for day in days],
        width=_BAR_WIDTH,
        color=NEW_COLOUR,
        linewidth=0,
    )
    counts.bar(
        [x + _BAR_WIDTH / 2 for x in positions],
        [day.resolved for day in days],
        width=_BAR_WIDTH,
        color=RESOLVED_COLOUR,
        linewidth=0,
    )

    # Counts on the left in whole tickets, split into as many steps as the percent axis on the right, so
    # both axes share one set of grid lines. An idle fortnight still gets an axis (0..5).
    step = _count_step(max(max(day.new, day.resolved) for day in days))
    counts.set_ylim(0, step * _GRID_STEPS)
    counts.yaxis.set_major_locator(MultipleLocator(step))
    counts.yaxis.set_major_formatter(StrMethodFormatter("{x:.0f}"))
    counts.set_axisbelow(True)
    counts.yaxis.grid(True, color=_GRID, linewidth=1)

    # NaN breaks the line, so a day with nothing resolved is a gap rather than a fake 0 %.
    shares = [math.nan if day.on_time_rate is None else day.on_time_rate for day in days]
    rates.axhline(on_time_target, color=TARGET_COLOUR, linestyle=(0, (6, 4)), linewidth=2)
    rates.plot(
        positions,
        shares,
        color=ON_TIME_COLOUR,
        linewidth=3,
        marker="o",
        markersize=8 if len(days) <= _MOST_BIG_DOTS else 5,
        clip_on=False,  # a 100 % day sits on the top edge; keep its dot whole
    )
    rates.set_ylim(0, 1)
    rates.yaxis.set_major_locator(MultipleLocator(1 / _GRID_STEPS))
    rates.yaxis.set_major_formatter(PercentFormatter(xmax=1, decimals=0))

    _lay_out_days(counts, [day.day for day in days])

    for axes in (counts, rates):
        axes.tick_params(labelsize=_TICK_FONT_SIZE, labelfontfamily=_FONT, colors=_INK)
        for spine in axes.spines.values():
            spine.set_color(_GRID)
        axes.spines["top"].set_visible(False)

    out = io.BytesIO()
    canvas.print_figure(out, dpi=DPI, format="png")
    return out.getvalue()


def _count_step(highest: int) -> int:
    """The smallest round tick step whose _GRID_STEPS steps hold the tallest bar with some headroom."""
    scale = 1
    while True:
        # Tenths of the scale: 1.5 and 2.5 only become steps (15, 25) once the scale makes them whole.
        for tenths in (10, 15, 20, 25, 30, 40, 50, 60, 80):
            step = tenths * scale // 10
            if step * _GRID_STEPS >= highest * _HEADROOM:
                return step
        scale *= 10


def _lay_out_days(axes: Axes, days: list[date]) -> None:
    """A tick under every day, but a date label only every so often so they never overlap."""
    from matplotlib.ticker import FixedLocator

    count = len(days)
    step = math.ceil(count / _MOST_DATE_LABELS)
    # Count back from the newest day: yesterday is the one the digest is about, so it is always labelled.
    labels = [
        day.strftime("%m-%d") if (count - 1 - index) % step == 0 else "" for index, day in enumerate(days)
    ]
    axes.xaxis.set_major_locator(FixedLocator(list(range(count))))
    axes.set_xticklabels(labels)
    slots = max(count, _FEWEST_DAY_SLOTS)
    middle = (count - 1) / 2
    axes.set_xlim(middle - slots / 2, middle + slots / 2)
