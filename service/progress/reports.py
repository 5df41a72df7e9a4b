"""A factory's webhook delivery recorded: every event in one transaction, or none, and its
webhook-id claimed by the first timeline entry it writes (see TimelineEntry), so a retry is
answered as the first delivery was and writes nothing."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import String, Uuid, any_, bindparam, or_, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from service.errors import Invalid
from service.orders.models import WorkItem
from service.progress.models import TimelineEntry
from service.progress.recording import (
    FieldName,
    Locked,
    Report,
    field_of_one_report,
    judge,
    lock_work_items,
)
from service.progress.writing import apply_claimed

# A factory's work items named by our ids or by its own references. On PostgreSQL as
# `= ANY(:array)`: the statement reads the same for any number of references, so psycopg
# prepares it once, where an expanding IN list is rendered again for every request.
_FACTORY_ITEMS = {
    "postgresql": (WorkItem.factory_id == bindparam("factory_id"))
    & or_(
        WorkItem.id == any_(bindparam("ids", type_=ARRAY(Uuid))),
        WorkItem.factory_reference == any_(bindparam("refs", type_=ARRAY(String))),
    ),
    "sqlite": (WorkItem.factory_id == bindparam("factory_id"))
    & or_(
        WorkItem.id.in_(bindparam("ids", expanding=True)),
        WorkItem.factory_reference.in_(bindparam("refs", expanding=True)),
    ),
}


@dataclass(frozen=True)
class Event:
    work_item: str  # our work item id, or the factory's own reference
    milestone: str
    occurred_at: datetime | None = None
    note: str = ""
    eta: datetime | None = None


def factory_actor(factory_id: uuid.UUID) -> str:
    """Who a factory's timeline entries say reported them; with the webhook-id, the claim's key."""
    return f"factory:{factory_id}"


def earlier_answer(session: Session, factory_id: uuid.UUID, webhook_id: str) -> dict | None:
    """The answer given to the first delivery of this webhook-id, if there was one."""
    return session.scalar(
        select(TimelineEntry.answer).where(
            TimelineEntry.actor == factory_actor(factory_id),
            TimelineEntry.webhook_id == webhook_id,
        )
    )


def _as_uuid(ref: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(ref)
    except ValueError:
        return None


def _field_of_event(index: int, name: str) -> str:
    return f"events[{index}].{name}"


def _resolve(
    locked: Locked, factory_id: uuid.UUID, events: list[Event], field_name: FieldName
) -> list[Report]:
    """Each event's work item among those locked, by our id or the factory's reference.
    Another factory's work item is answered like an unknown one: nothing to learn there."""
    by_reference = {
        item.factory_reference: item.id
        for item in locked.items.values()
        if item.factory_id == factory_id and item.factory_reference is not None
    }
    reports = []
    for i, event in enumerate(events):
        item = locked.items.get(_as_uuid(event.work_item))
        item_id = item.id if item is not None and item.factory_id == factory_id else None
        item_id = item_id or by_reference.get(event.work_item)
        if item_id is None:
            raise Invalid.field(field_name(i, "work_item"), "No such work item of this factory.")
        reports.append(Report(item_id, event.milestone, event.occurred_at, event.note, event.eta))
    return reports


def record_report(
    session: Session,
    *,
    factory_id: uuid.UUID,
    webhook_id: str,
    events: list[Event],
    batch: bool = False,
) -> tuple[dict, bool]:
    """Record every event of one delivery and return (answer, new). A delivery whose
    webhook-id was seen before changes nothing and returns the first answer."""
    refs = {event.work_item for event in events}
    locked = lock_work_items(
        session,
        _FACTORY_ITEMS[session.get_bind().dialect.name],
        factory_id=factory_id,
        ids=[ref for ref in map(_as_uuid, refs) if ref],
        refs=list(refs),
    )
    field_name = _field_of_event if batch else field_of_one_report
    plan = judge(
        locked,
        _resolve(locked, factory_id, events, field_name),
        actor=factory_actor(factory_id),
        field_name=field_name,
    )
    results = [
        {"work_item": str(step.work_item_id), "milestone": step.milestone, "moved": step.moved}
        for step in plan.steps
    ]
    answer = {"accepted": len(results), "results": results}
    # The webhook-id is claimed by the first entry, and the rest written only if the claim
    # holds: of two deliveries racing with one id, the second waited on the orders' locks
    # above, or on the claim's unique index when they name other orders, and finds the id
    # taken.
    first, *rest = plan.timeline
    claim = {**first, "webhook_id": webhook_id, "answer": answer}
    if not apply_claimed(session, replace(plan, timeline=rest), claim):
        return earlier_answer(session, factory_id, webhook_id), False
    return answer, True
