"""Attaching a checked upload to a message, and finding an attachment for whoever may open it."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.attachments.checks import THUMBNAIL_SIDE, Checked
from service.attachments.files import FileStore
from service.attachments.models import Attachment
from service.customers.models import Customer
from service.errors import NotFound
from service.groups.models import DeliveryGroup, Message


def attach(
    session: Session,
    store: FileStore,
    *,
    message: Message,
    checked: Checked,
    uploaded_by_member_id: uuid.UUID | None,
    link: Callable[[uuid.UUID], str],
) -> Attachment:
    """Keep `checked` as the attachment of `message`. Its files are in place when this
    returns; if the transaction then does not commit, the caller calls store.discard(id).
    `link` is the attachment's download address, which the channels are sent."""
    original = thumbnail = None
    attachment_id = uuid.uuid4()
    try:
        original = store.write_temporary(checked.data)
        if checked.thumbnail is not None:
            thumbnail = store.write_temporary(checked.thumbnail)
        attachment = Attachment(
            id=attachment_id,
            chain_id=message.chain_id,
            group_id=message.group_id,
            message_id=message.id,
            kind=checked.kind,
            content_type=checked.content_type,
            file_name=checked.file_name,
            size=checked.size,
            sha256=checked.sha256,
            width=checked.width,
            height=checked.height,
            uploaded_by_member_id=uploaded_by_member_id,
        )
        session.add(attachment)
        # What the channels are sent with the message (they cannot ask the database).
        message.payload = {
            **(message.payload or {}),
            "attachments": [
                {
                    "id": str(attachment.id),
                    "kind": checked.kind,
                    "name": checked.file_name,
                    "size": checked.size,
                    "url": link(attachment.id),
                }
            ],
        }
        session.flush()
        store.place(original, store.original(attachment_id))
        if thumbnail is not None:
            store.place(thumbnail, store.thumbnail(attachment_id))
    except BaseException:
        store.drop(original)
        store.drop(thumbnail)
        store.discard(attachment_id)
        raise
    return attachment


def known_ids(session: Session, ids: list[uuid.UUID]) -> set[uuid.UUID]:
    """Which of `ids` are attachments' (for sweeping files without a row)."""
    return set(session.scalars(select(Attachment.id).where(Attachment.id.in_(ids))))


def attachment_of_customer(
    session: Session, customer: Customer, attachment_id: uuid.UUID
) -> Attachment:
    """An attachment in this customer's own group; NotFound for any other."""
    found = session.scalar(
        select(Attachment)
        .join(DeliveryGroup, DeliveryGroup.id == Attachment.group_id)
        .where(
            Attachment.id == attachment_id,
            DeliveryGroup.chain_id == customer.chain_id,
            DeliveryGroup.customer_id == customer.id,
        )
    )
    if found is None:
        raise NotFound("No such attachment.")
    return found


@dataclass(frozen=True)
class Shown:
    """An attachment as a page shows it (read before the page's session is closed)."""

    id: uuid.UUID
    kind: str
    file_name: str
    size: int
    width: int | None
    height: int | None

    @property
    def thumbnail_size(self) -> tuple[int, int] | None:
        """The thumbnail's width and height (so that a page keeps its place while it loads)."""
        if not self.width or not self.height:
            return None
        scale = min(1, THUMBNAIL_SIDE / max(self.width, self.height))
        return max(1, round(self.width * scale)), max(1, round(self.height * scale))

    @classmethod
    def of(cls, attachment: Attachment) -> Shown:
        a = attachment
        return cls(a.id, a.kind, a.file_name, a.size, a.width, a.height)
