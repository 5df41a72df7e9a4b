"""The delivery report's rollup: the stage spans each step writes
(service.progress.models.StageSpan) counted into their day's row and their month's
(StageDay), a batch at a time, by a job of the worker's timer (jobs.reports).

A span is counted once: marking it rolled and adding it to its day happen in one transaction,
and rollups take turns (an advisory lock on PostgreSQL; SQLite has one writer). The report
reads the days and the spans not yet rolled in one statement, so it sees each span once,
before or after a rollup, never in both places or in neither."""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from zoneinfo import ZoneInfo

from sqlalchemy import select, text, update
from sqlalchemy.orm import Session

from service.chain.models import Chain
from service.progress.models import StageSpan
from service.reports.models import StageDay
from service.reports.sketch import bucket

BATCH = 10_000
_LOCK = 0x5354_4147  # "STAG": this rollup's advisory lock


@dataclass
class DayFigures:
    """A day's stage figures while they are added up."""

    count: int = 0
    seconds_max: int = 0
    histogram: Counter = field(default_factory=Counter)
    promised: int = 0
    kept: int = 0

    def add_span(self, seconds: int, promise_kept: bool | None) -> None:
        self.count += 1
        self.seconds_max = max(self.seconds_max, seconds)
        self.histogram[bucket(seconds)] += 1
        self.promised += promise_kept is not None
        self.kept += bool(promise_kept)

    def add_day(self, count, seconds_max, histogram: dict, promised, kept) -> None:
        self.count += count
        self.seconds_max = max(self.seconds_max, seconds_max)
        self.histogram.update({int(k): n for k, n in histogram.items()})
        self.promised += promised
        self.kept += kept


def roll_up(session: Session, *, batch: int = BATCH) -> int:
    """Count up to `batch` spans not yet rolled up into their days; returns how many. The
    caller commits."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK})
    spans = session.execute(
        select(
            StageSpan.id,
            StageSpan.chain_id,
            StageSpan.factory_id,
            StageSpan.from_milestone,
            StageSpan.to_milestone,
            StageSpan.ended_at,
            StageSpan.seconds,
            StageSpan.promise_kept,
        )
        .where(~StageSpan.rolled)
        .order_by(StageSpan.id)
        .limit(batch)
    ).all()
    if not spans:
        return 0
    zones = {
        chain_id: ZoneInfo(name)
        for chain_id, name in session.execute(
            select(Chain.id, Chain.timezone).where(Chain.id.in_({s.chain_id for s in spans}))
        )
    }
    days: dict[tuple, DayFigures] = {}
    for span in spans:
        day = span.ended_at.astimezone(zones[span.chain_id]).date()
        stage = (span.factory_id, span.from_milestone, span.to_milestone)
        for grain, start in (("day", day), ("month", day.replace(day=1))):
            key = (span.chain_id, grain, start, *stage)
            days.setdefault(key, DayFigures()).add_span(span.seconds, span.promise_kept)
    _merge(session, days)
    ids = [span.id for span in spans]
    for start in range(0, len(ids), 1000):
        session.execute(
            update(StageSpan)
            .where(StageSpan.id.in_(ids[start : start + 1000]))
            .values(rolled=True)
            .execution_options(synchronize_session=False)
        )
    return len(spans)


def _merge(session: Session, days: dict[tuple, DayFigures]) -> None:
    """Add these figures to their days' rows, making the rows that are new."""
    chains = {key[0] for key in days}
    dates: set[date] = {key[2] for key in days}
    factories: set[uuid.UUID] = {key[3] for key in days}
    existing = {
        (d.chain_id, d.grain, d.day, d.factory_id, d.from_milestone, d.to_milestone): d
        for d in session.scalars(
            select(StageDay).where(
                StageDay.chain_id.in_(chains),
                StageDay.day.in_(dates),
                StageDay.factory_id.in_(factories),
            )
        )
    }
    for key, figures in days.items():
        row = existing.get(key)
        if row is None:
            chain_id, grain, day, factory_id, left, reached = key
            row = StageDay(chain_id=chain_id, grain=grain, day=day, factory_id=factory_id,
                           from_milestone=left, to_milestone=reached, count=0, seconds_max=0,
                           histogram={}, promised=0, kept=0)  # fmt: skip
            session.add(row)
        total = DayFigures()
        total.add_day(row.count, row.seconds_max, row.histogram, row.promised, row.kept)
        total.add_day(figures.count, figures.seconds_max, figures.histogram, figures.promised,
                      figures.kept)  # fmt: skip
        row.count, row.seconds_max, row.promised, row.kept = (
            total.count, total.seconds_max, total.promised, total.kept
        )  # fmt: skip
        row.histogram = {str(k): n for k, n in sorted(total.histogram.items())}
    session.flush()
