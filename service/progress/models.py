from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column

from service.db import Base, UTCDateTime, new_id, utcnow
from service.progress.milestones import MILESTONE_IN


class ProgressReport(Base):
    """One accepted webhook delivery from a factory (one event or a batch). Unique on the
    factory and its webhook-id, so a retried delivery finds the first answer here."""

    __tablename__ = "progress_reports"
    __table_args__ = (UniqueConstraint("factory_id", "webhook_id"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    chain_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("chains.id"))
    factory_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisations.id"))
    webhook_id: Mapped[str] = mapped_column(String(200))
    events: Mapped[int] = mapped_column(Integer)
    answer: Mapped[dict] = mapped_column(JSON)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class TimelineEntry(Base):
    """One change of a work item's or an order's milestone, or a report that changed nothing
    (late: behind what we already knew)."""

    __tablename__ = "timeline_entries"
    __table_args__ = (
        CheckConstraint(MILESTONE_IN, name="milestone"),
        Index("ix_timeline_entries_order_id", "order_id", "id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    chain_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("chains.id"))
    order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("orders.id"))
    # None for the order's own milestone.
    work_item_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("work_items.id"))
    milestone: Mapped[str] = mapped_column(String(32))
    # Who or what reported it: "api", "factory:<id>", "member:<id>", "system".
    actor: Mapped[str] = mapped_column(String(100))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    note: Mapped[str] = mapped_column(Text, default="")
    eta: Mapped[datetime | None] = mapped_column(UTCDateTime)
    late: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
