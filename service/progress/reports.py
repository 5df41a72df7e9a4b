"""Recording a factory's progress report: every event in one transaction, or none."""

from __future__ import annotations

import contextlib
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from service.chain.models import Organisation
from service.db import new_id, utcnow
from service.errors import Invalid
from service.orders.models import Order, WorkItem
from service.orders.progress import record_progress
from service.progress.models import ProgressReport

# INSERT … ON CONFLICT DO NOTHING, which both databases have.
_INSERTS = {"postgresql": postgresql_insert, "sqlite": sqlite_insert}


@dataclass(frozen=True)
class Event:
    work_item: str  # our work item id, or the factory's own reference
    milestone: str
    occurred_at: datetime | None = None
    note: str = ""
    eta: datetime | None = None


def earlier_answer(session: Session, factory_id: uuid.UUID, webhook_id: str) -> dict | None:
    """The answer given to the first delivery of this webhook-id, if there was one."""
    return session.scalar(
        select(ProgressReport.answer).where(
            ProgressReport.factory_id == factory_id, ProgressReport.webhook_id == webhook_id
        )
    )


def _work_item(session: Session, factory: Organisation, ref: str, field: str) -> WorkItem:
    item = None
    with contextlib.suppress(ValueError):
        item = session.get(WorkItem, uuid.UUID(ref))
    if item is None:
        item = session.scalar(
            select(WorkItem).where(
                WorkItem.factory_id == factory.id, WorkItem.factory_reference == ref
            )
        )
    # Another factory's work item is answered like an unknown one: nothing to learn here.
    if item is None or item.factory_id != factory.id:
        raise Invalid.field(field, "No such work item of this factory.")
    return item


def record_report(
    session: Session,
    *,
    factory: Organisation,
    webhook_id: str,
    events: list[Event],
    batch: bool = False,
) -> tuple[dict, bool]:
    """Record every event of one delivery and return (answer, new). A delivery whose
    webhook-id was seen before changes nothing and returns the first answer."""
    # Claim the webhook-id before anything else, in one statement: of two deliveries racing
    # with one id, the second waits on the first's row and then finds it taken, having done
    # nothing.
    insert = _INSERTS[session.get_bind().dialect.name]
    report_id = session.scalar(
        insert(ProgressReport)
        .values(
            id=new_id(),
            chain_id=factory.chain_id,
            factory_id=factory.id,
            webhook_id=webhook_id,
            events=len(events),
            answer={},
            received_at=utcnow(),
        )
        .on_conflict_do_nothing(index_elements=["factory_id", "webhook_id"])
        .returning(ProgressReport.id)
    )
    if report_id is None:
        return earlier_answer(session, factory.id, webhook_id), False
    items = [
        _work_item(
            session, factory, event.work_item, f"events[{i}].work_item" if batch else "work_item"
        )
        for i, event in enumerate(events)
    ]
    # Lock every order concerned up front, in one order: two reports naming the same orders
    # in a different order then wait for each other instead of deadlocking.
    session.execute(
        select(Order.id)
        .where(Order.id.in_({item.order_id for item in items}))
        .order_by(Order.id)
        .with_for_update()
    )
    # Read the items again under those locks: a report committed while we waited may have
    # moved them on, and a milestone must be judged against what is now known.
    session.scalars(
        select(WorkItem)
        .where(WorkItem.id.in_({item.id for item in items}))
        .execution_options(populate_existing=True)
    ).all()
    results = []
    for item, event in zip(items, events, strict=True):
        progress = record_progress(
            session,
            work_item=item,
            milestone=event.milestone,
            actor=f"factory:{factory.id}",
            occurred_at=event.occurred_at,
            note=event.note,
            eta=event.eta,
            order_locked=True,
        )
        results.append(
            {"work_item": str(item.id), "milestone": event.milestone, "moved": progress.moved}
        )
    answer = {"accepted": len(results), "results": results}
    session.execute(
        update(ProgressReport).where(ProgressReport.id == report_id).values(answer=answer)
    )
    return answer, True
