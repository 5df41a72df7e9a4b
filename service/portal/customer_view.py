"""What the customer sees through their link: their orders as steps per work item, with a
plain notice when one is late, and their delivery group's latest messages. Nothing of any
other customer: everything here is read from the one customer the link opened."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.customers.models import Customer
from service.db import utcnow
from service.groups.groups import group_of_customer
from service.groups.models import DeliveryGroup, Message
from service.orders.models import Order, WorkItem
from service.portal.orders import is_late
from service.progress.milestones import RANK

MESSAGES_SHOWN = 50


@dataclass(frozen=True)
class ItemProgress:
    description: str
    milestone: str
    reached: int  # how many of MILESTONES it has reached (1 for `received`)
    eta: datetime | None
    late: bool  # its ETA has passed and it is not done


@dataclass(frozen=True)
class OrderProgress:
    reference: str
    milestone: str
    created_at: datetime
    items: list[ItemProgress]


@dataclass(frozen=True)
class CustomerView:
    customer: Customer
    orders: list[OrderProgress]
    group: DeliveryGroup | None
    messages: list[Message]  # oldest first, the latest MESSAGES_SHOWN


def customer_view(session: Session, customer: Customer, *, now: datetime | None = None):
    now = now or utcnow()
    orders = session.scalars(
        select(Order)
        .where(Order.chain_id == customer.chain_id, Order.customer_id == customer.id)
        .order_by(Order.id.desc())
    ).all()
    items = session.scalars(
        select(WorkItem)
        .where(WorkItem.order_id.in_([order.id for order in orders]))
        .order_by(WorkItem.order_id, WorkItem.position)
    ).all()
    by_order: dict = {}
    for item in items:
        by_order.setdefault(item.order_id, []).append(
            ItemProgress(
                item.description,
                item.milestone,
                RANK[item.milestone] + 1,
                item.eta,
                is_late(item, now),
            )
        )
    group = group_of_customer(session, customer.id)
    messages = []
    if group is not None:
        latest = session.scalars(
            select(Message)
            .where(Message.group_id == group.id)
            .order_by(Message.id.desc())
            .limit(MESSAGES_SHOWN)
        ).all()
        messages = list(reversed(latest))
    return CustomerView(
        customer,
        [
            OrderProgress(o.reference, o.milestone, o.created_at, by_order.get(o.id, []))
            for o in orders
        ],
        group,
        messages,
    )
