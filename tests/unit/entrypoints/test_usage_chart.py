"""The usage chart's geometry: one bar per day, errors drawn over requests, round ticks."""

from __future__ import annotations

from datetime import date, timedelta

from smarter.domain.history import DailyUsage
from smarter.entrypoints.console.charts import usage_chart

FIRST = date(2026, 3, 1)


def days(*requests: tuple[int, int]) -> list[DailyUsage]:
    return [
        DailyUsage(day=FIRST + timedelta(days=n), requests=r, errors=e, prompt_tokens=r * 10)
        for n, (r, e) in enumerate(requests)
    ]


def test_bars_are_proportional_and_errors_are_drawn_over_them() -> None:
    chart = usage_chart(days((10, 0), (5, 5), (0, 0)), "requests")

    full, half, empty = chart.bars
    assert full.height == 2 * half.height and empty.height == 0
    assert half.overlay_height == half.height and full.overlay_height == 0
    assert full.y + full.height == chart.baseline
    assert half.title == "2026-03-02: 5 requests, 5 errors"


def test_the_axis_has_whole_round_numbers_up_to_the_busiest_day() -> None:
    chart = usage_chart(days(*[(13, 0)] * 30), "requests")

    assert [tick.label for tick in chart.ticks] == ["0", "5", "10", "15", "20"]
    assert len(chart.bars) == 30
    assert [label.label for label in chart.days] == [
        "Mar 01",
        "Mar 08",
        "Mar 15",
        "Mar 22",
        "Mar 30",
    ]


def test_the_tokens_chart_counts_tokens_and_draws_no_errors() -> None:
    chart = usage_chart(days((3, 3)), "tokens")

    assert chart.bars[0].overlay_height == 0
    assert chart.bars[0].title.startswith("2026-03-01: 30 tokens")
