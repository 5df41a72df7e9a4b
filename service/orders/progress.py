"""Progress: a work item reaches a milestone. Used by the brand API and, later, by factories'
signed webhooks; both call record_progress inside their one transaction."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.db import utcnow
from service.errors import Invalid, no_such
from service.groups.groups import group_of_customer
from service.groups.messages import post_system_message
from service.groups.models import Message
from service.orders.milestones import LABELS, RANK, order_milestone
from service.orders.models import Order, TimelineEntry, WorkItem
from service.outbox.outbox import emit


@dataclass(frozen=True)
class Progress:
    work_item: WorkItem
    moved: bool  # False for a late or repeated report: recorded, nothing else changes
    order_milestone_changed: bool
    notification: Message | None


def get_work_item(
    session: Session, chain_id: uuid.UUID, work_item_id: uuid.UUID, *, field: str | None = None
) -> WorkItem:
    item = session.get(WorkItem, work_item_id)
    if item is None or item.chain_id != chain_id:
        raise no_such("work item", field=field)
    return item


def record_progress(
    session: Session,
    *,
    work_item: WorkItem,
    milestone: str,
    actor: str,
    occurred_at: datetime | None = None,
    note: str = "",
    eta: datetime | None = None,
    order_locked: bool = False,
) -> Progress:
    """Record that `work_item` reached `milestone`. Reports arrive out of order: one behind
    what we know (an earlier milestone, or the same one again) goes in the timeline as
    late and changes nothing else, so the milestone never moves back and the customer
    hears of each step once. The order's row lock is taken first (by the caller when it
    passes order_locked, having locked several orders in one order)."""
    if milestone not in RANK:
        raise Invalid.field("milestone", f"Unknown milestone; one of {', '.join(RANK)}.")
    occurred_at = occurred_at or utcnow()
    if not order_locked:
        # Writers of an order's items hold its lock; judge against the item as it is now.
        session.get(Order, work_item.order_id, with_for_update=True)
        session.refresh(work_item)
    moved = RANK[milestone] > RANK[work_item.milestone]
    entry = TimelineEntry(
        chain_id=work_item.chain_id,
        order_id=work_item.order_id,
        work_item_id=work_item.id,
        milestone=milestone,
        actor=actor,
        occurred_at=occurred_at,
        note=note,
        eta=eta,
        late=not moved,
    )
    session.add(entry)
    if not moved:
        session.flush()
        return Progress(work_item, False, False, None)

    work_item.milestone, work_item.milestone_at = milestone, occurred_at
    if eta is not None:
        work_item.eta = eta
    order = session.get(Order, work_item.order_id)  # locked above, or by the caller
    session.flush()
    items = session.scalars(select(WorkItem.milestone).where(WorkItem.order_id == order.id)).all()
    new_order_milestone = order_milestone(list(items))
    order_changed = new_order_milestone != order.milestone
    order.updated_at = utcnow()
    if order_changed:
        order.milestone = new_order_milestone
        session.add(
            TimelineEntry(
                chain_id=order.chain_id,
                order_id=order.id,
                milestone=new_order_milestone,
                actor="system",
                occurred_at=occurred_at,
            )
        )
    notification = _notify(session, order, work_item, note=note, eta=eta)
    emit(
        session,
        chain_id=order.chain_id,
        topic="milestone.changed",
        payload={
            "order_id": str(order.id),
            "work_item_id": str(work_item.id),
            "milestone": milestone,
            "order_milestone": order.milestone,
            "occurred_at": occurred_at.isoformat(),
        },
    )
    session.flush()
    return Progress(work_item, True, order_changed, notification)


def _notify(
    session: Session, order: Order, item: WorkItem, *, note: str, eta: datetime | None
) -> Message | None:
    group = group_of_customer(session, order.customer_id)
    if group is None:
        return None
    text = f"Order {order.reference}: {item.description} — {LABELS[item.milestone]}."
    if eta is not None:
        text += f" Expected {eta:%Y-%m-%d}."
    if note:
        text += f" {note}"
    return post_system_message(
        session,
        group=group,
        kind="notification",
        text=text,
        payload={
            "order_id": str(order.id),
            "order_reference": order.reference,
            "work_item_id": str(item.id),
            "milestone": item.milestone,
            "order_milestone": order.milestone,
            "eta": eta.isoformat() if eta else None,
        },
    )
