from __future__ import annotations

import asyncio
import io
import subprocess
import sys
from datetime import date, timedelta

import numpy as np
import numpy.typing as npt
import pytest
from matplotlib.colors import to_rgb
from PIL import Image

from bot.chart import (
    NEW_COLOUR,
    ON_TIME_COLOUR,
    RESOLVED_COLOUR,
    TARGET_COLOUR,
    TrendDay,
    render_trend,
)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
FIRST_DAY = date(2026, 11, 6)
TARGET = 0.92

Pixels = npt.NDArray[np.int16]


def _fortnight() -> list[TrendDay]:
    return [
        TrendDay(FIRST_DAY + timedelta(days=n), new=5 + n % 4, resolved=3 + n % 5, on_time_rate=0.8 + n / 100)
        for n in range(14)
    ]


def _pixels(png: bytes) -> Pixels:
    with Image.open(io.BytesIO(png)) as image:
        return np.asarray(image.convert("RGB"), dtype=np.int16)


def _near(pixels: Pixels, colour: str, tolerance: int = 10) -> npt.NDArray[np.bool_]:
    """Where the picture is (within antialiasing noise) exactly `colour`."""
    wanted = np.array([round(channel * 255) for channel in to_rgb(colour)], dtype=np.int16)
    result: npt.NDArray[np.bool_] = np.all(np.abs(pixels - wanted) <= tolerance, axis=2)
    return result


def _count(png: bytes, colour: str) -> int:
    return int(_near(_pixels(png), colour).sum())


