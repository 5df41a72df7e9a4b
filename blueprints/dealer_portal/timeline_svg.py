"""The geometry of a work item's timeline as a picture: the eight milestones one above another
(received at the bottom, completed at the top) against time (left to right, from the order's
creation to now, or to the ETA or the latest report if later). The template draws it as an
inline SVG; the numbers are here so that they can be tested."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from service.progress.milestones import MILESTONES, RANK

# The picture's own units (its viewBox); the page scales it to its width.
WIDTH = 400
HEIGHT = 250
LEFT = 124  # room for the milestones' names
RIGHT = 18
TOP = 14
BOTTOM = 40  # room for the dates under the time axis
ROW = (HEIGHT - TOP - BOTTOM) / (len(MILESTONES) - 1)


@dataclass(frozen=True)
class Event:
    at: datetime
    milestone: str
    late: bool = False


@dataclass(frozen=True)
class Mark:
    x: float
    y: float
    event: Event


@dataclass(frozen=True)
class Timeline:
    rows: list[tuple[str, float]]  # each milestone and the height of its line
    path: str  # the SVG path of the milestone reached over time, a line of steps
    marks: list[Mark]  # every report: on the line when it moved it, off it when late
    eta_x: float | None  # None without an ETA
    promise_x: float | None  # None without a promised date
    now_x: float
    start: datetime
    end: datetime
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    right: float = WIDTH - RIGHT
    top: int = TOP
    bottom: float = HEIGHT - BOTTOM


def _round(value: float) -> float:
    return round(value, 1)


def y_of(milestone: str) -> float:
    return _round(TOP + (len(MILESTONES) - 1 - RANK[milestone]) * ROW)


def draw(
    *,
    start: datetime,
    now: datetime,
    events: list[Event],
    eta: datetime | None = None,
    promise: datetime | None = None,
) -> Timeline:
    """`start`: when the order was placed; `events`: the item's reports, in any order;
    `promise`: the date promised to the customer."""
    events = sorted(events, key=lambda e: e.at)
    times = [e.at for e in events]
    start = min([start, *times])
    end = max([now, *times, *(moment for moment in (eta, promise) if moment)])
    if end <= start:
        end = start + timedelta(hours=1)
    span = (end - start).total_seconds()

    def x_of(at: datetime) -> float:
        return _round(LEFT + (at - start).total_seconds() / span * (WIDTH - RIGHT - LEFT))

    rank = 0
    steps = [f"M{x_of(start)} {y_of(MILESTONES[0])}"]
    marks = []
    for event in events:
        marks.append(Mark(x_of(event.at), y_of(event.milestone), event))
        # A late report is behind what was known: it is marked, but the line does not go back.
        if event.late or RANK[event.milestone] < rank:
            continue
        rank = RANK[event.milestone]
        steps.append(f"H{x_of(event.at)} V{y_of(event.milestone)}")
    steps.append(f"H{x_of(max([now, *times]))}")
    return Timeline(
        rows=[(m, y_of(m)) for m in MILESTONES],
        path=" ".join(steps),
        marks=marks,
        eta_x=x_of(eta) if eta else None,
        promise_x=x_of(promise) if promise else None,
        now_x=x_of(now),
        start=start,
        end=end,
    )
