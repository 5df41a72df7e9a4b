"""A delivery group as the portal shows it: who sits in it, its messages a page at a time and
those after a position (for live pages), posting and seating as the reader, and unread marks."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from service.attachments.attachments import Shown
from service.chain.models import Member, Organisation
from service.customers.models import Customer
from service.db import utcnow
from service.errors import DomainError
from service.groups.groups import add_group_member
from service.groups.messages import post_message
from service.groups.models import DeliveryGroup, GroupMember, GroupRead, Message
from service.orders.models import Order, WorkItem
from service.pagination import paginate
from service.portal.access import Reader, get_visible, may_write

PAGE_SIZE = 50


class ReadOnly(DomainError):
    """The reader may see the group but not write in it (the brand's people, unseated)."""

    status = 403
    code = "read_only"


@dataclass(frozen=True)
class Seat:
    member_id: uuid.UUID | None  # None: the customer
    name: str
    role: str  # the seat's: customer, owner or member
    member_role: str | None  # the person's in their organisation: designer, installer...
    organisation: str | None


@dataclass(frozen=True)
class Line:
    """One message with its sender's name, ready to show."""

    id: uuid.UUID
    sender: str  # member, customer or system
    kind: str
    sender_name: str | None  # None for the system
    text: str
    created_at: datetime
    flagged: bool
    flag_reason: str | None
    mine: bool
    attachments: tuple[Shown, ...] = ()


def seats_of(session: Session, group: DeliveryGroup) -> list[Seat]:
    """Who sits in the group: the customer first, then the owner, then the others."""
    rows = list(
        session.scalars(
            select(GroupMember).where(GroupMember.group_id == group.id).order_by(GroupMember.id)
        )
    )
    members = {
        member.id: (member, organisation)
        for member, organisation in session.execute(
            select(Member, Organisation.name)
            .join(Organisation, Organisation.id == Member.organisation_id)
            .where(Member.id.in_([r.member_id for r in rows if r.member_id]))
        )
    }
    customer = session.get(Customer, group.customer_id)
    order = {"customer": 0, "owner": 1, "member": 2}
    seats = []
    for row in rows:
        if row.member_id is None:
            seats.append(Seat(None, customer.name, "customer", None, None))
        elif row.member_id in members:
            member, organisation = members[row.member_id]
            seats.append(Seat(member.id, member.name, row.role, member.role, organisation))
    return sorted(seats, key=lambda s: order.get(s.role, 3))


def _lines(session: Session, group: DeliveryGroup, reader: Reader, messages) -> list[Line]:
    return lines_of(session, group, messages, mine=lambda m: m.sender_member_id == reader.member_id)


def lines_of(session: Session, group: DeliveryGroup, messages, *, mine) -> list[Line]:
    """Messages of the group with their senders' names; `mine(message)`: whether the reader
    wrote it."""
    customer_name = session.scalar(select(Customer.name).where(Customer.id == group.customer_id))
    member_ids = {m.sender_member_id for m in messages if m.sender_member_id}
    names = {
        id_: name
        for id_, name in session.execute(
            select(Member.id, Member.name).where(Member.id.in_(member_ids))
        )
    }
    return [
        Line(
            id=m.id,
            sender=m.sender,
            kind=m.kind,
            sender_name=(
                customer_name
                if m.sender == "customer"
                else names.get(m.sender_member_id)
                if m.sender == "member"
                else None
            ),
            text=m.text,
            created_at=m.created_at,
            flagged=m.flagged,
            flag_reason=m.flag_reason,
            mine=mine(m),
            attachments=tuple(Shown.of(a) for a in m.attachments),
        )
        for m in messages
    ]


def message_page(
    session: Session, reader: Reader, group: DeliveryGroup, *, cursor: str | None = None
) -> tuple[list[Line], str | None]:
    """The latest page of messages (or the one before `cursor`), oldest first as they are
    read, and the cursor of the page before it (None at the first message)."""
    stmt = _with_attachments(select(Message).where(Message.group_id == group.id))
    page = paginate(session, stmt, Message.id, cursor=cursor, limit=PAGE_SIZE, newest_first=True)
    return _lines(session, group, reader, list(reversed(page.items))), page.next_cursor


def messages_after(
    session: Session,
    reader: Reader,
    group: DeliveryGroup,
    after: uuid.UUID | None,
    *,
    limit: int = 100,
) -> list[Line]:
    """The messages after position `after` (all of them when None), oldest first."""
    stmt = _with_attachments(select(Message).where(Message.group_id == group.id))
    if after is not None:
        stmt = stmt.where(Message.id > after)
    messages = list(session.scalars(stmt.order_by(Message.id).limit(limit)))
    return _lines(session, group, reader, messages)


def _with_attachments(stmt):
    return stmt.options(selectinload(Message.attachments))


def last_message_id(session: Session, group: DeliveryGroup) -> uuid.UUID | None:
    # Not max(): PostgreSQL has no max of uuid. The index on (group_id, id) answers this.
    return session.scalar(
        select(Message.id).where(Message.group_id == group.id).order_by(Message.id.desc()).limit(1)
    )


def post_as_reader(
    session: Session,
    reader: Reader,
    group: DeliveryGroup,
    *,
    text: str,
    client_message_id: str | None,
    with_attachment: bool = False,
) -> tuple[list[Message], bool]:
    """Post a message as the reader, moderated as through the API. A dealer administrator who
    has no seat yet takes one by posting: the customer sees who answers."""
    if not may_write(session, reader, group):
        raise ReadOnly("You may read this group but not post in it.")
    seated = session.scalar(
        select(GroupMember.id).where(
            GroupMember.group_id == group.id, GroupMember.member_id == reader.member_id
        )
    )
    if seated is None:
        add_group_member(
            session, chain_id=group.chain_id, group_id=group.id, member_id=reader.member_id
        )
    return post_message(
        session,
        group=group,
        text=text,
        sender="member",
        sender_member_id=reader.member_id,
        client_message_id=client_message_id,
        with_attachment=with_attachment,
    )


def seatable(session: Session, reader: Reader, group: DeliveryGroup) -> list[Member]:
    """Whom the reader may seat: the dealer's own people and the people of the factories
    making the customer's orders, who have no seat yet. (Other dealers' people, where a
    visibility rule allows it, are seated through the API.)"""
    if not may_write(session, reader, group):
        return []
    seated = select(GroupMember.member_id).where(
        GroupMember.group_id == group.id, GroupMember.member_id.is_not(None)
    )
    factories = select(WorkItem.factory_id).where(
        WorkItem.chain_id == group.chain_id,
        WorkItem.order_id.in_(_orders_of(group)),
    )
    return list(
        session.scalars(
            select(Member)
            .join(Organisation, Organisation.id == Member.organisation_id)
            .where(
                Member.chain_id == group.chain_id,
                Member.removed_at.is_(None),
                or_(
                    Member.organisation_id == group.dealer_id,
                    Member.organisation_id.in_(factories),
                ),
                Member.id.not_in(seated),
            )
            .order_by(Organisation.kind, Organisation.name, Member.name, Member.id)
            .limit(200)
        )
    )


def _orders_of(group: DeliveryGroup):
    return select(Order.id).where(
        Order.chain_id == group.chain_id, Order.customer_id == group.customer_id
    )


def seat(session: Session, reader: Reader, group: DeliveryGroup, member_id: uuid.UUID) -> None:
    """Seat a member in the group, by the API's rules (the cap, who may join)."""
    if not may_write(session, reader, group):
        raise ReadOnly("You may read this group but not seat anyone in it.")
    add_group_member(session, chain_id=group.chain_id, group_id=group.id, member_id=member_id)


def mark_read(
    session: Session, reader: Reader, group: DeliveryGroup, message_id: uuid.UUID | None
) -> None:
    """The reader has seen the group up to `message_id` (a message of this group); a mark
    never moves back, so a late request from an older tab changes nothing."""
    if message_id is None:
        return
    if (
        session.scalar(
            select(Message.id).where(Message.id == message_id, Message.group_id == group.id)
        )
        is None
    ):
        return
    moved = session.execute(
        update(GroupRead)
        .where(
            GroupRead.member_id == reader.member_id,
            GroupRead.group_id == group.id,
            GroupRead.message_id < message_id,
        )
        .values(message_id=message_id, read_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    if moved:
        return
    exists = session.scalar(
        select(GroupRead.id).where(
            GroupRead.member_id == reader.member_id, GroupRead.group_id == group.id
        )
    )
    if exists is not None:
        return  # already at or past it
    try:
        # Two tabs marking at once: the second insert loses and the first one's mark stands
        # (both are the latest message, or near enough to be read again next time).
        with session.begin_nested():
            session.add(
                GroupRead(member_id=reader.member_id, group_id=group.id, message_id=message_id)
            )
    except IntegrityError:
        pass


def open_group(session: Session, reader: Reader, group_id: uuid.UUID) -> DeliveryGroup:
    """The group if the reader may open it; NotFound otherwise."""
    return get_visible(session, reader, DeliveryGroup, group_id)
