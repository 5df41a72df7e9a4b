from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from service.db import Base, UTCDateTime, new_id, utcnow


class Customer(Base):
    __tablename__ = "customers"
    __table_args__ = (
        # One customer per mobile in a chain: adding them again finds them.
        UniqueConstraint("chain_id", "mobile"),
        Index("ix_customers_dealer_id", "chain_id", "dealer_id", "id"),
        Index("ix_customers_owner_member_id", "owner_member_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    chain_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("chains.id"))
    dealer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisations.id"))
    owner_member_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("members.id"))
    name: Mapped[str] = mapped_column(String(200))
    mobile: Mapped[str] = mapped_column(String(20))  # E.164, stored whole
    tags: Mapped[list] = mapped_column(JSON, default=list)
    notes: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class AuditEntry(Base):
    """Who did what to whom, for changes that move people's work (handovers, removals)."""

    __tablename__ = "audit_entries"
    __table_args__ = (Index("ix_audit_entries_chain_id", "chain_id", "id"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    chain_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("chains.id"))
    action: Mapped[str] = mapped_column(String(64))
    actor: Mapped[str] = mapped_column(String(100))
    details: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CustomerLink(Base):
    """A private link that opens one customer's view (their orders' progress and their group)
    without an account. The token is shown once and kept only as its SHA-256."""

    __tablename__ = "customer_links"
    __table_args__ = (Index("ix_customer_links_customer_id", "customer_id", "id"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    chain_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("chains.id"))
    customer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("customers.id"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # Who made it: a member through the portal, or None for the brand's API key.
    created_by_member_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("members.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