def _bar_heights(png: bytes, colour: str) -> list[int]:
    """Height in pixels of each bar of `colour`, left to right: runs of columns holding that colour."""
    mask = _near(_pixels(png), colour)
    columns = np.flatnonzero(mask.any(axis=0))
    runs = np.split(columns, np.flatnonzero(np.diff(columns) > 1) + 1) if columns.size else []
    heights = []
    for run in runs:
        middle = mask[:, run[len(run) // 2]]
        rows = np.flatnonzero(middle)
        heights.append(int(rows[-1] - rows[0] + 1))
    return heights


def test_the_chart_is_a_png_of_the_promised_size() -> None:
    png = render_trend(_fortnight(), TARGET)
    assert png.startswith(PNG_SIGNATURE)
    with Image.open(io.BytesIO(png)) as image:
        assert image.format == "PNG"
        assert image.size == (1200, 750)


def test_bars_are_drawn_in_blue_and_green() -> None:
    png = render_trend(_fortnight(), TARGET)
    assert _count(png, NEW_COLOUR) > 5_000
    assert _count(png, RESOLVED_COLOUR) > 5_000


def test_a_quiet_fortnight_draws_no_bars_but_still_draws_axes() -> None:
    quiet = [TrendDay(FIRST_DAY + timedelta(days=n), new=0, resolved=0, on_time_rate=None) for n in range(14)]
    png = render_trend(quiet, TARGET)
    assert _count(png, NEW_COLOUR) == 0
    assert _count(png, RESOLVED_COLOUR) == 0
    # Something other than white is there: tick labels, the target line.
    pixels = _pixels(png)
    assert int((pixels.sum(axis=2) < 3 * 200).sum()) > 1_000
    assert _count(png, TARGET_COLOUR) > 500


def test_bar_heights_follow_the_counts() -> None:
    days = [
        TrendDay(FIRST_DAY, new=9, resolved=0, on_time_rate=None),
        TrendDay(FIRST_DAY + timedelta(days=1), new=3, resolved=0, on_time_rate=None),
    ]
    heights = _bar_heights(render_trend(days, TARGET), NEW_COLOUR)
    assert len(heights) == 2
    busy, calm = heights
    assert busy > calm
    assert busy / calm == pytest.approx(3, rel=0.05)


def test_resolved_bars_follow_their_own_counts() -> None:
    days = [
        TrendDay(FIRST_DAY, new=1, resolved=2, on_time_rate=1.0),
        TrendDay(FIRST_DAY + timedelta(days=1), new=1, resolved=8, on_time_rate=1.0),
    ]
    png = render_trend(days, TARGET)
    low, high = _bar_heights(png, RESOLVED_COLOUR)
    assert high / low == pytest.approx(4, rel=0.05)
    assert _bar_heights(png, NEW_COLOUR)[0] == pytest.approx(low / 2, rel=0.05)


def test_the_on_time_line_is_drawn_only_when_there_are_rates() -> None:
    assert _count(render_trend(_fortnight(), TARGET), ON_TIME_COLOUR) > 1_000
    no_rates = [
        TrendDay(day.day, new=day.new, resolved=day.resolved, on_time_rate=None) for day in _fortnight()
    ]
    assert _count(render_trend(no_rates, TARGET), ON_TIME_COLOUR) == 0


def test_a_day_without_a_rate_leaves_a_gap_in_the_line() -> None:
    full = _fortnight()
    gappy = [
        TrendDay(
            day.day, new=day.new, resolved=day.resolved, on_time_rate=None if n == 7 else day.on_time_rate
        )
        for n, day in enumerate(full)
    ]
    whole = _count(render_trend(full, TARGET), ON_TIME_COLOUR)
    broken = _count(render_trend(gappy, TARGET), ON_TIME_COLOUR)
    # Two segments and a dot go missing, but the rest of the line stays.
    assert 0 < broken < whole * 0.9


def test_one_day_renders() -> None:
    png = render_trend([TrendDay(FIRST_DAY, new=4, resolved=2, on_time_rate=0.5)], TARGET)
    with Image.open(io.BytesIO(png)) as image:
        assert image.size == (1200, 750)
    assert _bar_heights(png, NEW_COLOUR) == [
        pytest.approx(2 * _bar_heights(png, RESOLVED_COLOUR)[0], rel=0.05)
    ]
    assert _count(png, ON_TIME_COLOUR) > 50


def test_a_month_renders() -> None:
    month = [
        TrendDay(FIRST_DAY + timedelta(days=n), new=n, resolved=30 - n, on_time_rate=0.9) for n in range(30)
    ]
    png = render_trend(month, TARGET)
    assert len(_bar_heights(png, NEW_COLOUR)) == 29  # the first day opened nothing


def test_rendering_twice_gives_the_same_picture() -> None:
    first = render_trend(_fortnight(), TARGET)
    render_trend([TrendDay(FIRST_DAY, new=50, resolved=1, on_time_rate=0.1)], 0.5)
    second = render_trend(_fortnight(), TARGET)
    assert second.startswith(PNG_SIGNATURE)
    assert np.array_equal(_pixels(first), _pixels(second))


async def test_charts_render_side_by_side_in_worker_threads() -> None:
    days = _fortnight()
    pictures = await asyncio.gather(*(asyncio.to_thread(render_trend, days, TARGET) for _ in range(4)))
    alone = _pixels(render_trend(days, TARGET))
    assert all(np.array_equal(_pixels(picture), alone) for picture in pictures)


def _run_fresh(script: str) -> str:
    """Run `script` in a new interpreter, where no earlier test has warmed matplotlib's caches; its stderr."""
    done = subprocess.run(
        [sys.executable, "-W", "error", "-c", script],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stderr


_RENDER_ONCE = (
    "from datetime import date\n"
    "from bot.chart import TrendDay, render_trend\n"
    "render_trend([TrendDay(date(2026, 11, 6), 3, 1, 0.5), TrendDay(date(2026, 11, 7), 0, 0, None)], 0.9)\n"
)


def test_the_only_font_used_is_the_bundled_dejavu_sans() -> None:
    # Font lookups are cached per process, so only a fresh interpreter shows every one of them.
    log = _run_fresh(
        "import logging, sys\n"
        "handler = logging.StreamHandler(sys.stderr)\n"
        "handler.setFormatter(logging.Formatter('%(levelname)s %(message)s'))\n"
        "fonts = logging.getLogger('matplotlib.font_manager')\n"
        "fonts.addHandler(handler)\n"
        "fonts.setLevel(logging.DEBUG)\n" + _RENDER_ONCE
    )
    findfont = [line for line in log.splitlines() if "findfont" in line]
    found = [line for line in findfont if " with score of " in line]
    assert found, log
    # matplotlib's own copy, or the same font installed system-wide: which one depends on its font cache.
    assert all("DejaVuSans.ttf') with score of 0.05" in line for line in found), found
    assert not [line for line in findfont if not line.startswith("DEBUG")]


def test_the_chart_never_touches_pyplot() -> None:
    # pyplot keeps global figure state; the chart must render without ever importing it.
    _run_fresh(_RENDER_ONCE + "import sys\nassert 'matplotlib.pyplot' not in sys.modules\n")


@pytest.mark.parametrize("target", [-0.1, 1.5])
def test_a_target_that_is_not_a_share_is_refused(target: float) -> None:
    with pytest.raises(ValueError, match="target"):
        render_trend(_fortnight(), target)


def test_an_empty_trend_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one day"):
        render_trend([], TARGET)
