"""The work items behind a figure of the delivery report (service.reports.delivery), for the
same period and filters."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, null, select
from sqlalchemy.orm import Session

from service.db import utcnow
from service.errors import FieldErrors
from service.orders.lateness import late_promise
from service.orders.models import Order, WorkItem
from service.progress.models import StageSpan, TimelineEntry
from service.reports.delivery import FACTORY_ACTOR, check_organisations
from service.reports.periods import period_of

# The figures whose items can be listed.
BEHIND = ("stage", "missed", "late_now", "late_events")
MAX_BEHIND = 1000


@dataclass(frozen=True)
class BehindItem:
    work_item_id: uuid.UUID
    order_id: uuid.UUID
    reference: str
    description: str
    factory_id: uuid.UUID
    dealer_id: uuid.UUID
    milestone: str  # the milestone the figure is about: the stage's end, the item's, the report's
    at: datetime | None  # when the stage ended, or the late report came
    seconds: int | None  # the stage's duration
    promised_at: datetime | None


def behind(
    session: Session,
    chain_id: uuid.UUID,
    figure: str,
    *,
    start: date | None = None,
    end: date | None = None,
    factory_id: uuid.UUID | None = None,
    dealer_id: uuid.UUID | None = None,
    from_milestone: str | None = None,
    to_milestone: str | None = None,
    limit: int = 100,
    now: datetime | None = None,
) -> tuple[int, list[BehindItem]]:
    """The work items a figure of `delivery_report` counts, for the same filters: (how many,
    the first `limit` of them). See `BEHIND` and the API's description for each figure."""
    now = now or utcnow()
    check_organisations(session, chain_id, factory_id, dealer_id)
    period = period_of(session, chain_id, start, end, now)
    columns = (
        WorkItem.id, WorkItem.order_id, Order.reference, WorkItem.description,
        WorkItem.factory_id, Order.dealer_id,
    )  # fmt: skip
    if figure in ("stage", "missed"):
        stmt = select(*columns, StageSpan.to_milestone, StageSpan.ended_at, StageSpan.seconds,
                      WorkItem.promised_at)  # fmt: skip
        stmt = stmt.select_from(StageSpan).join(WorkItem, WorkItem.id == StageSpan.work_item_id)
        stmt = stmt.where(
            StageSpan.chain_id == chain_id,
            StageSpan.ended_at >= period.since,
            StageSpan.ended_at < period.until,
        )
        if figure == "stage":
            errors = FieldErrors()
            for name, value in (("factory_id", factory_id), ("from_milestone", from_milestone),
                                ("to_milestone", to_milestone)):  # fmt: skip
                if value is None:
                    errors.add(name, "Name the stage: factory_id, from_milestone, to_milestone.")
            errors.raise_any()
            stmt = stmt.where(
                StageSpan.from_milestone == from_milestone, StageSpan.to_milestone == to_milestone
            )
            ordering = (StageSpan.seconds.desc(), StageSpan.id)
        else:
            # The bare negation: what ix_stage_spans_missed is built on.
            stmt = stmt.where(~StageSpan.promise_kept)
            ordering = (StageSpan.ended_at.desc(), StageSpan.id)
        by_factory = StageSpan.factory_id
    elif figure == "late_now":
        stmt = select(*columns, WorkItem.milestone, null(), null(), WorkItem.promised_at).where(
            WorkItem.chain_id == chain_id, late_promise(now)
        )
        ordering = (WorkItem.promised_at, WorkItem.id)
        by_factory = WorkItem.factory_id
    else:  # late_events
        stmt = select(*columns, TimelineEntry.milestone, TimelineEntry.created_at, null(),
                      WorkItem.promised_at)  # fmt: skip
        stmt = stmt.select_from(TimelineEntry).join(
            WorkItem, WorkItem.id == TimelineEntry.work_item_id
        )
        stmt = stmt.where(
            TimelineEntry.chain_id == chain_id,
            TimelineEntry.late,
            TimelineEntry.created_at >= period.since,
            TimelineEntry.created_at < period.until,
            TimelineEntry.actor.startswith(FACTORY_ACTOR, autoescape=True),
        )
        ordering = (TimelineEntry.created_at.desc(), TimelineEntry.id)
        by_factory = WorkItem.factory_id
    stmt = stmt.join(Order, Order.id == WorkItem.order_id)
    if factory_id is not None:
        stmt = stmt.where(by_factory == factory_id)
    if dealer_id is not None:
        stmt = stmt.where(Order.dealer_id == dealer_id)
    total = session.scalar(select(func.count()).select_from(stmt.subquery()))
    rows = session.execute(stmt.order_by(*ordering).limit(limit)).all()
    return total, [BehindItem(*row) for row in rows]
