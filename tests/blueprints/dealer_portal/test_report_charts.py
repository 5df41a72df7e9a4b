"""The stage chart's geometry: bars to the median and ticks at the p90 on one scale, the
longest p90 at the right edge, a time axis of at most four steps."""

from __future__ import annotations

import uuid

from blueprints.dealer_portal.report_charts import LEFT, RIGHT, WIDTH, draw, scale_of
from service.reports.delivery import StageFigures

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
