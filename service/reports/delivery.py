"""The delivery report: how long each factory takes at each stage, and how often it keeps the
date promised to the customer, over a period of days in the chain's time zone.

Definitions (the API's description repeats them):

- A **stage** is the time between two consecutive milestones a work item reached, named by
  both (`designed` → `in_production`); its first starts when the item was ordered. A stage
  belongs to the day it ended. Its **count**, **median**, **p90** and **max** are over the
  stages that ended in the period: the median and p90 by nearest rank (the median of 4
  durations is the 2nd), to within 1 % (service.reports.sketch), the max exact.
- **Promised**: the work items brought to the customer (delivered, or further at once) in the
  period while a promise held for them; **kept**: those of them that got there by the
  promised date; the **on-time rate** is kept / promised (null when none was promised).
- **Late now**: the factory's items not yet with the customer whose promise has passed.
- **Late events**: the reports the factory sent (its webhook) received in the period for a
  milestone its item had already passed (kept in the timeline, changing nothing).

Over the whole chain, stages are read from the rollup (service.reports.rollup: whole months,
then days) and the spans it has yet to count; for one dealer (a small part of the chain), from
its spans. The work items behind each figure: service.reports.delivery_items."""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import (
    Integer,
    case,
    func,
    literal,
    null,
    select,
    text,
    true,
    union_all,
)
from sqlalchemy.orm import Session

from service.chain.models import Organisation
from service.db import utcnow
from service.errors import FieldErrors
from service.orders.lateness import late_promise
from service.orders.models import Order, WorkItem
from service.progress.milestones import RANK
from service.progress.models import StageSpan, TimelineEntry
from service.progress.reports import factory_actor
from service.reports.models import StageDay
from service.reports.periods import Period, period_of, rollup_rows
from service.reports.rollup import DayFigures
from service.reports.sketch import quantile

# How a factory's reports name who reported them, but for the factory's id.
FACTORY_ACTOR = factory_actor("")


@dataclass(frozen=True)
class StageFigures:
    factory_id: uuid.UUID
    from_milestone: str
    to_milestone: str
    count: int
    median_seconds: int
    p90_seconds: int
    max_seconds: int


@dataclass(frozen=True)
class FactoryFigures:
    factory_id: uuid.UUID
    name: str
    promised: int
    kept: int
    late_now: int
    late_events: int

    @property
    def on_time_rate(self) -> float | None:
        return self.kept / self.promised if self.promised else None


@dataclass(frozen=True)
class DeliveryReport:
    period: Period
    stages: list[StageFigures]
    factories: list[FactoryFigures]


def delivery_report(
    session: Session,
    chain_id: uuid.UUID,
    *,
    start: date | None = None,
    end: date | None = None,
    factory_id: uuid.UUID | None = None,
    dealer_id: uuid.UUID | None = None,
    now: datetime | None = None,
) -> DeliveryReport:
    now = now or utcnow()
    check_organisations(session, chain_id, factory_id, dealer_id)
    period = period_of(session, chain_id, start, end, now)
    days = _stage_days(session, chain_id, period, factory_id, dealer_id)
    stages = [
        StageFigures(
            factory, left, reached, figures.count,
            # Within 1 % of the exact, but never above the longest, which is exact.
            min(round(quantile(figures.histogram, 0.5)), figures.seconds_max),
            min(round(quantile(figures.histogram, 0.9)), figures.seconds_max),
            figures.seconds_max,
        )
        for (factory, left, reached), figures in days.items()
    ]  # fmt: skip
    late_now = _late_now(session, chain_id, now, factory_id, dealer_id)
    late_events = _late_events(session, chain_id, period, factory_id, dealer_id)
    promised: dict[uuid.UUID, list[int]] = defaultdict(lambda: [0, 0])
    for (factory, _, _), figures in days.items():
        promised[factory][0] += figures.promised
        promised[factory][1] += figures.kept
    ids = set(promised) | set(late_now) | set(late_events)
    names = dict(
        session.execute(
            select(Organisation.id, Organisation.name).where(Organisation.id.in_(ids))
        ).all()
    )
    factories = [
        FactoryFigures(
            factory, names[factory], promised[factory][0], promised[factory][1],
            late_now.get(factory, 0), late_events.get(factory, 0),
        )
        for factory in ids
    ]  # fmt: skip
    factories.sort(key=lambda f: (f.name, str(f.factory_id)))
    order = {f.factory_id: n for n, f in enumerate(factories)}
    stages.sort(key=lambda s: (order[s.factory_id], RANK[s.from_milestone], RANK[s.to_milestone]))
    return DeliveryReport(period, stages, factories)


def check_organisations(session, chain_id, factory_id, dealer_id) -> None:
    errors = FieldErrors()
    for field, id_, kind in (
        ("factory_id", factory_id, "factory"),
        ("dealer_id", dealer_id, "dealer"),
    ):
        if id_ is None:
            continue
        organisation = session.get(Organisation, id_)
        if organisation is None or organisation.chain_id != chain_id:
            errors.add(field, f"No such {kind} in this chain.")
        elif organisation.kind != kind:
            errors.add(field, f"Not a {kind}.")
    errors.raise_any()


