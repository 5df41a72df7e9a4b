"""The date promised to the customer: for the whole order, or for one work item of its own.

An item's promise is its own when it has one, else its order's. The item keeps the one that
holds in `promised_at` (a copy of its order's unless `promise_own`), so that what is late
against its promise is a range of one index; this module keeps the copies equal. Each change is a
timeline entry of kind "promise" with its reason, at the milestone the order or item was then
at, so that the timeline tells when the customer was promised what. Placing an order with a
promise needs no reason; changing or withdrawing one does."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import update
from sqlalchemy.orm import Session

from service.db import get_in_chain, utcnow
from service.errors import Invalid
from service.orders.dates import plausible_date
from service.orders.models import Order, WorkItem
from service.progress.models import TimelineEntry

MAX_REASON = 1000


def own_promise(item: WorkItem) -> datetime | None:
    """The date promised for this item alone; None when its order's holds."""
    return item.promised_at if item.promise_own else None


def change_promise(
    session: Session,
    *,
    chain_id: uuid.UUID,
    order_id: uuid.UUID,
    work_item_id: uuid.UUID | None = None,
    promised_at: datetime | None,
    reason: str,
    actor: str = "api",
    now: datetime | None = None,
) -> TimelineEntry | None:
    """Promise `promised_at` (None: withdraw the promise) for the order, or for one of its
    work items alone, and keep the change with its reason in the timeline. The same date
    again changes nothing (None is returned). A change needs a reason; a first promise not."""
    now = now or utcnow()
    # The order's row, locked: a milestone reported meanwhile waits, so the entry records
    # the milestone the change was made at.
    session.get(Order, order_id, with_for_update=True)
    order = get_in_chain(session, Order, chain_id, order_id)
    target: Order | WorkItem = order
    if work_item_id is not None:
        target = get_in_chain(session, WorkItem, chain_id, work_item_id, field="work_item_id")
        if target.order_id != order.id:
            raise Invalid.field("work_item_id", "Not a work item of this order.")
    if promised_at is not None:
        promised_at = plausible_date(
            promised_at, placed_at=order.created_at, now=now, field="promised_at"
        )
    reason = (reason or "").strip()
    if len(reason) > MAX_REASON:
        raise Invalid.field("reason", f"At most {MAX_REASON} characters.")
    before = order.promised_at if target is order else own_promise(target)
    if promised_at == before:
        return None
    if before is not None and not reason:
        raise Invalid.field("reason", "Say why the promise changes: the customer will ask.")
    if target is order:
        order.promised_at = promised_at
        session.execute(
            update(WorkItem)
            .where(WorkItem.order_id == order.id, WorkItem.promise_own.is_(False))
            .values(promised_at=promised_at)
            .execution_options(synchronize_session="fetch")
        )
    else:
        target.promise_own = promised_at is not None
        target.promised_at = promised_at if promised_at is not None else order.promised_at
    entry = TimelineEntry(
        chain_id=chain_id,
        order_id=order.id,
        work_item_id=work_item_id,
        kind="promise",
        milestone=target.milestone,
        actor=actor,
        occurred_at=now,
        note=reason,
        promised_at=promised_at,
    )
    session.add(entry)
    session.flush()
    return entry
