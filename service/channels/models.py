"""Channels, the messages owed to them (deliveries) and every attempt to push them."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    Uuid,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from service.chain.models import one_of
from service.db import Base, UTCDateTime, new_id, utcnow

CHANNEL_TYPES = ("wecom_robot", "feishu_robot", "dingtalk_robot", "slack", "webhook")
# What the group robots take (WeCom, DingTalk: 20 messages a minute per robot).
DEFAULT_RATE_LIMIT = 20


class ChannelState(StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"  # failing for too long; resumed by the brand
    DISABLED = "disabled"  # the endpoint said it is gone (410)


class DeliveryState(StrEnum):
    PENDING = "pending"  # owed; due_at says when it may go
    SENDING = "sending"  # claimed by a push, under the delivery's own lease
    DELIVERED = "delivered"
    FAILED = "failed"  # given up: the channel is gone or was removed


class HeldFor(StrEnum):
    """Why a pending delivery waits (until its due_at)."""

    QUIET_HOURS = "quiet_hours"
    COALESCING = "coalescing"  # the channel pushed moments ago: the next push ends the window
    RATE_LIMIT = "rate_limit"
    BACKOFF = "backoff"  # a failed push, or an older delivery before it failed


class Channel(Base):
    """An outside place one delivery group's messages are pushed to."""

    __tablename__ = "channels"
    __table_args__ = (
        CheckConstraint(one_of("type", CHANNEL_TYPES), name="type"),
        CheckConstraint(one_of("state", ChannelState), name="state"),
        CheckConstraint("rate_limit_per_minute BETWEEN 1 AND 6000", name="rate_limit"),
        Index("ix_channels_group_id", "group_id", "id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    chain_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("chains.id"))
    group_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("delivery_groups.id"))
    type: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(100), default="")
    url: Mapped[str] = mapped_column(String(2000))
    # Signing secret: DingTalk's SEC…, Feishu's, or our whsec_ for `webhook` channels.
    secret: Mapped[str | None] = mapped_column(String(200))
    # Pushes to channels the customer reads wait out the chain's quiet hours.
    customer_facing: Mapped[bool] = mapped_column(default=True)
    rate_limit_per_minute: Mapped[int] = mapped_column(Integer, default=DEFAULT_RATE_LIMIT)
    state: Mapped[str] = mapped_column(String(16), default=ChannelState.ACTIVE)
    state_reason: Mapped[str | None] = mapped_column(String(300))
    failing_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_pushed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # One push to a channel at a time: its worker holds this lease, committed before the
    # HTTP request, renewed while it is sent and released after. A worker killed mid-push
    # leaves it to expire, within one timeout and a margin.
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lease_token: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Delivery(Base):
    """One message owed to one channel. Unique on the pair, so planning twice owes once."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("channel_id", "message_id"),
        CheckConstraint(one_of("state", DeliveryState), name="state"),
        CheckConstraint(f"held_for IS NULL OR {one_of('held_for', HeldFor)}", name="held_for"),
        # A push takes its channel's owed deliveries in message order; the sweeper looks for
        # overdue ones, and for sends whose lease ran out.
        Index(
            "ix_deliveries_owed",
            "channel_id",
            "message_id",
            sqlite_where=text("state IN ('pending', 'sending')"),
            postgresql_where=text("state IN ('pending', 'sending')"),
        ),
        Index(
            "ix_deliveries_due",
            "due_at",
            sqlite_where=text("state = 'pending'"),
            postgresql_where=text("state = 'pending'"),
        ),
        Index(
            "ix_deliveries_sending",
            "lease_until",
            sqlite_where=text("state = 'sending'"),
            postgresql_where=text("state = 'sending'"),
        ),
        Index("ix_deliveries_channel_id", "channel_id", "id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    chain_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("chains.id"))
    channel_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("channels.id"))
    message_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("messages.id"))
    state: Mapped[str] = mapped_column(String(16), default=DeliveryState.PENDING)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # Bumped by a replay, so the receiver's idempotency key changes and it takes it again.
    replays: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(300))
    # Set when the delivery goes `sending`: the push that claimed it (its token) owns it
    # until then. A send whose worker died is taken again by the next push, or put back by
    # the sweeper, once this lapses: whoever holds the channel by then.
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lease_token: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    # Why a pending delivery waits until due_at (None: it is not held).
    held_for: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def held_until(self) -> datetime | None:
        return self.due_at if self.held_for and self.state == DeliveryState.PENDING else None

    @property
    def key(self) -> str:
        return delivery_key(self.id, self.replays)


def delivery_key(delivery_id: uuid.UUID, replays: int) -> str:
    """The receiver's idempotency key (webhook-id): the same on every retry."""
    return f"msg_{delivery_id.hex}" + (f"_r{replays}" if replays else "")


class DeliveryAttempt(Base):
    """One delivery's part in one push (an HTTP request, or a few for a split text).
    Deliveries coalesced into one push share its push_id."""

    __tablename__ = "delivery_attempts"
    __table_args__ = (
        Index("ix_delivery_attempts_delivery_id", "delivery_id", "id"),
        # The rate limit counts a channel's pushes in the last minute.
        Index("ix_delivery_attempts_channel_started", "channel_id", "started_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    chain_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("chains.id"))
    channel_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("channels.id"))
    delivery_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("deliveries.id"))
    push_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    requests: Mapped[int] = mapped_column(Integer, default=1)
    outcome: Mapped[str] = mapped_column(String(16))
    status_code: Mapped[int | None] = mapped_column(Integer)
    latency_ms: Mapped[int | None] = mapped_column(Integer)
    response_excerpt: Mapped[str] = mapped_column(String(500), default="")
    error: Mapped[str | None] = mapped_column(String(300))
