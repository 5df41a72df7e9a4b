from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, String, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from service.db import Base, UTCDateTime, new_id, utcnow


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
