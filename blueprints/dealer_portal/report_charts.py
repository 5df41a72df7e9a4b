"""The geometry of a factory's stages as a bar chart: a bar per stage as long as its median,
a tick at its p90, against one scale of time for every factory of the page so that their bars
compare. Each stage's name is written above its bar, across the whole width: on a phone a
column of names beside the bars would leave them no room. The template draws it as an inline
SVG; the numbers are here so that they can be tested."""

from __future__ import annotations

from dataclasses import dataclass

from service.reports.delivery import StageFigures

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
