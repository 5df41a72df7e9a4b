"""The charts' geometry. The stage chart: bars to the median and ticks at the p90 on one
scale, the longest p90 at the right edge, a time axis of at most four steps. The weekly trend:
a column per week as tall as its median, none for a week without a first response."""

from __future__ import annotations

import uuid
from datetime import date

from blueprints.dealer_portal.report_charts import (
    LEFT,
    RIGHT,
    TREND_TOP,
    WIDTH,
    draw,
    scale_of,
    trend,
)
from service.reports.conversations import Week
from service.reports.delivery import StageFigures
from service.reports.quantiles import MEDIAN, Summary

DAY = 86400


def _stage(median: int, p90: int) -> StageFigures:
    return StageFigures(uuid.uuid4(), "received", "designed", 3, median, p90, p90)


def test_bars_share_one_scale_and_the_longest_p90_reaches_the_edge():
    stages = [_stage(DAY, 2 * DAY), _stage(3 * DAY, 10 * DAY)]
    chart = draw(stages, scale_of(stages))
    short, long = chart.bars
    assert long.p90_x == WIDTH - RIGHT
    assert short.median_w == round((WIDTH - RIGHT - LEFT) / 10, 1)
    assert short.p90_x < long.p90_x and short.y < long.y
    assert [seconds for _, seconds in chart.ticks] == [0, 5 * DAY, 10 * DAY]
    assert chart.height > long.y + chart.bar


def test_another_factorys_scale_keeps_the_bars_comparable():
    mine = [_stage(DAY, 2 * DAY)]
    everyone = [*mine, _stage(DAY, 20 * DAY)]
    [bar] = draw(mine, scale_of(everyone)).bars
    assert bar.p90_x == round(LEFT + (WIDTH - RIGHT - LEFT) / 10, 1)


def test_stages_that_took_no_time_draw_no_bar_and_no_error():
    chart = draw([_stage(0, 0)], scale_of([_stage(0, 0)]))
    assert chart.bars[0].median_w == 0 and len(chart.ticks) <= 6


def _week(day: int, *seconds: int) -> Week:
    median = sorted(seconds)[(len(seconds) - 1) // 2] if seconds else None
    at = {(clock, MEDIAN): median for clock in ("wall", "business")} if seconds else {}
    return Week(date(2027, 3, day), Summary(len(seconds), at))


def test_the_trend_has_a_column_per_week_the_slowest_reaching_the_top():
    weeks = [_week(1, 600), _week(8), _week(15, 1200, 1800, 3600), _week(22, 900)]
    chart = trend(weeks)
    first, empty, slowest, last = chart.columns
    assert empty.height == 0 and empty.seconds is None
    assert slowest.y == TREND_TOP and slowest.height == chart.bottom - TREND_TOP
    assert abs(first.height * 3 - slowest.height) <= 0.2  # 10 minutes of a median of 30
    assert first.x < empty.x < slowest.x < last.x < chart.right
    assert [seconds for _, seconds in chart.ticks] == [0, 600, 1200, 1800]
    # Names under at most three columns: every other of four weeks.
    assert [c.week.start.day for c in chart.labels] == [1, 15]
