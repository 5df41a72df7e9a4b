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
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from service.attachments.models import Attachment
from service.db import Base, UTCDateTime, new_id, utcnow

DEFAULT_MEMBER_CAP = 500


class GroupTemplate(Base):
    """How a delivery group is made and moderated. A chain has one default template; a
    directory group may have its own, for the dealers placed in it (or below it)."""

    __tablename__ = "group_templates"
    __table_args__ = (
        Index("ix_group_templates_chain_id", "chain_id", "id"),
        # At most one default per chain, and one template per directory group.
        Index(
            "uq_group_templates_default",
            "chain_id",
            unique=True,
            sqlite_where=text("directory_group_id IS NULL"),
            postgresql_where=text("directory_group_id IS NULL"),
        ),
        UniqueConstraint("directory_group_id"),
        CheckConstraint("member_cap BETWEEN 2 AND 500", name="member_cap"),
        CheckConstraint("contact_action IN ('block', 'warn', 'allow')", name="contact_action"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    chain_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("chains.id"))
    directory_group_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("directory_groups.id", ondelete="CASCADE")
    )
    name: Mapped[str] = mapped_column(String(100))
    name_pattern: Mapped[str] = mapped_column(String(200))
    welcome_message: Mapped[str] = mapped_column(Text, default="")
    # Roles of the dealer's members who join every new group ("designer", "installer", ...),
    # besides the customer and their owner, who always have seats ("owner" may be listed).
    member_roles: Mapped[list] = mapped_column(JSON, default=list)
    rename_locked: Mapped[bool] = mapped_column(default=True)
    # [{"keyword": "install", "reply": "Our installer will call you within 24 h"}]
    auto_replies: Mapped[list] = mapped_column(JSON, default=list)
    # [{"word": "...", "action": "block" | "warn"}]
    blocked_words: Mapped[list] = mapped_column(JSON, default=list)
    # What to do with a mobile number or e-mail address in a message (anti-poaching).
    contact_action: Mapped[str] = mapped_column(String(8), default="warn")
    member_cap: Mapped[int] = mapped_column(Integer, default=DEFAULT_MEMBER_CAP)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class DeliveryGroup(Base):
    """The one group chat of one customer."""

    __tablename__ = "delivery_groups"
    __table_args__ = (
        UniqueConstraint("customer_id"),
        Index("ix_delivery_groups_dealer_id", "chain_id", "dealer_id", "id"),
        Index("ix_delivery_groups_owner_member_id", "owner_member_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    chain_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("chains.id"))
    customer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("customers.id"))
    dealer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisations.id"))
    owner_member_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("members.id"))
    template_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("group_templates.id"))
    name: Mapped[str] = mapped_column(String(200))
    rename_locked: Mapped[bool] = mapped_column(default=True)
    member_cap: Mapped[int] = mapped_column(Integer, default=DEFAULT_MEMBER_CAP)
    member_count: Mapped[int] = mapped_column(Integer, default=0)
    # The customer's first and latest message, kept as they write (service.groups.messages):
    # whether a reader has something of theirs unread, and since when, is then a comparison
    # with the reader's mark, not a search of the messages of every group
    # (service.portal.attention). Plain ids, not foreign keys: messages already point here.
    first_customer_message_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    last_customer_message_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class GroupMember(Base):
    """A seat in a delivery group: a chain member, or the customer (member_id None)."""

    __tablename__ = "group_members"
    __table_args__ = (
        UniqueConstraint("group_id", "member_id"),
        Index("ix_group_members_member_id", "member_id"),
        CheckConstraint("role IN ('customer', 'owner', 'member')", name="role"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    group_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("delivery_groups.id"))
    member_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("members.id"))
    role: Mapped[str] = mapped_column(String(16))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Message(Base):
    __tablename__ = "messages"
    __table_args__ = (
        Index("ix_messages_group_id", "group_id", "id"),
        # A group's first customer message after a read mark, without walking past the
        # members' and the system's (service.portal.attention).
        Index("ix_messages_group_sender", "group_id", "sender", "id"),
        # The flagged messages of the last days: few, so a small index of their own.
        Index(
            "ix_messages_flagged",
            "chain_id",
            "created_at",
            sqlite_where=text("flagged = 1"),
            postgresql_where=text("flagged"),
        ),
        # The messages still to put on their group's channels: a message is its own outbox
        # entry (service.notify.planning). Planned ones drop out of this index.
        Index(
            "ix_messages_unplanned",
            "id",
            sqlite_where=text("planned_at IS NULL"),
            postgresql_where=text("planned_at IS NULL"),
        ),
        # Posting the same client_message_id twice stores the message once.
        Index(
            "uq_messages_client_message_id",
            "group_id",
            "client_message_id",
            unique=True,
            sqlite_where=text("client_message_id IS NOT NULL"),
            postgresql_where=text("client_message_id IS NOT NULL"),
        ),
        CheckConstraint("sender IN ('member', 'customer', 'system')", name="sender"),
        CheckConstraint(
            "kind IN ('text', 'welcome', 'notification', 'auto_reply', 'notice', 'broadcast')",
            name="kind",
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    chain_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("chains.id"))
    group_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("delivery_groups.id"))
    sender: Mapped[str] = mapped_column(String(16))
    sender_member_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("members.id"))
    kind: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)
    # Structured content of a notification: {"order_id", "work_item_id", "milestone", ...}.
    payload: Mapped[dict | None] = mapped_column(JSON)
    client_message_id: Mapped[str | None] = mapped_column(String(100))
    flagged: Mapped[bool] = mapped_column(default=False)
    flag_reason: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # When the planner wrote its deliveries; NULL until then (see ix_messages_unplanned).
    planned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Loaded where a page or an answer shows them (selectinload): one query per page.
    attachments: Mapped[list[Attachment]] = relationship(
        Attachment, viewonly=True, order_by=Attachment.created_at
    )


class GroupRead(Base):
    """How far one member has read one delivery group: the last message they have seen there
    (it only moves forward). What comes after it, from the customer, is unread."""

    __tablename__ = "group_reads"
    __table_args__ = (
        UniqueConstraint("member_id", "group_id"),
        Index("ix_group_reads_group_id", "group_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    member_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    group_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("delivery_groups.id", ondelete="CASCADE")
    )
    # Not a foreign key: a message may be archived away, the mark stays a position.
    message_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    read_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