def _stage_days(
    session: Session,
    chain_id: uuid.UUID,
    period: Period,
    factory_id: uuid.UUID | None,
    dealer_id: uuid.UUID | None,
) -> dict[tuple, DayFigures]:
    """Each stage's figures, summed: from the spans alone for a dealer; else from the days
    rolled up, their histograms added bucket by bucket in SQL (a year is some 50,000 rows of
    the chain's days: decoding each in Python would take most of a second), and the spans
    not rolled up yet."""
    # Rows of (stage, bucket or None, count, longest, promised, kept): a bucket's count; a
    # stage's totals; or, with the bucket None and a count of -1, a span of `longest` seconds.
    stage = (StageSpan.factory_id, StageSpan.from_milestone, StageSpan.to_milestone)
    spans = select(
        *stage,
        null().cast(Integer).label("bucket"),
        literal(-1, Integer).label("count"),
        StageSpan.seconds.label("longest"),
        case((StageSpan.promise_kept.is_not(None), 1), else_=0).label("promised"),
        case((StageSpan.promise_kept, 1), else_=0).label("kept"),
    ).where(
        StageSpan.chain_id == chain_id,
        StageSpan.ended_at >= period.since,
        StageSpan.ended_at < period.until,
    )
    if factory_id is not None:
        spans = spans.where(StageSpan.factory_id == factory_id)
    if dealer_id is not None:
        statement = spans.where(StageSpan.dealer_id == dealer_id)
    else:
        in_period = [StageDay.chain_id == chain_id, rollup_rows(period, StageDay)]
        if factory_id is not None:
            in_period.append(StageDay.factory_id == factory_id)
        day_stage = (StageDay.factory_id, StageDay.from_milestone, StageDay.to_milestone)
        totals = (
            select(
                *day_stage,
                null().cast(Integer),
                func.sum(StageDay.count),
                func.max(StageDay.seconds_max),
                func.sum(StageDay.promised),
                func.sum(StageDay.kept),
            )
            .where(*in_period)
            .group_by(*day_stage)
        )
        each = "jsonb_each_text" if session.get_bind().dialect.name == "postgresql" else "json_each"
        bucket = getattr(func, each)(StageDay.histogram).table_valued("key", "value")
        buckets = (
            select(
                *day_stage,
                bucket.c.key.cast(Integer),
                func.sum(bucket.c.value.cast(Integer)),
                literal(0, Integer),
                literal(0, Integer),
                literal(0, Integer),
            )
            .select_from(StageDay)
            .join(bucket, true())
            .where(*in_period)
            .group_by(*day_stage, bucket.c.key)
        )
        # One statement: one snapshot, whatever a rollup commits meanwhile.
        statement = union_all(totals, buckets, spans.where(~StageSpan.rolled))
        if session.get_bind().dialect.name == "postgresql":
            # Its estimate (100 buckets a row) has PostgreSQL compile it, which takes longer
            # than running it.
            session.execute(text("SET LOCAL jit = off"))
    days: dict[tuple, DayFigures] = {}
    for factory, left, reached, index, count, longest, promised, kept in session.execute(statement):
        figures = days.setdefault((factory, left, reached), DayFigures())
        if index is not None:
            figures.histogram[index] += count
        elif count == -1:
            figures.add_span(longest, None if not promised else bool(kept))
        else:  # the totals; the buckets come in their own rows
            figures.add_day(count, longest, {}, promised, kept)
    return days


def _late_now(session, chain_id, now, factory_id, dealer_id) -> dict[uuid.UUID, int]:
    stmt = (
        select(WorkItem.factory_id, func.count())
        .where(
            WorkItem.chain_id == chain_id,
            late_promise(now),
        )
        .group_by(WorkItem.factory_id)
    )
    if factory_id is not None:
        stmt = stmt.where(WorkItem.factory_id == factory_id)
    if dealer_id is not None:
        stmt = stmt.join(Order, Order.id == WorkItem.order_id).where(Order.dealer_id == dealer_id)
    return dict(session.execute(stmt).all())


def _late_events(session, chain_id, period, factory_id, dealer_id) -> dict[uuid.UUID, int]:
    # By who reported them ("factory:<id>"): no join to the work items, which would have the
    # planner read all of them for a year's few late reports.
    stmt = (
        select(TimelineEntry.actor, func.count())
        .where(
            TimelineEntry.chain_id == chain_id,
            # The bare column: what ix_timeline_entries_late is built on.
            TimelineEntry.late,
            TimelineEntry.created_at >= period.since,
            TimelineEntry.created_at < period.until,
            TimelineEntry.actor.startswith(FACTORY_ACTOR, autoescape=True)
            if factory_id is None
            else TimelineEntry.actor == factory_actor(factory_id),
        )
        .group_by(TimelineEntry.actor)
    )
    if dealer_id is not None:
        stmt = stmt.join(Order, Order.id == TimelineEntry.order_id).where(
            Order.dealer_id == dealer_id
        )
    return {
        uuid.UUID(actor.removeprefix(FACTORY_ACTOR)): count
        for actor, count in session.execute(stmt)
    }
