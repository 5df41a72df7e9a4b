from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import JSON, BigInteger, Date, ForeignKey, String
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from service.db import Base


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
