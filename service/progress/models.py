from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text, Uuid, text
from sqlalchemy.orm import Mapped, mapped_column

from service.db import Base, UTCDateTime, new_id, utcnow
from service.progress.milestones import MILESTONE_IN


class TimelineEntry(Base):
    """One change of a work item's or an order's milestone, or a report that changed nothing
    (late: behind what we already knew); or, of kind "promise", a change of the date promised
    to the customer (`promised_at`, None: withdrawn), its reason in `note`, at the milestone
    it was then at.

    It is also the factories' report log: the first entry a webhook delivery writes claims its
    webhook-id, unique per factory (its actor), and keeps the answer the delivery was given, so
    a retry gets that answer again and writes nothing. A row of its own per delivery would say
    again what this entry says."""

    __tablename__ = "timeline_entries"
    __table_args__ = (
        CheckConstraint(MILESTONE_IN, name="milestone"),
        Index("ix_timeline_entries_order_id", "order_id", "id"),
        # One entry a delivery, none for the rest: the index holds only the claims.
        Index(
            "uq_timeline_entries_webhook_id",
            "actor",
            "webhook_id",
            unique=True,
            sqlite_where=text("webhook_id IS NOT NULL"),
            postgresql_where=text("webhook_id IS NOT NULL"),
        ),
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
    # "milestone" or "promise" (see above).
    kind: Mapped[str] = mapped_column(String(16), default="milestone", server_default="milestone")
    promised_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Set on a webhook delivery's first entry only (see above).
    webhook_id: Mapped[str | None] = mapped_column(String(200))
    answer: Mapped[dict | None] = mapped_column(JSON(none_as_null=True), deferred=True)
