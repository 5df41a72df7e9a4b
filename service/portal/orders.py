"""The portal's orders: listed with filters and shown with their work items' timelines,
always within what the reader may see (service.portal.access)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from service.chain.models import Organisation
from service.customers.models import Customer
from service.db import utcnow
from service.errors import DomainError, Invalid
from service.groups.groups import group_of_customer
from service.orders.lateness import is_late, late
from service.orders.models import Order, WorkItem
from service.orders.orders import set_installation, timeline
from service.pagination import Page, paginate
from service.portal.access import Reader, get_visible, may_write, orders_visible
from service.progress.milestones import RANK
from service.progress.models import TimelineEntry


def list_orders(
    session: Session,
    reader: Reader,
    *,
    milestone: str | None = None,
    factory_id: uuid.UUID | None = None,
    late_only: bool = False,
    customer_id: uuid.UUID | None = None,
    cursor: str | None = None,
    limit: int = 50,
    now: datetime | None = None,
) -> Page:
    """The reader's orders, newest first, narrowed by the filters given."""
    stmt = select(Order).where(orders_visible(reader))
    if milestone:
        if milestone not in RANK:
            raise Invalid.field("milestone", "Unknown milestone.")
        stmt = stmt.where(Order.milestone == milestone)
    if customer_id:
        stmt = stmt.where(Order.customer_id == customer_id)
    if factory_id:
        stmt = stmt.where(
            exists().where(WorkItem.order_id == Order.id, WorkItem.factory_id == factory_id)
        )
    if late_only:
        stmt = stmt.where(exists().where(WorkItem.order_id == Order.id, late(now or utcnow())))
    return paginate(session, stmt, Order.id, cursor=cursor, limit=limit, newest_first=True)


def late_orders(session: Session, order_ids: list[uuid.UUID], now: datetime) -> set[uuid.UUID]:
    """Which of these orders have a late work item: one query for a page."""
    if not order_ids:
        return set()
    stmt = select(WorkItem.order_id).where(WorkItem.order_id.in_(order_ids), late(now))
    return set(session.scalars(stmt.distinct()))


def customers_of(session: Session, orders: list[Order]) -> dict[uuid.UUID, Customer]:
    ids = {order.customer_id for order in orders}
    if not ids:
        return {}
    return {c.id: c for c in session.scalars(select(Customer).where(Customer.id.in_(ids)))}


def factories_of_reader(session: Session, reader: Reader) -> list[Organisation]:
    """The factories that make something in the reader's orders: the factory filter's
    choices, never a factory the reader has no business with."""
    made = (
        select(WorkItem.factory_id)
        .join(Order, Order.id == WorkItem.order_id)
        .where(orders_visible(reader))
    )
    return list(
        session.scalars(
            select(Organisation).where(Organisation.id.in_(made)).order_by(Organisation.name)
        )
    )


@dataclass(frozen=True)
class ItemView:
    item: WorkItem
    factory: Organisation
    events: list[TimelineEntry]  # this item's, oldest first: reports and promise changes
    late: bool
    promise: datetime | None  # the date promised: its own, else the order's


@dataclass(frozen=True)
class OrderPage:
    order: Order
    customer: Customer
    items: list[ItemView]
    events: list[TimelineEntry]  # the order's own (not an item's), oldest first
    now: datetime


def order_page(
    session: Session, reader: Reader, order_id: uuid.UUID, *, now: datetime | None = None
) -> OrderPage:
    now = now or utcnow()
    order = get_visible(session, reader, Order, order_id)
    entries = sorted(timeline(session, order.id), key=lambda e: (e.occurred_at, e.id))
    factory_ids = {item.factory_id for item in order.items}
    factories = {
        f.id: f
        for f in session.scalars(select(Organisation).where(Organisation.id.in_(factory_ids)))
    }
    items = [
        ItemView(
            item=item,
            factory=factories[item.factory_id],
            events=[e for e in entries if e.work_item_id == item.id],
            late=is_late(item, now),
            promise=item.promised_at,
        )
        for item in order.items
    ]
    return OrderPage(
        order=order,
        customer=session.get(Customer, order.customer_id),
        items=items,
        events=[e for e in entries if e.work_item_id is None],
        now=now,
    )


class ReadOnly(DomainError):
    """The reader may see the order but not change it (the brand's people, unseated)."""

    status = 403
    code = "read_only"


def may_change(session: Session, reader: Reader, order: Order) -> bool:
    """Whether `reader` may book the order's installation: whoever may write in its
    customer's group (service.portal.access.may_write)."""
    group = group_of_customer(session, order.customer_id)
    return group is not None and may_write(session, reader, group)


def set_installation_as(
    session: Session,
    reader: Reader,
    order_id: uuid.UUID,
    installation_at: datetime | None,
    *,
    now: datetime | None = None,
) -> Order:
    order = get_visible(session, reader, Order, order_id)
    if not may_change(session, reader, order):
        raise ReadOnly("You may read this order but not change it.")
    return set_installation(
        session,
        chain_id=reader.chain_id,
        order_id=order.id,
        installation_at=installation_at,
        now=now,
    )
