"""Column and line charts drawn on the server as SVG: the geometry is computed here, in Python,
so the templates only place what they are given and the pages need no chart library and no
script."""

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from api import i18n

# A column with any value stays visible, however small it is against the others.
MIN_HEIGHT = 3.0
# The space between a column's end and the number written beyond it.
VALUE_GAP = 8.0
# Room for a number written under a column that goes below zero (its text hangs from its y).
VALUE_BELOW = 20.0


@dataclass(frozen=True)
class Frame:
    """Where a chart's values go: the y of the highest and the lowest value, in SVG units."""

    width: float
    top: float
    bottom: float
    high: float
    low: float = 0.0

    @property
    def zero(self) -> float:
        """The y of the value 0: the line the columns stand on (or hang from)."""
        return self.top + (self.bottom - self.top) * self.high / (self.high - self.low)

    def length(self, value: float) -> float:
        """How long a column of this value is."""
        return (self.bottom - self.top) * abs(value) / (self.high - self.low)

    def y(self, value: float) -> float:
        """The y of a value: `top` for `high`, `bottom` for `low`."""
        return self.top + (self.bottom - self.top) * (self.high - value) / (self.high - self.low)


@dataclass(frozen=True)
class Column:
    """One column, placed: its box, its middle, and where its number goes."""

    x: float
    y: float
    height: float
    center: float
    value_y: float


def scale_top(value: float, *, minimum: float, step: float | None = None) -> int:
    """The value at the top of a chart: at least `minimum`, rounded up to a multiple of `step`
    (by default a round step for the value's size: 5 for tens, 50 for hundreds, and so on)."""
    top = max(minimum, value)
    if step is None:
        step = max(1, 10 ** math.floor(math.log10(top)) // 2) if top >= 1 else 1
    return int(-(-top // step) * step)


def columns(frame: Frame, values: Sequence[float], *, bar_width: float) -> list[Column]:
    """A column for each value, side by side in equal slots across the frame."""
    slot = frame.width / len(values) if values else frame.width
    zero = frame.zero
    placed = []
    for index, value in enumerate(values):
        height = max(MIN_HEIGHT, frame.length(value)) if value else 0.0
        center = slot * index + slot / 2
        if value >= 0:
            y, value_y = zero - height, zero - height - VALUE_GAP
        else:
            y, value_y = zero, zero + height + VALUE_BELOW
        placed.append(
            Column(
                x=round(center - bar_width / 2, 1),
                y=round(y, 1),
                height=round(height, 1),
                center=round(center, 1),
                value_y=round(value_y, 1),
            )
        )
    return placed


def week_period(monday: date) -> str:
    """The days of a week in words: "16 – 22 november 2026", "30 november – 6 december 2026"."""
    start, end = monday, monday + timedelta(days=6)
    if start.year != end.year:
        return f"{i18n.format_day(start)} – {i18n.format_day(end)}"
    if start.month == end.month:
        return f"{i18n.format_day_as(start, 'd')} – {i18n.format_day(end)}"
    return f"{i18n.format_day_as(start, 'd MMMM')} – {i18n.format_day(end)}"


@dataclass(frozen=True)
class Dot:
    """One value of a line chart, placed."""

    x: float
    y: float


def dots(
    frame: Frame, values: Sequence[float], *, left: float = 0.0, pad: float = 12.0
) -> list[Dot]:
    """A dot for each value, evenly spaced from `left` to the frame's right edge (a single
    value in the middle), `pad` in from both ends so a dot and its number stay inside."""
    start, end = left + pad, frame.width - pad
    if len(values) == 1:
        return [Dot(round((start + end) / 2, 1), round(frame.y(values[0]), 1))]
    step = (end - start) / (len(values) - 1) if values else 0.0
    return [
        Dot(round(start + step * index, 1), round(frame.y(value), 1))
        for index, value in enumerate(values)
    ]


def line_path(placed: Sequence[Dot]) -> str:
    """The SVG path through the dots in order ("M 12,40 L 80,52 ..."); empty for fewer than two."""
    if len(placed) < 2:
        return ""
    return " ".join(
        f"{'M' if index == 0 else 'L'} {dot.x},{dot.y}" for index, dot in enumerate(placed)
    )
