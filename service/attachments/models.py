from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, Integer, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from service.db import Base, UTCDateTime, utcnow


class Attachment(Base):
    """A photo or a PDF in a message. Its id is the only handle on it (its file on disk is
    named by it), and a random one: unlike other rows' time-ordered ids, nothing about it
    can be guessed from another attachment's."""

    __tablename__ = "attachments"
    __table_args__ = (
        Index("ix_attachments_message_id", "message_id"),
        Index("ix_attachments_group_id", "group_id", "id"),
        CheckConstraint("kind IN ('image', 'pdf')", name="kind"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    chain_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("chains.id"))
    group_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("delivery_groups.id"))
    message_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("messages.id"))
    kind: Mapped[str] = mapped_column(String(8))
    # Read from the content's first bytes, never taken from the client.
    content_type: Mapped[str] = mapped_column(String(40))
    file_name: Mapped[str] = mapped_column(String(200))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    # None: the customer, through their link.
    uploaded_by_member_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("members.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
