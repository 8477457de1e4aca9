"""The usage chart, drawn on the server as SVG: no chart script to vendor or to run.

One bar per day; on the requests chart the part of each bar that were errors is drawn over
it in another colour. Every number is computed here, the template only places them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import msgspec

from smarter.domain.history import DailyUsage

WIDTH: Final = 720
HEIGHT: Final = 220
LEFT: Final = 48  # room for the axis labels
BOTTOM: Final = 24
TOP: Final = 8


class Bar(msgspec.Struct, frozen=True):
    x: float
    y: float
    width: float
    height: float
    overlay_y: float  # the errors part (requests chart), 0 high otherwise
    overlay_height: float
    title: str


class Tick(msgspec.Struct, frozen=True):
    y: float
    label: str


class DayLabel(msgspec.Struct, frozen=True):
    x: float
    label: str


class Chart(msgspec.Struct, frozen=True):
    metric: str
    width: int
    height: int
    left: int
    baseline: float
    bars: list[Bar]
    ticks: list[Tick]
    days: list[DayLabel]


def _nice_ceiling(value: int) -> int:
    """1, 2, 5, 10, 20, 50... at or above `value`, so the axis has round numbers."""
    step = 1
    while True:
        for factor in (1, 2, 5):
            if step * factor >= value:
                return step * factor
        step *= 10


def _parts(top: int) -> int:
    """How many steps the axis has, so that each tick is a whole number (5 → 0..5 by 1)."""
    if top < 10:
        return top if top <= 5 else 2
    return 4 if str(top).startswith("2") else 5


def usage_chart(days: Sequence[DailyUsage], metric: str) -> Chart:
    """`metric` is "requests" (errors drawn over them) or "tokens"."""
    values = [d.requests if metric == "requests" else d.tokens for d in days]
    top = _nice_ceiling(max([*values, 1]))
    plot_height = HEIGHT - TOP - BOTTOM
    slot = (WIDTH - LEFT) / max(len(days), 1)
    baseline = float(HEIGHT - BOTTOM)
    bars = []
    for index, (day, value) in enumerate(zip(days, values, strict=True)):
        height = plot_height * value / top
        errors = plot_height * day.errors / top if metric == "requests" else 0.0
        detail = (
            f"{value} requests, {day.errors} errors"
            if metric == "requests"
            else f"{value} tokens ({day.prompt_tokens} prompt, {day.completion_tokens} completion)"
        )
        bars.append(
            Bar(
                x=round(LEFT + index * slot + slot * 0.15, 1),
                y=round(baseline - height, 1),
                width=round(slot * 0.7, 1),
                height=round(height, 1),
                overlay_y=round(baseline - errors, 1),
                overlay_height=round(errors, 1),
                title=f"{day.day.isoformat()}: {detail}",
            )
        )
    parts = _parts(top)
    ticks = [
        Tick(y=round(baseline - plot_height * part / parts, 1), label=f"{top * part // parts:,}")
        for part in range(parts + 1)
    ]
    last = len(days) - 1
    labels = [
        DayLabel(x=round(LEFT + index * slot + slot / 2, 1), label=day.day.strftime("%b %d"))
        for index, day in enumerate(days)
        if (index % 7 == 0 and last - index >= 4) or index == last
    ]
    return Chart(
        metric=metric,
        width=WIDTH,
        height=HEIGHT,
        left=LEFT,
        baseline=baseline,
        bars=bars,
        ticks=ticks,
        days=labels,
    )
