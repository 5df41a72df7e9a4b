"""The reports' charts, their geometry here so that it can be tested; the templates draw them
as inline SVG.

A factory's stages as a bar chart: a bar per stage as long as its median, a tick at its p90,
against one scale of time for every factory of the page so that their bars compare. Each
stage's name is written above its bar, across the whole width: on a phone a column of names
beside the bars would leave them no room.

The service report's weekly first responses as columns (trend)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from service.reports.conversations import BUSINESS, Week
from service.reports.delivery import StageFigures
from service.reports.quantiles import MEDIAN

WIDTH = 400
LEFT = 8
RIGHT = 24  # room for the last tick's label
TOP = 4
LABEL = 18  # the stage's name, above its bar
BAR = 12
ROW = LABEL + BAR + 8
BOTTOM = 24  # room for the time axis' labels
# Steps of the time axis: the first that takes at most four to cross the scale.
STEPS = (600, 3600, 6 * 3600, 12 * 3600, 86400, 2 * 86400, 5 * 86400, 7 * 86400,
         14 * 86400, 30 * 86400, 60 * 86400, 90 * 86400, 180 * 86400, 365 * 86400)  # fmt: skip


@dataclass(frozen=True)
class Bar:
    stage: StageFigures
    label_y: float  # the baseline of its name
    y: float  # the bar's top
    median_w: float
    p90_x: float


@dataclass(frozen=True)
class StageChart:
    bars: list[Bar]
    ticks: list[tuple[float, int]]  # (x, seconds) along the time axis
    height: float
    width: int = WIDTH
    left: int = LEFT
    right: int = WIDTH - RIGHT
    bar: int = BAR

    @property
    def bottom(self) -> float:
        return self.height - BOTTOM


def scale_of(stages: list[StageFigures]) -> int:
    """The longest p90 of these stages: every chart of a page uses it."""
    return max((s.p90_seconds for s in stages), default=0) or 1


def draw(stages: list[StageFigures], scale: int) -> StageChart:
    span = WIDTH - RIGHT - LEFT

    def x_of(seconds: int) -> float:
        return round(LEFT + span * min(seconds, scale) / scale, 1)

    bars = [
        Bar(stage, TOP + n * ROW + LABEL - 4, TOP + n * ROW + LABEL,
            round(x_of(stage.median_seconds) - LEFT, 1), x_of(stage.p90_seconds))
        for n, stage in enumerate(stages)
    ]  # fmt: skip
    step = next((s for s in STEPS if scale / s <= 4), STEPS[-1])
    ticks = [(x_of(t), t) for t in range(0, scale + 1, step)]
    return StageChart(bars, ticks, height=TOP + len(stages) * ROW + BOTTOM)


# The weekly trend of first responses: a column per week as tall as its median.
TREND_HEIGHT = 160
TREND_LEFT = 64  # room for the time axis' labels, left of it
TREND_TOP = 8


@dataclass(frozen=True)
class Column:
    week: Week
    x: float
    y: float
    height: float  # 0: no first response that week
    seconds: int | None


@dataclass(frozen=True)
class TrendChart:
    columns: list[Column]
    ticks: list[tuple[float, int]]  # (y, seconds) up the time axis
    labels: list[Column]  # the columns whose week is written under them: room for three
    column_w: float
    width: int = WIDTH
    height: int = TREND_HEIGHT
    left: int = TREND_LEFT
    right: int = WIDTH - RIGHT

    @property
    def bottom(self) -> int:
        return TREND_HEIGHT - BOTTOM


def trend(weeks: list[Week], clock: str = BUSINESS) -> TrendChart:
    """The weeks' median first response on `clock`, against a scale from 0 to the largest."""
    medians = [w.first_responses.seconds(clock, MEDIAN) for w in weeks]
    scale = max((m for m in medians if m), default=0) or 1
    bottom = TREND_HEIGHT - BOTTOM
    span = bottom - TREND_TOP
    slot = (WIDTH - RIGHT - TREND_LEFT) / max(len(weeks), 1)

    def y_of(seconds: int) -> float:
        return round(bottom - span * min(seconds, scale) / scale, 1)

    columns = []
    for n, (week, median) in enumerate(zip(weeks, medians, strict=True)):
        y = y_of(median or 0)
        columns.append(Column(week, round(TREND_LEFT + n * slot + slot * 0.15, 1), y,
                              round(bottom - y, 1), median))  # fmt: skip
    step = next((s for s in STEPS if scale / s <= 4), STEPS[-1])
    ticks = [(y_of(t), t) for t in range(0, scale + 1, step)]
    every = max(1, math.ceil(len(columns) / 3))
    return TrendChart(columns, ticks, columns[::every], column_w=round(slot * 0.7, 1))
