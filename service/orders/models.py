from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    Uuid,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from service.db import Base, UTCDateTime, new_id, utcnow
from service.progress.milestones import BEFORE_THE_CUSTOMER_IN, MILESTONE_IN


class Order(Base):
    __tablename__ = "orders"
    __table_args__ = (
        UniqueConstraint("chain_id", "reference"),
        CheckConstraint(MILESTONE_IN, name="milestone"),
        # Keyset pages of a dealer's, a customer's, or a milestone's orders: one range scan each.
        Index("ix_orders_dealer_id", "chain_id", "dealer_id", "id"),
        Index("ix_orders_customer_id", "customer_id", "id"),
        Index("ix_orders_milestone", "chain_id", "milestone", "id"),
        # The installations of a day (service.portal.attention): one range scan.
        Index("ix_orders_installation_at", "chain_id", "installation_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    chain_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("chains.id"))
    customer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("customers.id"))
    dealer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisations.id"))
    reference: Mapped[str] = mapped_column(String(100))
    # SHA-256 of the normalised request: a repeat with the same body is the same order.
    request_hash: Mapped[str] = mapped_column(String(64))
    milestone: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # When the installer is expected at the customer's; None until an appointment is made.
    installation_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The date promised to the customer for the whole order; its items' unless they have
    # their own (service.orders.promises); changes are kept in the timeline.
    promised_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    items: Mapped[list[WorkItem]] = relationship(order_by="WorkItem.position")


class WorkItem(Base):
    __tablename__ = "work_items"
    __table_args__ = (
        CheckConstraint(MILESTONE_IN, name="milestone"),
        CheckConstraint("quantity > 0", name="quantity"),
        # A factory names its work items by its own reference when it reports progress.
        Index(
            "uq_work_items_factory_reference",
            "factory_id",
            "factory_reference",
            unique=True,
            sqlite_where=text("factory_reference IS NOT NULL"),
            postgresql_where=text("factory_reference IS NOT NULL"),
        ),
        Index("ix_work_items_order_id", "order_id", "position"),
        Index("ix_work_items_factory_id", "chain_id", "factory_id", "order_id"),
        # The items late or about to be (service.portal.attention): a range of ETAs.
        Index("ix_work_items_eta", "chain_id", "eta"),
        # And late against the promise: a range of the promises of items not yet with the
        # customer (service.orders.lateness), not of every item ever delivered.
        Index(
            "ix_work_items_open_promise",
            "chain_id",
            "promised_at",
            sqlite_where=text(BEFORE_THE_CUSTOMER_IN),
            postgresql_where=text(BEFORE_THE_CUSTOMER_IN),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    chain_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("chains.id"))
    order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("orders.id"))
    factory_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisations.id"))
    position: Mapped[int] = mapped_column(Integer)
    description: Mapped[str] = mapped_column(String(500))
    quantity: Mapped[int] = mapped_column(Integer)
    factory_reference: Mapped[str | None] = mapped_column(String(100))
    milestone: Mapped[str] = mapped_column(String(32))
    # When the current milestone was reached (as reported), for ordering late reports.
    milestone_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    eta: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The promise that holds for this item: its own (`promise_own`), else a copy of its
    # order's, kept equal by service.orders.promises; one column, so that lateness against
    # it is one index range.
    promised_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    promise_own: Mapped[bool] = mapped_column(default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
