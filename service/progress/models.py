from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
    Uuid,
    false,
    text,
)
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
        # The late reports received in a period (the delivery report): few among all entries.
        Index(
            "ix_timeline_entries_late",
            "chain_id",
            "created_at",
            sqlite_where=text("late"),
            postgresql_where=text("late"),
        ),
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


class StageSpan(Base):
    """A stage a work item went through: from reaching one milestone to reaching the next it
    reached (`from_milestone` → `to_milestone`), written with the step that ended it. The
    delivery report's facts (service.reports.delivery), with what it filters by copied in:
    the factory, the dealer, the day it ended.

    `promise_kept` is set on the step that brought the item to the customer (delivered or
    later) while a promise held for it: whether that was by the promised date. `rolled` says
    the span is counted in the report's daily rollup (service.reports.rollup); the report
    reads the rest from here."""

    __tablename__ = "stage_spans"
    __table_args__ = (
        CheckConstraint("seconds >= 0", name="seconds"),
        # A factory's stage, for the items behind a figure; a dealer's, for its own report.
        Index(
            "ix_stage_spans_factory_stage",
            "chain_id",
            "factory_id",
            "from_milestone",
            "to_milestone",
            "ended_at",
        ),
        Index("ix_stage_spans_dealer_id", "chain_id", "dealer_id", "ended_at"),
        # The promises missed in a period (the items behind that figure): few, one hopes.
        Index(
            "ix_stage_spans_missed",
            "chain_id",
            "ended_at",
            sqlite_where=text("NOT promise_kept"),
            postgresql_where=text("NOT promise_kept"),
        ),
        # What the rollup has yet to count: few rows at any time.
        Index(
            "ix_stage_spans_unrolled",
            "chain_id",
            "ended_at",
            sqlite_where=text("NOT rolled"),
            postgresql_where=text("NOT rolled"),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    chain_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("chains.id"))
    factory_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisations.id"))
    dealer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisations.id"))
    work_item_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("work_items.id"))
    from_milestone: Mapped[str] = mapped_column(String(32))
    to_milestone: Mapped[str] = mapped_column(String(32))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime] = mapped_column(UTCDateTime)
    seconds: Mapped[int] = mapped_column(BigInteger)
    promise_kept: Mapped[bool | None] = mapped_column()
    rolled: Mapped[bool] = mapped_column(default=False, server_default=false())
