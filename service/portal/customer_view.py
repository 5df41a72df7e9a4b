"""What the customer sees through their link: their orders as steps per work item, with a
plain notice when one is late, and their delivery group's messages (the latest, then each
new one). Nothing of any other customer: everything here is read from the one customer the
link opened; and nothing meant for the staff alone (whether moderation flagged a message)."""

from __future__ import annotations

import dataclasses
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from service.customers.models import Customer
from service.db import utcnow
from service.groups.groups import group_of_customer
from service.groups.models import DeliveryGroup, Message
from service.orders.lateness import is_late
from service.orders.models import Order, WorkItem
from service.portal.groups import Line, lines_of
from service.progress.milestones import RANK

MESSAGES_SHOWN = 50


@dataclass(frozen=True)
class ItemProgress:
    description: str
    milestone: str
    reached: int  # how many of MILESTONES it has reached (1 for `received`)
    eta: datetime | None
    late: bool  # its ETA has passed and it is not done
    promise: datetime | None = None  # the date promised: the item's own, else its order's


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
    messages: list[Line]  # oldest first, the latest MESSAGES_SHOWN


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
                item.promised_at,
            )
        )
    group = group_of_customer(session, customer.id)
    messages = []
    if group is not None:
        latest = session.scalars(
            select(Message)
            .where(Message.group_id == group.id)
            .options(selectinload(Message.attachments))
            .order_by(Message.id.desc())
            .limit(MESSAGES_SHOWN)
        ).all()
        messages = _customer_lines(session, group, reversed(latest))
    return CustomerView(
        customer,
        [
            OrderProgress(o.reference, o.milestone, o.created_at, by_order.get(o.id, []))
            for o in orders
        ],
        group,
        messages,
    )


def _customer_lines(session: Session, group: DeliveryGroup, messages) -> list[Line]:
    # Moderation's flags are for the staff: the customer sees the message, not the flag.
    return [
        dataclasses.replace(line, flagged=False, flag_reason=None)
        for line in lines_of(session, group, list(messages), mine=lambda m: m.sender == "customer")
    ]


def customer_messages_after(
    session: Session, group: DeliveryGroup, after: uuid.UUID | None, *, limit: int = 100
) -> list[Line]:
    """The group's messages after position `after` (all of them when None), oldest first, as
    the customer sees them."""
    stmt = select(Message).where(Message.group_id == group.id)
    stmt = stmt.options(selectinload(Message.attachments))
    if after is not None:
        stmt = stmt.where(Message.id > after)
    return _customer_lines(session, group, session.scalars(stmt.order_by(Message.id).limit(limit)))
