from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import JSON, BigInteger, Date, ForeignKey, Index, SmallInteger, String, Uuid, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from service.db import Base, UTCDateTime, new_id


class StageDay(Base):
    """A day's or a month's stages of one factory's work items, rolled up from their spans
    (service.progress.models.StageSpan) by service.reports.rollup: how many ended then (in the
    chain's time zone), the longest, and a histogram of their durations
    (service.reports.sketch); and, of the steps that brought an item to the customer while a
    promise held, how many and how many by the promised date.

    Months as well as days: a year's report reads twelve months' rows and the days of the
    months it covers in part, not 365 days' (service.reports.delivery)."""

    __tablename__ = "stage_days"

    chain_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("chains.id"), primary_key=True)
    grain: Mapped[str] = mapped_column(String(5), primary_key=True)  # "day" or "month"
    # The day; for a month, its first day.
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    factory_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisations.id"), primary_key=True)
    from_milestone: Mapped[str] = mapped_column(String(32), primary_key=True)
    to_milestone: Mapped[str] = mapped_column(String(32), primary_key=True)
    count: Mapped[int]
    seconds_max: Mapped[int] = mapped_column(BigInteger)
    # {bucket: count}, JSON's keys being strings; binary on PostgreSQL, which a report reads
    # bucket by bucket (jsonb_each_text) faster than it parses text.
    histogram: Mapped[dict] = mapped_column(JSON().with_variant(JSONB(), "postgresql"))
    promised: Mapped[int]
    kept: Mapped[int]


class ReplyWait(Base):
    """One customer message's wait for an answer, written as they write it and closed by the
    first reply after it (service.reports.tallies): the service report's reply figures are
    counted from these rows, never from the messages (service.reports.conversations). The
    definitions: service.reports.replies.

    The group's dealer and owner are those of when the customer wrote; the durations are kept
    in seconds and as their histogram buckets (service.reports.sketch), so that a report
    counts buckets instead of sorting durations."""

    __tablename__ = "reply_waits"
    __table_args__ = (
        Index("ix_reply_waits_period", "chain_id", "asked_day"),
        Index("ix_reply_waits_dealer", "chain_id", "dealer_id", "asked_day"),
        # The waits a reply closes, and the ones still open: few of either.
        Index(
            "ix_reply_waits_open",
            "group_id",
            sqlite_where=text("answered_at IS NULL"),
            postgresql_where=text("answered_at IS NULL"),
        ),
        Index(
            "ix_reply_waits_unanswered",
            "chain_id",
            "asked_day",
            sqlite_where=text("answered_at IS NULL"),
            postgresql_where=text("answered_at IS NULL"),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    chain_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("chains.id"))
    group_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("delivery_groups.id"))
    dealer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisations.id"))
    owner_member_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("members.id"))
    # Not a foreign key: a message may be archived away, its wait stays counted.
    message_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    asked_at: Mapped[datetime] = mapped_column(UTCDateTime)
    asked_day: Mapped[date] = mapped_column(Date)  # in the chain's time zone
    first: Mapped[bool]  # the first customer message since the last reply
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    answered_by: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    wall_seconds: Mapped[int | None] = mapped_column(BigInteger)
    business_seconds: Mapped[int | None] = mapped_column(BigInteger)
    wall_bucket: Mapped[int | None] = mapped_column(SmallInteger)
    business_bucket: Mapped[int | None] = mapped_column(SmallInteger)
    same_day: Mapped[bool | None]


class WriterDay(Base):
    """How many messages one person wrote in one group on one day (the chain's time zone):
    the customer (`writer` "customer") or a member (their id). Counted as they write; the
    service report's messages, groups with messages and members who wrote are read from
    these rows. The owner is the group's when the day's first message was written."""

    __tablename__ = "writer_days"
    __table_args__ = (Index("ix_writer_days_period", "chain_id", "day"),)

    group_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("delivery_groups.id"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    writer: Mapped[str] = mapped_column(String(36), primary_key=True)
    chain_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("chains.id"))
    dealer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisations.id"))
    owner_member_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("members.id"))
    messages: Mapped[int]


class SeatDay(Base):
    """How many seats were taken in the groups of one dealer's owner on a day, and in its
    month (as StageDay keeps both): the service report's new group members."""

    __tablename__ = "seat_days"

    chain_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("chains.id"), primary_key=True)
    grain: Mapped[str] = mapped_column(String(5), primary_key=True)  # "day" or "month"
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    dealer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisations.id"), primary_key=True)
    owner_member_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("members.id"), primary_key=True)
    seats: Mapped[int]
