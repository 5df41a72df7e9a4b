"""Messages of a delivery group: from a member, from the customer, or from the system."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import datetime

from sqlalchemy import Uuid, case, literal, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from service.db import utcnow
from service.errors import Invalid, Reason
from service.groups.models import DeliveryGroup, GroupMember, GroupTemplate, Message
from service.groups.moderation import auto_reply, judge
from service.notify.outbox import announce
from service.pagination import Page, decode_cursor, paginate
from service.reports.tallies import tally_message

MAX_TEXT = 4000
SENDERS = ("member", "customer")


def _published(session: Session, message: Message) -> Message:
    # A message is its own outbox entry (not yet planned): the drain is woken at commit.
    session.add(message)
    session.flush()
    announce(session, group_id=message.group_id)
    return message


def post_system_message(
    session: Session, *, group: DeliveryGroup, kind: str, text: str, payload: dict | None = None
) -> Message:
    """A message the system posts: the welcome, a notification, an auto-reply, a notice."""
    return _published(
        session,
        Message(
            chain_id=group.chain_id,
            group_id=group.id,
            sender="system",
            kind=kind,
            text=text[:MAX_TEXT],
            payload=payload,
        ),
    )


def post_message(
    session: Session,
    *,
    group: DeliveryGroup,
    text: str,
    sender: str,
    sender_member_id: uuid.UUID | None = None,
    client_message_id: str | None = None,
    with_attachment: bool = False,
    written_at: datetime | None = None,
) -> tuple[list[Message], bool]:
    """Post a member's or the customer's message. Returns the messages stored (the message,
    then any auto-reply it triggered) and whether they are new: the same client_message_id
    posted again returns what the first post stored. A message `with_attachment` (attached
    by the caller once it is stored) may have no text. `written_at` is now unless the
    message is one of a story told after the fact (the demo's)."""
    if client_message_id:
        existing = _by_client_id(session, group.id, client_message_id)
        if existing is not None:
            return _with_reply(session, existing), False
    text = (text or "").strip()
    if not text and not with_attachment:
        raise Invalid.field("text", "Must not be blank.")
    if len(text) > MAX_TEXT:
        raise Invalid.field("text", Reason("At most {count} characters.", count=MAX_TEXT))
    if sender not in SENDERS:
        raise Invalid.field("sender", "Must be 'member' or 'customer'.")
    if sender == "member":
        _check_seated(session, group, sender_member_id)
    else:
        sender_member_id = None
    template = session.get(GroupTemplate, group.template_id)
    verdict = judge(template, text)
    if verdict.action == "block":
        raise Invalid(
            "The message was not posted: " + verdict.reason,
            details={"fields": {"text": [verdict.reason]}},
            code="message_blocked",
        )
    message = Message(
        chain_id=group.chain_id,
        group_id=group.id,
        sender=sender,
        sender_member_id=sender_member_id,
        kind="text",
        text=text,
        client_message_id=client_message_id,
        flagged=verdict.action == "warn",
        flag_reason=verdict.reason,
        created_at=written_at or utcnow(),
    )
    try:
        # Two posts racing with one client_message_id: the loser returns the winner's.
        with session.begin_nested():
            _published(session, message)
    except IntegrityError:
        return _with_reply(session, _by_client_id(session, group.id, client_message_id)), False
    if sender == "customer":
        _keep_customers_ends(session, group, message.id)
    tally_message(session, group, message)
    stored = [message]
    reply = auto_reply(template, text) if text else None
    if reply:
        stored.append(
            post_system_message(
                session,
                group=group,
                kind="auto_reply",
                text=reply,
                payload={"in_reply_to": str(message.id)},
            )
        )
    return stored, True


def _keep_customers_ends(session: Session, group: DeliveryGroup, message_id: uuid.UUID) -> None:
    """The customer's first and latest message on their group. In SQL, against the row as it
    is when locked: of two messages posted at once, the later commit may hold the earlier id."""
    first, last = DeliveryGroup.first_customer_message_id, DeliveryGroup.last_customer_message_id
    new = literal(message_id, Uuid())
    session.execute(
        update(DeliveryGroup)
        .where(DeliveryGroup.id == group.id)
        .values(
            first_customer_message_id=case((or_(first.is_(None), first > new), new), else_=first),
            last_customer_message_id=case((or_(last.is_(None), last < new), new), else_=last),
        )
        .execution_options(synchronize_session=False)
    )
    if group in session:  # a caller may pass a group read by another session
        session.expire(group, ["first_customer_message_id", "last_customer_message_id"])


def _check_seated(session: Session, group: DeliveryGroup, member_id: uuid.UUID | None) -> None:
    if member_id is None:
        raise Invalid.field("sender_member_id", "Required when the sender is a member.")
    seated = session.scalar(
        select(GroupMember.id).where(
            GroupMember.group_id == group.id, GroupMember.member_id == member_id
        )
    )
    if seated is None:
        raise Invalid.field("sender_member_id", "Not a member of this group.")


def _by_client_id(session: Session, group_id: uuid.UUID, client_message_id: str) -> Message | None:
    return session.scalar(
        select(Message).where(
            Message.group_id == group_id, Message.client_message_id == client_message_id
        )
    )


def _with_reply(session: Session, message: Message) -> list[Message]:
    reply = session.scalar(
        select(Message)
        .where(
            Message.group_id == message.group_id,
            Message.kind == "auto_reply",
            Message.id > message.id,
        )
        .order_by(Message.id)
        .limit(1)
    )
    if reply is not None and (reply.payload or {}).get("in_reply_to") == str(message.id):
        return [message, reply]
    return [message]


def list_messages(
    session: Session,
    *,
    group_id: uuid.UUID,
    cursor: str | None = None,
    since: str | None = None,
    limit: int = 50,
) -> Page:
    """Newest first, paging back with `cursor`; or, with `since` (a cursor or a message's
    position), the messages after it, oldest first, for live updates."""
    stmt = (
        select(Message)
        .where(Message.group_id == group_id)
        .options(selectinload(Message.attachments))
    )
    if since:
        stmt = stmt.where(Message.id > decode_cursor(since, field="since"))
        return paginate(session, stmt, Message.id, cursor=cursor, limit=limit)
    return paginate(session, stmt, Message.id, cursor=cursor, limit=limit, newest_first=True)


def iter_history(
    session: Session,
    *,
    group_ids: list[uuid.UUID] | None = None,
    chain_id: uuid.UUID,
    since: datetime | None = None,
    batch: int = 1000,
) -> Iterator[Message]:
    """Every message, oldest first, read a batch at a time (for archives of any size)."""
    stmt = select(Message).where(Message.chain_id == chain_id)
    if group_ids is not None:
        stmt = stmt.where(Message.group_id.in_(group_ids))
    if since is not None:
        stmt = stmt.where(Message.created_at >= since)
    last = None
    while True:
        page = stmt.where(Message.id > last) if last else stmt
        rows = session.scalars(page.order_by(Message.id).limit(batch)).all()
        yield from rows
        if len(rows) < batch:
            return
        last = rows[-1].id
