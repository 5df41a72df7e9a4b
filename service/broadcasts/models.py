from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from service.db import Base, UTCDateTime, new_id, utcnow


class Broadcast(Base):
    __tablename__ = "broadcasts"
    __table_args__ = (Index("ix_broadcasts_chain_id", "chain_id", "id"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    chain_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("chains.id"))
    text: Mapped[str] = mapped_column(Text)
    # Who it was for: {"tag": …} | {"dealer_id": …} | {"all": true}.
    audience: Mapped[dict] = mapped_column(JSON)
    sent: Mapped[int] = mapped_column(Integer, default=0)
    skipped_by_quota: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class BroadcastRecipient(Base):
    """A customer a broadcast reached (message_id set) or skipped by quota (NULL). The quota
    counts a customer's rows with a message in one month of the chain's calendar."""

    __tablename__ = "broadcast_recipients"
    __table_args__ = (
        Index("ix_broadcast_recipients_customer_month", "customer_id", "month"),
        Index("ix_broadcast_recipients_broadcast_id", "broadcast_id", "id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    chain_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("chains.id"))
    broadcast_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("broadcasts.id"))
    customer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("customers.id"))
    group_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("delivery_groups.id"))
    month: Mapped[str] = mapped_column(String(7))  # "2026-11", in the chain's time zone
    message_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("messages.id"))
